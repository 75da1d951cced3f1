// End-to-end tests of a declared domain's refusals: every error row of
// DOMAIN.md "Errors" against a real cqrsd serving the shipped
// domains/library.yaml (backend of CQRSD_TEST_BACKEND), with its status, code
// and field path, the order in which faults are found, and that a refused
// write changes nothing and uses no seq.
#include <boost/test/unit_test.hpp>

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "fixtures/library_process.hpp"

using namespace cqrs::test;
using namespace cqrs::test::library;

namespace {

/// One refused request and what it must answer.
struct refusal {
  std::string what;
  std::string method;
  std::string target;
  std::string body;
  int status = 400;
  std::string code = "bad_request";
  /// The field path the message names; empty: none checked.
  std::string where;
};

/// `body` with `value` at the JSON pointer `where`.
json with(json body, const std::string& where, json value) {
  body[json::json_pointer{where}] = std::move(value);
  return body;
}

/// `body` with `value` at the JSON pointer `where`, as text.
std::string set(json body, const std::string& where, json value) {
  return with(std::move(body), where, std::move(value)).dump();
}

/// `body` without the member at the JSON pointer `where`, as text.
std::string drop(json body, const std::string& where) {
  json::json_pointer at{where};
  body[at.parent_pointer()].erase(at.back());
  return body.dump();
}

/// `n` times `unit`.
std::string times(int n, const std::string& unit) {
  std::string result;
  for (int i = 0; i < n; ++i)
    result += unit;
  return result;
}

const std::string e_acute = "\xC3\xA9"; // é: one code point, two bytes

struct errors_fixture : fixture {
  errors_fixture() {
    r = make_base();
    book_body = book("Emperor", "e-1", "paperback", 10.5, true, r.ibsen,
                     {copy("E-0", r.central,
                           json::array({loan(r.ada, "2026-01-01", false)})),
                      copy("E-1", r.harbour,
                           {loan(r.ada, "2026-01-02", false),
                            loan(r.bob, "2026-01-03", true)})});
    emperor = create("/books", book_body);
    book_body["isbn"] = "e-2";
    book_body["copies"][0]["barcode"] = "F-0";
    book_body["copies"][1]["barcode"] = "F-1";
    member_body = member("Cy", "cy@example.org", r.harbour, "C0000003");
    author_body = author("Sigrid Undset", r.norway, 1882);
  }

  /// Sends each request of `batch`, checks its answer, then checks that
  /// the database is unchanged and that the next write takes the next seq.
  void refuse_all(const std::vector<refusal>& batch) {
    auto before = db.dump();
    BOOST_TEST_MESSAGE("sending " << batch.size() << " refused requests");
    for (const auto& x : batch)
      BOOST_TEST_CONTEXT(x.what << ": " << x.method << ' ' << x.target) {
        refuse(x.method, x.target, x.body, x.status, x.code, x.where);
      }
    BOOST_TEST_MESSAGE("nothing changed, no seq was used");
    BOOST_TEST(db.dump() == before);
    BOOST_TEST(db.max_seq() == last_seq);
    create("/branches", branch("After " + std::to_string(++afterwards), "X"));
  }

  base_rows r;
  int64_t emperor = 0;
  /// A valid body for a new book (POST) or for `emperor` (PUT).
  json book_body;
  json member_body;
  json author_body;
  int afterwards = 0;
};

} // namespace

BOOST_AUTO_TEST_SUITE(e2e_library_errors)

// -- 400 ----------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(each_body_fault_is_a_400_naming_its_field,
                        errors_fixture) {
  const auto& b = book_body;
  const auto& m = member_body;
  const auto& a = author_body;
  auto put_book = path("/books", emperor);
  auto put_member = path("/members", r.ada);
  std::vector<refusal> x;
  auto bad = [&](std::string what, std::string target, std::string body,
                 std::string where = "", std::string method = "POST") {
    x.push_back({std::move(what), std::move(method), std::move(target),
                 std::move(body), 400, "bad_request", std::move(where)});
  };
  BOOST_TEST_MESSAGE("not JSON, not an object");
  bad("truncated", "/books", R"({"title":)");
  bad("not JSON", "/books", "hello");
  bad("empty", "/books", "");
  bad("invalid UTF-8", "/books", "{\"title\":\"\xff\"}");
  bad("a raw NUL byte", "/books", std::string{"{\"title\":\"a\0b\"}", 15});
  for (const std::string body : {"[]", "null", "5", "\"book\"", "true"})
    bad("not an object: " + body, "/books", body);
  bad("not an object, on PUT", put_book, "[]", "", "PUT");

  BOOST_TEST_MESSAGE("a repeated key, at any depth");
  bad("repeated title", "/books", with_raw(b, "/title", R"("A","title":"B")"),
      "body.title");
  bad("repeated barcode", "/books",
      with_raw(b, "/copies/1/barcode", R"("X","barcode":"Y")"),
      "body.copies[1].barcode");
  bad("repeated returned", put_book,
      with_raw(b, "/copies/1/loans/1/returned", R"(true,"returned":true)"),
      "body.copies[1].loans[1].returned", "PUT");
  bad("repeated card number", "/members",
      with_raw(m, "/card/number", R"("C1111111","number":"C1111111")"),
      "body.card.number");

  BOOST_TEST_MESSAGE("unknown fields: id, a child's `by`, anything else");
  bad("unknown", "/books", set(b, "/colour", "red"), "body.colour");
  bad("id", "/books", set(b, "/id", emperor), "body.id");
  bad("id on PUT", put_book, set(b, "/id", emperor), "body.id", "PUT");
  bad("by of a copy", "/books", set(b, "/copies/1/book_id", emperor),
      "body.copies[1].book_id");
  bad("by of a loan", "/books", set(b, "/copies/0/loans/0/copy_id", 1),
      "body.copies[0].loans[0].copy_id");
  bad("by of the card", "/members", set(m, "/card/member_id", r.ada),
      "body.card.member_id");
  bad("id of the card", put_member, set(m, "/card/id", 1), "body.card.id",
      "PUT");

  BOOST_TEST_MESSAGE("missing fields, owned ones included");
  bad("isbn", "/books", drop(b, "/isbn"), "body.isbn");
  bad("copies", "/books", drop(b, "/copies"), "body.copies");
  bad("barcode", "/books", drop(b, "/copies/1/barcode"),
      "body.copies[1].barcode");
  bad("loans", "/books", drop(b, "/copies/0/loans"), "body.copies[0].loans");
  bad("returned", put_book, drop(b, "/copies/1/loans/1/returned"),
      "body.copies[1].loans[1].returned", "PUT");
  bad("card", "/members", drop(m, "/card"), "body.card");
  bad("card number", "/members", drop(m, "/card/number"), "body.card.number");
  bad("country_id", "/authors", drop(a, "/country_id"), "body.country_id");

  BOOST_TEST_MESSAGE("wrong types, for each column type and owned field");
  for (const json& v : {json(5), json(nullptr), json::array(), json(true)})
    bad("text " + v.dump(), "/books", set(b, "/title", v), "body.title");
  bad("text in a loan", "/books", set(b, "/copies/1/loans/0/due_on", false),
      "body.copies[1].loans[0].due_on");
  for (const json& v : {json("1882"), json(true), json::object()})
    bad("integer " + v.dump(), "/authors", set(a, "/born", v), "body.born");
  for (const json& v : {json("10.5"), json(nullptr), json(false)})
    bad("number " + v.dump(), "/books", set(b, "/price", v), "body.price");
  for (const json& v : {json(1), json("true"), json(nullptr)})
    bad("boolean " + v.dump(), "/books", set(b, "/in_print", v),
        "body.in_print");
  bad("boolean in a loan", put_book, set(b, "/copies/0/loans/0/returned", 0),
      "body.copies[0].loans[0].returned", "PUT");
  for (const json& v : {json(std::to_string(r.ibsen)), json(nullptr), json(0),
                        json(-3), json(1.5)})
    bad("reference " + v.dump(), "/books", set(b, "/author_id", v),
        "body.author_id");
  bad("reference in a copy", "/books", set(b, "/copies/1/branch_id", "1"),
      "body.copies[1].branch_id");
  bad("optional reference", put_member, set(m, "/home_branch_id", "1"),
      "body.home_branch_id", "PUT");
  for (const json& v : {json::object(), json(nullptr), json("x")})
    bad("owned array " + v.dump(), "/books", set(b, "/copies", v),
        "body.copies");
  bad("an item not an object", "/books", set(b, "/copies/1", 5),
      "body.copies[1]");
  bad("loans not an array", "/books", set(b, "/copies/0/loans", json::object()),
      "body.copies[0].loans");
  for (const json& v : {json::array(), json(nullptr), json("C0000001")})
    bad("owned single " + v.dump(), "/members", set(m, "/card", v),
        "body.card");

  BOOST_TEST_MESSAGE("out of bounds: min, max, lengths in code points, one_of");
  bad("born -1", "/authors", set(a, "/born", -1), "body.born");
  bad("born 3001", "/authors", set(a, "/born", 3001), "body.born");
  bad("price -0.01", "/books", set(b, "/price", -0.01), "body.price");
  bad("title of 201 code points", "/books",
      set(b, "/title", times(201, e_acute)), "body.title");
  bad("empty title", "/books", set(b, "/title", ""), "body.title");
  bad("empty name", "/branches", branch("", "Oslo").dump(), "body.name");
  bad("name of 1001", "/branches", branch(std::string(1001, 'n'), "x").dump(),
      "body.name");
  for (const std::string& code :
       {std::string{"\xC3\x85"}, std::string{"\xC3\x85\xC3\x86\xC3\x98"},
        std::string{"N"}, std::string{"NOR"}})
    bad("country code " + code, "/countries", country(code, "Somewhere").dump(),
        "body.code");
  bad("card number of 7", "/members", set(m, "/card/number", "C000001"),
      "body.card.number");
  bad("card number of 9", put_member, set(m, "/card/number", "C00000001"),
      "body.card.number", "PUT");
  for (const std::string format : {"novel", "Paperback", ""})
    bad("format " + format, "/books", set(b, "/format", format), "body.format");
  bad("email of 255", "/members",
      set(m, "/email", std::string(243, 'e') + "@example.org"), "body.email");
  bad("due_on of 9", "/books", set(b, "/copies/1/loans/1/due_on", "2026-1-01"),
      "body.copies[1].loans[1].due_on");

  BOOST_TEST_MESSAGE("U+0000 in text");
  bad("NUL in a title", "/books", set(b, "/title", std::string{"a\0b", 3}),
      "body.title");
  bad("NUL in a barcode", "/books",
      set(b, "/copies/1/barcode", std::string{"\0", 1}),
      "body.copies[1].barcode");

  BOOST_TEST_MESSAGE("too many items");
  json copies = json::array();
  for (int i = 0; i < 101; ++i)
    copies.push_back(copy("M-" + std::to_string(i), r.central));
  bad("101 copies", "/books", set(b, "/copies", copies), "body.copies");
  json loans = json::array();
  for (int i = 0; i < 51; ++i)
    loans.push_back(loan(r.bob, "2026-02-01", false));
  bad("51 loans", "/books", set(b, "/copies/0/loans", loans),
      "body.copies[0].loans");

  BOOST_TEST_MESSAGE("integers: no fraction, no exponent, within int64");
  for (const std::string raw : {"1882.0", "1.882e3", "1882e0", "18.5",
                                "9223372036854775808", "-9223372036854775809"})
    bad("born " + raw, "/authors", with_raw(a, "/born", raw), "body.born");
  for (const std::string raw : {"1.0", "1e0", "9223372036854775808"})
    bad("author_id " + raw, "/books", with_raw(b, "/author_id", raw),
        "body.author_id");
  bad("member_id 2.0", "/books",
      with_raw(b, "/copies/0/loans/0/member_id", "2.0"),
      "body.copies[0].loans[0].member_id");
  BOOST_TEST_MESSAGE("numbers: finite");
  for (const std::string raw : {"1e400", "-1e400"})
    bad("price " + raw, "/books", with_raw(b, "/price", raw), "body.price");
  refuse_all(x);

  BOOST_TEST_MESSAGE("the edges that are accepted");
  auto plain = [&](const std::string& isbn) {
    return with(with(b, "/isbn", isbn), "/copies", json::array());
  };
  create("/books", with(plain("p-1"), "/title", times(200, e_acute)));
  create("/countries", country("\xC3\x85\xC3\x86", "\xC3\x85land"));
  create("/books", with(plain("p-2"), "/price", 0));
  for (const std::string raw : {"12", "1.25e1"})
    write("POST", "/books", with_raw(plain("p-" + raw), "/price", raw), 201);
  write("POST", "/authors", with_raw(a, "/born", "0"), 201);
  write("POST", "/authors", with_raw(a, "/born", "3000"), 201);
  create("/authors", with(a, "/born", nullptr));
  create("/members", with(m, "/home_branch_id", nullptr));
  json hundred = json::array();
  for (int i = 0; i < 100; ++i)
    hundred.push_back(copy("H-" + std::to_string(i), r.central));
  loans.erase(loans.begin());
  hundred[0]["loans"] = loans;
  auto id = create("/books", with(plain("h-1"), "/copies", hundred));
  auto view = read(path("/books", id));
  BOOST_TEST(view["copies"].size() == 100u);
  BOOST_TEST(view["copies"][0]["loans"].size() == 50u);
}

// -- 422 and 409 --------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(references_must_exist_and_unique_values_stay_unique,
                        errors_fixture) {
  const auto& b = book_body;
  const auto& m = member_body;
  auto other = create("/books", with(with(b, "/isbn", "o-1"), "/copies",
                                     json::array({copy("O-0", r.central)})));
  auto unused = create("/branches", branch("Unused", "Oslo"));
  remove("/branches", unused);
  auto put_emperor = path("/books", emperor);
  auto put_other = path("/books", other);
  std::vector<refusal> x;
  auto refused = [&](std::string what, std::string method, std::string target,
                     std::string body, int status, std::string where) {
    x.push_back({std::move(what), std::move(method), std::move(target),
                 std::move(body), status,
                 status == 422 ? "missing_reference" : "duplicate_value",
                 std::move(where)});
  };
  BOOST_TEST_MESSAGE("422 missing_reference, at every depth");
  refused("author", "POST", "/books", set(b, "/author_id", 999999), 422,
          "body.author_id");
  refused("largest id", "POST", "/books",
          set(b, "/author_id", int64_t{9223372036854775807}), 422,
          "body.author_id");
  refused("branch of a copy", "POST", "/books",
          set(b, "/copies/1/branch_id", 999999), 422,
          "body.copies[1].branch_id");
  refused("a deleted branch", "POST", "/books",
          set(b, "/copies/0/branch_id", unused), 422,
          "body.copies[0].branch_id");
  refused("member of a loan", "POST", "/books",
          set(b, "/copies/1/loans/1/member_id", 999999), 422,
          "body.copies[1].loans[1].member_id");
  refused("member of a loan, on PUT", "PUT", put_emperor,
          set(b, "/copies/0/loans/0/member_id", 999999), 422,
          "body.copies[0].loans[0].member_id");
  refused("country", "POST", "/authors",
          set(author_body, "/country_id", 999999), 422, "body.country_id");
  refused("optional home branch", "PUT", path("/members", r.bob),
          set(m, "/home_branch_id", 999999), 422, "body.home_branch_id");

  BOOST_TEST_MESSAGE("409 duplicate_value, against other rows and within "
                     "the body");
  refused("isbn", "POST", "/books", set(b, "/isbn", "e-1"), 409, "body.isbn");
  refused("isbn, on PUT", "PUT", put_other, set(b, "/isbn", "e-1"), 409,
          "body.isbn");
  refused("barcode of another book", "POST", "/books",
          set(b, "/copies/1/barcode", "E-0"), 409, "body.copies[1].barcode");
  refused("barcode of another book, on PUT", "PUT", put_other,
          set(b, "/copies/0/barcode", "E-1"), 409, "body.copies[0].barcode");
  json thrice = b["copies"];
  thrice.push_back(copy("F-0", r.central));
  refused("a barcode twice in one body", "POST", "/books",
          set(b, "/copies", thrice), 409, "body.copies[2].barcode");
  refused("a replaced barcode twice", "PUT", put_emperor,
          set(with(b, "/copies/0/barcode", "E-1"), "/copies/1/barcode", "E-1"),
          409, "body.copies[1].barcode");
  refused("country code", "POST", "/countries", country("NO", "Noreg").dump(),
          409, "body.code");
  refused("country name", "PUT", path("/countries", r.britain),
          country("GB", "Norway").dump(), 409, "body.name");
  refused("branch name", "POST", "/branches",
          branch("Central", "Bergen").dump(), 409, "body.name");
  refused("email", "POST", "/members", set(m, "/email", "ada@example.org"), 409,
          "body.email");
  refused("card number", "POST", "/members", set(m, "/card/number", "C0000001"),
          409, "body.card.number");
  refused("card number, on PUT", "PUT", path("/members", r.bob),
          set(m, "/card/number", "C0000001"), 409, "body.card.number");
  refuse_all(x);
}

BOOST_FIXTURE_TEST_CASE(rows_still_referenced_are_not_deleted, errors_fixture) {
  std::vector<refusal> x;
  for (const auto& [segment, id, by] :
       std::vector<std::tuple<std::string, int64_t, std::string>>{
           {"/authors", r.ibsen, "book"},
           {"/countries", r.norway, "author"},
           {"/branches", r.harbour, "copy"},
           {"/members", r.bob, "loan"}})
    x.push_back({"referenced by a " + by, "DELETE", path(segment, id), "", 409,
                 "still_referenced", by});
  refuse_all(x);
  BOOST_TEST_MESSAGE("without the book, its author can go");
  remove("/books", emperor);
  remove("/authors", r.ibsen);
  remove("/members", r.bob);
}

BOOST_AUTO_TEST_CASE(a_put_that_would_remove_referenced_rows_is_refused) {
  // library.yaml has no row outside an aggregate that references an owned
  // array's row, so this domain makes one: item.slot_id.
  char dir_pattern[] = "/tmp/cqrsd-shelves-XXXXXX";
  BOOST_REQUIRE(::mkdtemp(dir_pattern) != nullptr);
  std::string dir = dir_pattern;
  auto file = dir + "/shelves.yaml";
  std::ofstream{file} << R"(name: shelves
tables:
  shelf: {columns: {name: text}}
  slot: {columns: {label: text, shelf_id: {references: shelf}}}
  item: {columns: {name: text, slot_id: {references: slot}}}
resources:
  shelves:
    table: shelf
    owns:
      slots: {table: slot, by: shelf_id, many: true}
  items: {table: item}
views:
  shelves:
    from: shelf
    fields: {id: shelf.id, name: shelf.name}
    collections:
      slots: {from: slot, by: shelf_id, fields: {id: slot.id, label: slot.label}}
  items:
    from: item
    fields: {id: item.id, name: item.name, slot_id: item.slot_id}
)";
  {
    test_database database;
    cqrsd_process proc{database.with({{"domain", quote_yaml(file)}})};
    oracle db = database.open_oracle(proc);
    json shelf = {{"name", "Top"},
                  {"slots", {{{"label", "a"}}, {{"label", "b"}}}}};
    auto a = proc.post("/shelves", shelf);
    BOOST_TEST_REQUIRE(a.status == 201, a.describe());
    auto id = a.json_body()["id"].get<int64_t>();
    auto view = proc.get(path("/shelves", id)).json_body();
    BOOST_TEST_REQUIRE(view["slots"].size() == 2u, view.dump());
    auto slot = view["slots"][0]["id"].get<int64_t>();
    a = proc.post("/items", {{"name", "Vase"}, {"slot_id", slot}});
    BOOST_TEST_REQUIRE(a.status == 201, a.describe());
    auto item = a.json_body()["id"].get<int64_t>();
    auto seq = a.json_body()["seq"].get<int64_t>();
    auto before = db.dump();
    BOOST_TEST_MESSAGE("PUT and DELETE of the shelf: 409, nothing changes");
    check_error(proc.put(path("/shelves", id), shelf), 409, "still_referenced",
                "item");
    check_error(proc.del(path("/shelves", id)), 409, "still_referenced",
                "item");
    BOOST_TEST(db.dump() == before);
    BOOST_TEST_MESSAGE("without the item, both go through");
    a = proc.del(path("/items", item));
    BOOST_TEST(a.status == 200, a.describe());
    a = proc.put(path("/shelves", id), shelf);
    BOOST_TEST(a.status == 200, a.describe());
    BOOST_TEST(a.json_body()["seq"] == seq + 2, "a refusal used a seq");
    a = proc.del(path("/shelves", id));
    BOOST_TEST(a.status == 200, a.describe());
  }
  std::filesystem::remove_all(dir);
}

// -- 404 ----------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(unknown_ids_answer_404, errors_fixture) {
  const std::string unknown = "/999999";
  std::vector<refusal> x;
  for (const auto& [segment, body] : std::vector<std::pair<std::string, json>>{
           {"/countries", country("SE", "Sweden")},
           {"/authors", author_body},
           {"/branches", branch("Nowhere", "Oslo")},
           {"/books", book_body},
           {"/members", member_body}}) {
    x.push_back(
        {"PUT", "PUT", segment + unknown, body.dump(), 404, "not_found", ""});
    x.push_back(
        {"DELETE", "DELETE", segment + unknown, "", 404, "not_found", ""});
  }
  remove("/books", emperor);
  x.push_back({"PUT a deleted book", "PUT", path("/books", emperor),
               book_body.dump(), 404, "not_found", ""});
  x.push_back({"DELETE a deleted book", "DELETE", path("/books", emperor), "",
               404, "not_found", ""});
  for (const std::string segment : {"/countries", "/authors", "/branches",
                                    "/books", "/members", "/copies", "/loans"})
    read_missing(segment + unknown);
  read_missing(path("/books", emperor));
  for (const std::string target :
       {"/books/abc", "/books/0", "/books/-1", "/books/01", "/copies/1.5",
        "/loans/99999999999999999999"})
    BOOST_TEST_CONTEXT("GET " << target) {
      check_error(proc.get(target), 400, "bad_request");
    }
  refuse_all(x);
}

// -- the order of checks ------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(the_first_fault_in_documented_order_answers,
                        errors_fixture) {
  const auto& b = book_body;
  auto nowhere = path("/books", 999999);
  std::vector<refusal> x;
  auto first = [&](std::string what, std::string method, std::string target,
                   std::string body, int status, std::string code,
                   std::string where = "") {
    x.push_back({std::move(what), std::move(method), std::move(target),
                 std::move(body), status, std::move(code), std::move(where)});
  };
  BOOST_TEST_MESSAGE("syntax and body faults before 404");
  first("not JSON, unknown id", "PUT", nowhere, "{", 400, "bad_request");
  first("unknown field, unknown id", "PUT", nowhere, set(b, "/colour", 1), 400,
        "bad_request", "body.colour");
  BOOST_TEST_MESSAGE("404 before missing_reference before duplicate_value");
  first("missing author, unknown id", "PUT", nowhere,
        set(b, "/author_id", 999999), 404, "not_found");
  first("duplicate isbn and missing author", "POST", "/books",
        set(with(b, "/isbn", "e-1"), "/author_id", 999999), 422,
        "missing_reference", "body.author_id");
  first("duplicate isbn and wrong title", "POST", "/books",
        set(with(b, "/isbn", "e-1"), "/title", 5), 400, "bad_request",
        "body.title");
  BOOST_TEST_MESSAGE("in one object: unknown, then missing, then values");
  first("unknown before missing", "POST", "/books",
        set(json::parse(drop(b, "/isbn")), "/colour", 1), 400, "bad_request",
        "body.colour");
  first("missing before a wrong value", "POST", "/books",
        set(json::parse(drop(b, "/isbn")), "/title", 5), 400, "bad_request",
        "body.isbn");
  ordered_json reversed;
  for (auto key :
       {"copies", "author_id", "in_print", "price", "format", "isbn", "title"})
    reversed[key] = b[key];
  reversed["price"] = -1;
  reversed["title"] = 5;
  first("values in declared order, not body order", "POST", "/books",
        reversed.dump(), 400, "bad_request", "body.title");
  first("columns before owned fields", "POST", "/books",
        set(with(b, "/copies/0/colour", 1), "/author_id", "x"), 400,
        "bad_request", "body.author_id");
  first("items by index", "POST", "/books",
        set(with(b, "/copies/1/colour", 1), "/copies/0/barcode", 5), 400,
        "bad_request", "body.copies[0].barcode");
  first("an item in full before the next", "POST", "/books",
        set(with(b, "/copies/1/barcode", 5), "/copies/0/loans/0/due_on", 5),
        400, "bad_request", "body.copies[0].loans[0].due_on");
  first("a child's columns before its owned fields", "POST", "/books",
        set(with(b, "/copies/0/loans/0/colour", 1), "/copies/0/branch_id", "x"),
        400, "bad_request", "body.copies[0].branch_id");
  refuse_all(x);
}

// -- reads --------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(bad_list_parameters_and_methods, errors_fixture) {
  BOOST_TEST_MESSAGE("bad parameters answer 400");
  for (const std::string query : {"limit=0",
                                  "limit=501",
                                  "limit=abc",
                                  "limit=-1",
                                  "limit=1.5",
                                  "after=-1",
                                  "after=abc",
                                  "colour=red",
                                  "Author_id=1",
                                  "author=1",
                                  "limit=5&limit=6",
                                  "limit=5&limit=5",
                                  "after=1&after=1",
                                  "format=ebook&format=hardcover",
                                  "format=ebook&format=ebook",
                                  "author_id=0",
                                  "author_id=-1",
                                  "author_id=abc",
                                  "author_id=1.0",
                                  "author_id=01",
                                  "author_id=",
                                  "author_id=99999999999999999999",
                                  "country_id=x",
                                  "in_print=yes",
                                  "in_print=1",
                                  "in_print=TRUE",
                                  "in_print=",
                                  "format=novel",
                                  "format=Ebook",
                                  "format="}) {
    BOOST_TEST_CONTEXT("GET /books?" << query) {
      check_error(proc.get("/books?" + query), 400, "bad_request");
    }
  }
  for (const std::string& target : std::vector<std::string>{
           "/branches?city=", "/branches?city=" + std::string(1001, 'x'),
           "/loans?returned=no", "/copies?title=Orlando", "/members?card=x",
           "/authors?country_id=0"}) {
    BOOST_TEST_CONTEXT("GET " << target) {
      check_error(proc.get(target), 400, "bad_request");
    }
  }

  BOOST_TEST_MESSAGE("a view without a list, a view without a resource: 405");
  for (const auto& [method, target, allowed] :
       std::vector<std::tuple<std::string, std::string, std::set<std::string>>>{
           {"GET", "/countries", {"POST"}},
           {"GET", "/countries?limit=5", {"POST"}},
           {"POST", "/copies", {"GET", "HEAD"}},
           {"PUT", path("/loans", 1), {"GET", "HEAD"}},
           {"DELETE", path("/copies", 1), {"GET", "HEAD"}}}) {
    BOOST_TEST_CONTEXT(method << ' ' << target) {
      auto a = proc.request(method, target, method == "GET" ? "" : "{}");
      check_error(a, 405, "method_not_allowed");
      BOOST_TEST(allow_set(a.header("Allow")) == allowed,
                 "Allow: " << a.header("Allow"));
    }
  }
  BOOST_TEST(db.max_seq() == last_seq);
}

BOOST_AUTO_TEST_SUITE_END()
