// End-to-end tests of a declared domain: a real cqrsd serving the shipped
// domains/library.yaml, on the backend named by CQRSD_TEST_BACKEND. Writes of
// whole aggregates, the views and their collections, the lists and their
// filters, and X-Min-Seq. Refused requests are in e2e_library_errors;
// restart, SIGTERM and the API's description in e2e_library_lifecycle.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "fixtures/library_process.hpp"

using namespace cqrs::test;
using namespace cqrs::test::library;

namespace {

std::string two_digits(int n) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%02d", n);
  return buf;
}

struct short_wait_fixture : fixture {
  short_wait_fixture()
      : fixture(cqrsd_process::overrides{{"query.min_seq_timeout_ms", "300"}}) {
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(e2e_library)

// -- writes -------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(aggregates_are_created_replaced_and_deleted_whole,
                        fixture) {
  auto r = make_base();
  BOOST_TEST(last_seq == 8, "eight writes from seq 1 on");

  BOOST_TEST_MESSAGE("POST a book with its copies and their loans");
  auto before = db.row_counts();
  auto gynt = create("/books", book("Peer Gynt", "978-82-1", "paperback", 12.5,
                                    true, r.ibsen,
                                    {copy("P-2", r.harbour,
                                          {loan(r.ada, "2026-03-01", false),
                                           loan(r.bob, "2026-01-15", true),
                                           loan(r.ada, "2026-01-15", false)}),
                                     copy("P-1", r.central)}));
  auto counts = db.row_counts();
  BOOST_TEST(counts["book"] == before["book"] + 1);
  BOOST_TEST(counts["copy"] == before["copy"] + 2);
  BOOST_TEST(counts["loan"] == before["loan"] + 3);
  BOOST_TEST(db.max_seq() == last_seq, "one commit for the whole aggregate");

  auto view = read(path("/books", gynt));
  BOOST_TEST_REQUIRE(view["copies"].size() == 2u, view.dump());
  BOOST_TEST_MESSAGE("copies come by id, in array order; loans by due_on, "
                     "ties by id");
  const auto& c0 = view["copies"][0];
  const auto& c1 = view["copies"][1];
  BOOST_TEST(c0["barcode"] == "P-2");
  BOOST_TEST(c1["barcode"] == "P-1");
  BOOST_TEST_REQUIRE(c0["loans"].size() == 3u, view.dump());
  auto l = ids(c0["loans"]);
  // Inserted in array order: 03-01 first, then Bob's 01-15, then Ada's.
  BOOST_TEST((l[2] < l[0] && l[0] < l[1]), view.dump());
  auto copy0 = c0["id"].get<int64_t>();
  auto copy1 = c1["id"].get<int64_t>();
  BOOST_TEST(copy0 < copy1);
  ordered_json expected = {{"id", gynt},
                           {"title", "Peer Gynt"},
                           {"isbn", "978-82-1"},
                           {"format", "paperback"},
                           {"price", 12.5},
                           {"in_print", true},
                           {"author_id", r.ibsen},
                           {"author", "Henrik Ibsen"},
                           {"country", "Norway"},
                           {"copies",
                            {{{"id", copy0},
                              {"barcode", "P-2"},
                              {"branch", "Harbour"},
                              {"loans",
                               {{{"id", l[0]},
                                 {"member", "Bob"},
                                 {"due_on", "2026-01-15"},
                                 {"returned", true}},
                                {{"id", l[1]},
                                 {"member", "Ada"},
                                 {"due_on", "2026-01-15"},
                                 {"returned", false}},
                                {{"id", l[2]},
                                 {"member", "Ada"},
                                 {"due_on", "2026-03-01"},
                                 {"returned", false}}}}},
                             {{"id", copy1},
                              {"barcode", "P-1"},
                              {"branch", "Central"},
                              {"loans", ordered_json::array()}}}}};
  check_json(view, expected);
  check_json(read(path("/copies", copy0)), {{"id", copy0},
                                            {"barcode", "P-2"},
                                            {"book_id", gynt},
                                            {"title", "Peer Gynt"},
                                            {"branch_id", r.harbour},
                                            {"branch", "Harbour"}});

  BOOST_TEST_MESSAGE("PUT replaces the copies: new rows in array order, the "
                     "old barcodes reused, the book's own isbn kept");
  replace("/books", gynt,
          book("Peer Gynt (2nd ed.)", "978-82-1", "hardcover", 20.25, false,
               r.ibsen,
               {copy("P-1", r.harbour,
                     json::array({loan(r.bob, "2026-02-01", false)})),
                copy("P-3", r.central), copy("P-2", r.central)}));
  counts = db.row_counts();
  BOOST_TEST(counts["book"] == before["book"] + 1);
  BOOST_TEST(counts["copy"] == before["copy"] + 3);
  BOOST_TEST(counts["loan"] == before["loan"] + 1);
  view = read(path("/books", gynt));
  BOOST_TEST(view["title"] == "Peer Gynt (2nd ed.)");
  BOOST_TEST(view["format"] == "hardcover");
  BOOST_TEST(view["price"] == 20.25);
  BOOST_TEST(view["in_print"] == false);
  BOOST_TEST_REQUIRE(view["copies"].size() == 3u, view.dump());
  std::vector<std::string> barcodes;
  for (const auto& c : view["copies"]) {
    barcodes.push_back(c["barcode"].get<std::string>());
    BOOST_TEST(c["id"].get<int64_t>() > copy1, "a replaced row keeps its id");
  }
  BOOST_TEST((barcodes == std::vector<std::string>{"P-1", "P-3", "P-2"}));
  BOOST_TEST(view["copies"][0]["loans"].size() == 1u);
  BOOST_TEST(view["copies"][0]["loans"][0]["member"] == "Bob");
  read_missing(path("/copies", copy0));
  read_missing(path("/copies", copy1));
  for (auto id : l)
    read_missing(path("/loans", id));
  auto listed = read("/copies?book_id=" + std::to_string(gynt));
  BOOST_TEST(ids(listed["items"]) == ids(view["copies"]),
             boost::test_tools::per_element());

  BOOST_TEST_MESSAGE("PUT keeps the owned single card's id; a left-out "
                     "optional field becomes null");
  auto card = select_id("SELECT id FROM card WHERE member_id = " +
                        std::to_string(r.ada));
  replace("/members", r.ada,
          member("Ada L.", "ada@example.org", std::nullopt, "C0000009"));
  BOOST_TEST(select_id("SELECT id FROM card WHERE member_id = " +
                       std::to_string(r.ada)) == card);
  BOOST_TEST(db.row_counts()["card"] == counts["card"]);
  auto ada = read(path("/members", r.ada));
  BOOST_TEST(ada["card"] == "C0000009");
  BOOST_TEST(ada["home_branch_id"].is_null(), ada.dump());
  BOOST_TEST(ada["home_branch"].is_null(), ada.dump());
  replace("/authors", r.ibsen, author("Henrik Ibsen", r.norway));
  BOOST_TEST(read(path("/authors", r.ibsen))["born"].is_null());
  BOOST_TEST_MESSAGE("a PUT may keep its own unique values");
  replace("/members", r.ada,
          member("Ada", "ada@example.org", r.harbour, "C0000009"));
  replace("/countries", r.norway, country("NO", "Norge"));
  BOOST_TEST(read(path("/books", gynt))["country"] == "Norge");

  BOOST_TEST_MESSAGE("DELETE removes the book, its copies and their loans");
  auto last_copies = ids(view["copies"]);
  auto last_loan = view["copies"][0]["loans"][0]["id"].get<int64_t>();
  remove("/books", gynt);
  counts = db.row_counts();
  BOOST_TEST(counts["book"] == before["book"]);
  BOOST_TEST(counts["copy"] == before["copy"]);
  BOOST_TEST(counts["loan"] == before["loan"]);
  read_missing(path("/books", gynt));
  for (auto id : last_copies)
    read_missing(path("/copies", id));
  read_missing(path("/loans", last_loan));
  BOOST_TEST(
      read("/loans?member_id=" + std::to_string(r.bob))["items"].empty());

  BOOST_TEST_MESSAGE("DELETE of a member removes its card; new ids are new");
  remove("/members", r.bob);
  BOOST_TEST(db.row_counts()["card"] == counts["card"] - 1);
  read_missing(path("/members", r.bob));
  auto again = create(
      "/members", member("Bob", "bob@example.org", std::nullopt, "C0000002"));
  BOOST_TEST(again > r.bob, "ids are never reused");
  BOOST_TEST(db.max_seq() == last_seq);
  BOOST_TEST(db.row_counts()["commit_log"] == last_seq);
}

// -- views --------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(views_follow_their_fields_joins_and_collections,
                        fixture) {
  auto r = make_base();

  BOOST_TEST_MESSAGE("keys in the order of `fields`; null for an optional "
                     "column and for a left join that found nothing");
  check_json(read(path("/countries", r.norway)),
             {{"id", r.norway}, {"code", "NO"}, {"name", "Norway"}});
  check_json(read(path("/authors", r.woolf)),
             {{"id", r.woolf},
              {"name", "Virginia Woolf"},
              {"born", nullptr},
              {"country_id", r.britain},
              {"country", "United Kingdom"},
              {"books", ordered_json::array()}});
  check_json(read(path("/members", r.bob)), {{"id", r.bob},
                                             {"name", "Bob"},
                                             {"email", "bob@example.org"},
                                             {"card", "C0000002"},
                                             {"home_branch_id", nullptr},
                                             {"home_branch", nullptr},
                                             {"loans", ordered_json::array()}});
  check_json(read(path("/members", r.ada)), {{"id", r.ada},
                                             {"name", "Ada"},
                                             {"email", "ada@example.org"},
                                             {"card", "C0000001"},
                                             {"home_branch_id", r.central},
                                             {"home_branch", "Central"},
                                             {"loans", ordered_json::array()}});

  BOOST_TEST_MESSAGE("a collection ordered by text sorts by code point");
  std::vector<std::string> titles{"apple", "Zebra", "\xC3\x84pfel", "Banana",
                                  "Orlando"};
  int n = 0;
  for (const auto& title : titles) {
    auto isbn = "w-" + std::to_string(n);
    json copies = json::array();
    if (n == 0)
      copies = {copy("b-2", r.central), copy("B-10", r.central),
                copy("a-1", r.central), copy("x-1", r.harbour)};
    create("/books", book(title, isbn, "ebook", 3.5, true, r.woolf, copies));
    ++n;
  }
  auto woolf = read(path("/authors", r.woolf));
  std::vector<std::string> seen;
  for (const auto& b : woolf["books"]) {
    seen.push_back(b["title"].get<std::string>());
    BOOST_TEST((keys(b) == std::vector<std::string>{"id", "title", "isbn"}));
  }
  BOOST_TEST((seen == std::vector<std::string>{"Banana", "Orlando", "Zebra",
                                               "apple", "\xC3\x84pfel"}),
             woolf.dump());
  auto central = read(path("/branches", r.central));
  BOOST_TEST((keys(central) ==
              std::vector<std::string>{"id", "name", "city", "copies"}));
  seen.clear();
  for (const auto& c : central["copies"]) {
    seen.push_back(c["barcode"].get<std::string>());
    BOOST_TEST(c["title"] == "apple");
  }
  BOOST_TEST((seen == std::vector<std::string>{"B-10", "a-1", "b-2"}),
             central.dump());

  BOOST_TEST_MESSAGE("102 loans of one member: the first 100 by due_on, ties "
                     "by id");
  // Loan j of each copy is due on due(j): descending in j, equal across
  // copies, so that order_by and its tie-break both matter.
  auto due = [](int j) {
    return "2026-" + two_digits(1 + (33 - j) / 28) + "-" +
           two_digits(1 + (33 - j) % 28);
  };
  json copies = json::array();
  for (int c = 0; c < 3; ++c) {
    json loans = json::array();
    for (int j = 0; j < 34; ++j)
      loans.push_back(loan(r.ada, due(j), j % 2 == 0));
    copies.push_back(copy("L-" + std::to_string(c), r.harbour, loans));
  }
  auto ledger = create("/books", book("Ledger", "l-1", "hardcover", 99.5, true,
                                      r.ibsen, copies));
  auto book_view = read(path("/books", ledger));
  BOOST_TEST_REQUIRE(book_view["copies"].size() == 3u);
  std::vector<std::tuple<std::string, int64_t, std::string>> all; // due,id,bc
  for (const auto& c : book_view["copies"]) {
    BOOST_TEST_REQUIRE(c["loans"].size() == 34u);
    int64_t previous = 0;
    for (int j = 33; j >= 0; --j) { // ascending due_on: j descending
      const auto& x = c["loans"][33 - j];
      BOOST_TEST(x["due_on"] == due(j));
      BOOST_TEST(x["returned"] == (j % 2 == 0));
      auto id = x["id"].get<int64_t>();
      if (previous != 0)
        BOOST_TEST(id < previous, "loans are inserted in array order");
      previous = id;
      all.emplace_back(due(j), id, c["barcode"].get<std::string>());
    }
  }
  std::sort(all.begin(), all.end());
  auto ada = read(path("/members", r.ada));
  BOOST_TEST_REQUIRE(ada["loans"].size() == 100u, "the default limit is 100");
  for (size_t i = 0; i < 100; ++i) {
    const auto& x = ada["loans"][i];
    BOOST_TEST_CONTEXT("loan " << i) {
      BOOST_TEST((keys(x) == std::vector<std::string>{"id", "title", "barcode",
                                                      "due_on", "returned"}));
      BOOST_TEST(x["id"] == std::get<1>(all[i]));
      BOOST_TEST(x["due_on"] == std::get<0>(all[i]));
      BOOST_TEST(x["barcode"] == std::get<2>(all[i]));
      BOOST_TEST(x["title"] == "Ledger");
    }
  }
  int64_t first_copy = 0;
  for (const auto& c : book_view["copies"])
    if (c["barcode"] == std::get<2>(all[0]))
      first_copy = c["id"].get<int64_t>();
  check_json(read(path("/loans", std::get<1>(all[0]))),
             {{"id", std::get<1>(all[0])},
              {"due_on", std::get<0>(all[0])},
              {"returned", ada["loans"][0]["returned"]},
              {"copy_id", first_copy},
              {"barcode", std::get<2>(all[0])},
              {"title", "Ledger"},
              {"member_id", r.ada},
              {"member", "Ada"}});
}

// -- lists --------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(lists_page_and_filter, fixture) {
  auto r = make_base();
  BOOST_TEST_MESSAGE("101 books by Ibsen, 6 by Woolf");
  const std::vector<std::string> formats{"hardcover", "paperback", "ebook"};
  struct listed_book {
    int64_t id;
    int64_t author;
    std::string title;
    std::string format;
    bool in_print;
  };
  std::vector<listed_book> books;
  for (int i = 0; i < 107; ++i) {
    auto by = i % 18 == 5 ? r.woolf : r.ibsen;
    // Title order is the reverse of id order.
    auto title = "Book " + std::to_string(300 - i);
    const auto& format = formats[i % 3];
    bool in_print = i % 4 != 0;
    auto id = create("/books", book(title, "isbn-" + std::to_string(i), format,
                                    1.5 + i, in_print, by));
    books.push_back({id, by, title, format, in_print});
  }
  auto expect = [&](auto keep) {
    std::vector<int64_t> result;
    for (const auto& b : books)
      if (keep(b))
        result.push_back(b.id);
    return result;
  };
  auto all = expect([](const listed_book&) { return true; });

  BOOST_TEST_MESSAGE("the default page holds 50 items, each its view");
  auto page = read("/books");
  BOOST_TEST_REQUIRE(page["items"].size() == 50u);
  BOOST_TEST(page["next_after"] == all[49]);
  for (const auto& item : page["items"])
    check_json(item, read(path("/books", item["id"].get<int64_t>())));
  page = read("/books?after=" + std::to_string(all[49]) + "&limit=500");
  BOOST_TEST(page["items"].size() == 57u);
  BOOST_TEST(page["next_after"].is_null());
  page = read("/books?limit=1");
  BOOST_TEST(ids(page["items"]) == std::vector<int64_t>{all[0]});
  BOOST_TEST(page["next_after"] == all[0]);
  check_json(read("/books?after=" + std::to_string(all.back())),
             {{"items", ordered_json::array()}, {"next_after", nullptr}});
  check_json(read("/books?author_id=999999"),
             {{"items", ordered_json::array()}, {"next_after", nullptr}});

  BOOST_TEST_MESSAGE("pages of 7 visit every book once; each filter");
  BOOST_TEST(walk("/books", 7) == all, boost::test_tools::per_element());
  auto woolf =
      expect([&](const listed_book& b) { return b.author == r.woolf; });
  BOOST_TEST(woolf.size() == 6u);
  BOOST_TEST(walk("/books?author_id=" + std::to_string(r.woolf), 4) == woolf,
             boost::test_tools::per_element());
  BOOST_TEST_MESSAGE("... country_id, through the joined author");
  BOOST_TEST(walk("/books?country_id=" + std::to_string(r.britain), 5) == woolf,
             boost::test_tools::per_element());
  BOOST_TEST(
      walk("/books?format=ebook", 10) ==
          expect([](const listed_book& b) { return b.format == "ebook"; }),
      boost::test_tools::per_element());
  BOOST_TEST(walk("/books?in_print=false", 10) ==
                 expect([](const listed_book& b) { return !b.in_print; }),
             boost::test_tools::per_element());
  BOOST_TEST(walk("/books?in_print=true&format=hardcover&author_id=" +
                      std::to_string(r.ibsen),
                  9) == expect([&](const listed_book& b) {
               return b.in_print && b.format == "hardcover" &&
                      b.author == r.ibsen;
             }),
             boost::test_tools::per_element());

  BOOST_TEST_MESSAGE("a collection returns its first `limit` rows");
  std::vector<std::pair<std::string, int64_t>> by_title;
  for (const auto& b : books)
    if (b.author == r.ibsen)
      by_title.emplace_back(b.title, b.id);
  std::sort(by_title.begin(), by_title.end());
  auto ibsen = read(path("/authors", r.ibsen));
  BOOST_TEST_REQUIRE(ibsen["books"].size() == 100u);
  for (size_t i = 0; i < 100; ++i)
    BOOST_TEST(ibsen["books"][i]["id"] == by_title[i].second);

  BOOST_TEST_MESSAGE("the lists of the other views and their filters");
  auto cy =
      create("/members", member("Cy", "cy@example.org", r.harbour, "C0000003"));
  BOOST_TEST(walk("/members", 2) == (std::vector<int64_t>{r.ada, r.bob, cy}),
             boost::test_tools::per_element());
  BOOST_TEST(walk("/members?home_branch_id=" + std::to_string(r.central), 2) ==
             std::vector<int64_t>{r.ada});
  BOOST_TEST(walk("/authors?country_id=" + std::to_string(r.norway), 1) ==
             std::vector<int64_t>{r.ibsen});
  BOOST_TEST(walk("/branches?city=Bergen", 1) ==
             std::vector<int64_t>{r.harbour});
  auto orlando = create(
      "/books", book("Orlando", "978-0-15", "paperback", 9.5, true, r.woolf,
                     {copy("O-1", r.central,
                           {loan(r.ada, "2026-05-01", true),
                            loan(r.bob, "2026-05-02", false)}),
                      copy("O-2", r.harbour)}));
  auto copies = ids(read(path("/books", orlando))["copies"]);
  BOOST_TEST_REQUIRE(copies.size() == 2u);
  BOOST_TEST(walk("/copies?book_id=" + std::to_string(orlando), 1) == copies);
  BOOST_TEST(walk("/copies?branch_id=" + std::to_string(r.harbour) +
                      "&book_id=" + std::to_string(orlando),
                  5) == std::vector<int64_t>{copies[1]});
  auto loans =
      read("/loans?member_id=" + std::to_string(r.ada) + "&returned=true");
  BOOST_TEST_REQUIRE(loans["items"].size() == 1u, loans.dump());
  BOOST_TEST(loans["items"][0]["due_on"] == "2026-05-01");
  BOOST_TEST(loans["items"][0]["copy_id"] == copies[0]);

  BOOST_TEST_MESSAGE("moving the joined author moves its books between "
                     "country lists");
  replace("/authors", r.woolf, author("Virginia Woolf", r.norway));
  BOOST_TEST(
      walk("/books?country_id=" + std::to_string(r.britain), 50).empty());
  BOOST_TEST(
      walk("/books?country_id=" + std::to_string(r.norway), 500).size() ==
      all.size() + 1);

  BOOST_TEST(db.max_seq() == last_seq);
}

// -- freshness ----------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(reads_honour_x_min_seq, short_wait_fixture) {
  auto r = make_base();
  auto id = create("/books", book("Ghosts", "g-1", "ebook", 5.5, true, r.ibsen,
                                  json::array({copy("G-1", r.central)})));
  auto copy_id = read(path("/books", id))["copies"][0]["id"].get<int64_t>();
  auto by_author = "/books?author_id=" + std::to_string(r.ibsen);
  BOOST_TEST_MESSAGE("each read with X-Min-Seq sees the write just "
                     "acknowledged, through caches");
  for (int i = 0; i < 10; ++i) {
    auto title = "Ghosts " + std::to_string(i);
    replace("/books", id,
            book(title, "g-1", "ebook", 5.5, true, r.ibsen,
                 json::array({copy("G-1", r.central)})));
    auto view = read(path("/books", id));
    BOOST_TEST(view["title"] == title);
    copy_id = view["copies"][0]["id"].get<int64_t>();
    BOOST_TEST(read(path("/copies", copy_id))["title"] == title);
    BOOST_TEST(read(by_author)["items"][0]["title"] == title);
    auto name = "Central " + std::to_string(i);
    replace("/branches", r.central, branch(name, "Oslo"));
    BOOST_TEST(read(path("/copies", copy_id))["branch"] == name);
    BOOST_TEST(read(path("/members", r.ada))["home_branch"] == name);
    BOOST_TEST(read(path("/books", id))["copies"][0]["branch"] == name);
  }
  BOOST_TEST_MESSAGE("X-Min-Seq past the last commit: 504 after the wait");
  for (const auto& target : {path("/books", id), by_author}) {
    BOOST_TEST_CONTEXT("GET " << target) {
      check_error(
          proc.get(target, {{"X-Min-Seq", std::to_string(last_seq + 100)}}),
          504, "min_seq_timeout");
    }
  }
}
BOOST_AUTO_TEST_SUITE_END()
