// Tests of the generic read store: the JSON answers of items and lists of
// declared views, their read seq and the exact keys each read depends on,
// with rows written through a separate connection in plain SQL. Every case
// runs on the backend CQRSD_TEST_BACKEND names (SQLite by default).
#include <algorithm>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <soci/soci.h>

#include "common/error.hpp"
#include "config/domain_file.hpp"
#include "db/domain_schema.hpp"
#include "db/read_store.hpp"
#include "db/schema.hpp"
#include "fixtures/temp_db.hpp"
#include "model/query.hpp"

using namespace cqrs;

namespace {

namespace tt = boost::test_tools;

// -- the shelf domain ---------------------------------------------------------

// Books with a required author (chained to an optional country), an owned
// single detail (a backward inner join), an optional blurb (a backward left
// join), and copies in branches with loans in a table named `order`.
constexpr const char* shelf_yaml = R"(
name: shelf
tables:
  country: {columns: {name: text}}
  author:
    columns:
      name: text
      born: {type: integer, optional: true}
      country_id: {references: country, optional: true}
  branch: {columns: {name: {type: text, optional: true}}}
  book:
    columns:
      title: text
      price: number
      in_print: boolean
      author_id: {references: author}
  book_detail: {columns: {pages: integer, book_id: {references: book}}}
  blurb:
    columns: {text: text, book_id: {references: book, unique: true}}
  copy:
    columns:
      barcode: text
      shelf: {type: text, optional: true}
      book_id: {references: book}
      branch_id: {references: branch, optional: true}
  order: {columns: {borrower: text, copy_id: {references: copy}}}
resources:
  books:
    table: book
    owns:
      detail: {table: book_detail, by: book_id}
      copies:
        {table: copy, by: book_id, many: true,
         owns: {loans: {table: order, by: copy_id, many: true}}}
views:
  books:
    from: book
    join: [book.author_id, author.country_id, book_detail.book_id,
           blurb.book_id]
    fields:
      title: book.title
      id: book.id
      price: book.price
      in_print: book.in_print
      author: author.name
      born: author.born
      country: country.name
      pages: book_detail.pages
      blurb: blurb.text
    collections:
      copies:
        from: copy
        by: book_id
        join: [copy.branch_id]
        fields: {barcode: copy.barcode, shelf: copy.shelf, branch: branch.name,
                 id: copy.id}
        order_by: shelf
        limit: 4
        collections:
          loans:
            from: order
            by: copy_id
            fields: {borrower: order.borrower, id: order.id}
            order_by: borrower
  catalog:
    from: book
    join: [book.author_id, author.country_id, book_detail.book_id]
    fields: {id: book.id, title: book.title, price: book.price,
             in_print: book.in_print, country: country.name}
    list:
      filters:
        author_id: book.author_id
        in_print: book.in_print
        price: book.price
        country_id: author.country_id
        country: country.name
      default_limit: 2
      max_limit: 3
  copies-by-branch:
    from: book
    fields: {id: book.id}
    collections:
      copies:
        from: copy
        by: book_id
        join: [copy.branch_id]
        fields: {branch: branch.name, id: copy.id}
        order_by: branch
        limit: 2
    list: {default_limit: 10, max_limit: 1000}
)";

// -- helpers ------------------------------------------------------------------

std::vector<std::string> sorted(std::vector<std::string> xs) {
  std::sort(xs.begin(), xs.end());
  return xs;
}

field_value integer(int64_t x) {
  return field_value::of_integer(x);
}

field_value text(std::string x) {
  return field_value::of_text(std::move(x));
}

// -- fixture ------------------------------------------------------------------

struct fixture {
  test::temp_db db;
  std::unique_ptr<soci::session> sql = db.connect();
  std::shared_ptr<const domain> dom;
  std::unique_ptr<read_store> store;

  /// Creates the tables of domain `d` as cqrsd does at start and opens a
  /// read store on them.
  void serve(std::shared_ptr<const domain> d) {
    BOOST_REQUIRE(d != nullptr);
    dom = std::move(d);
    if (auto err = migrate(*sql, db.backend))
      BOOST_FAIL("migrate: " << error_message(err));
    if (auto err = ensure_domain_schema(*sql, db.backend, *dom))
      BOOST_FAIL("ensure_domain_schema: " << error_message(err));
    auto opened = read_store::open(db.settings, dom);
    if (!opened)
      BOOST_FAIL("read_store::open: " << error_message(opened.error()));
    store = std::move(*opened);
  }

  void serve_yaml(const std::string& yaml) {
    domain_error err;
    auto d = parse_domain(yaml, "test.yaml", err);
    if (!d)
      BOOST_FAIL(to_string(err));
    serve(std::make_shared<const domain>(std::move(*d)));
  }

  /// A boolean literal for this backend.
  std::string boolean(bool x) const {
    if (db.is_postgresql())
      return x ? "TRUE" : "FALSE";
    return x ? "1" : "0";
  }

  void exec(const std::string& text) { *sql << text; }

  /// Writes commits 1..n to the log, as the writer would.
  void log_commits(int n) {
    for (int i = 1; i <= n; ++i)
      exec("INSERT INTO commit_log (seq, committed_at, changed) VALUES (" +
           std::to_string(i) + ", '2026-01-01T00:00:00Z', 'x:1')");
  }

  uint16_t view(const std::string& segment) const {
    auto i = dom->view_index(segment);
    BOOST_REQUIRE_MESSAGE(i, "no view " << segment);
    return static_cast<uint16_t>(*i);
  }

  view_snapshot item(const std::string& segment, row_id id) {
    query q;
    q.kind = query_kind::item;
    q.view = view(segment);
    q.id = id;
    return read(q);
  }

  /// A page of `segment`'s list, with the named filters.
  view_snapshot
  page(const std::string& segment,
       std::initializer_list<std::pair<std::string, field_value>> filters = {},
       row_id after = 0, int32_t limit = 2) {
    query q;
    q.kind = query_kind::list;
    q.view = view(segment);
    q.after = after;
    q.limit = limit;
    const auto& declared = dom->views[q.view].list->filters;
    q.filters.resize(declared.size());
    for (const auto& [name, value] : filters) {
      auto i = std::find_if(declared.begin(), declared.end(),
                            [&](const auto& f) { return f.name == name; });
      BOOST_REQUIRE_MESSAGE(i != declared.end(), "no filter " << name);
      q.filters[static_cast<size_t>(i - declared.begin())] = value;
    }
    return read(q);
  }

  view_snapshot read(const query& q) {
    auto result = store->read(q);
    if (!result)
      BOOST_FAIL("read: " << error_message(result.error()));
    return std::move(*result);
  }

  // -- data of the shelf domain -----------------------------------------------

  /// Books 1..5: book 3 has no detail (so no view of it), book 2's author
  /// has no country, only book 1 has a blurb; book 1 has six copies, book 2
  /// one.
  void shelf_rows() {
    auto t = boolean(true);
    auto f = boolean(false);
    for (const auto& text : {
             "INSERT INTO country (id, name) VALUES (1, 'Chile'), (2, 'Peru')",
             "INSERT INTO author (id, name, born, country_id) VALUES"
             " (1, 'Ana', 1950, 1), (2, 'Bo', NULL, NULL), (3, 'Cy', -20, 2)",
             "INSERT INTO branch (id, name) VALUES"
             " (1, 'North'), (2, 'South'), (3, NULL)",
         })
      exec(text);
    exec("INSERT INTO book (id, title, price, in_print, author_id) VALUES"
         " (1, 'Alpha', 12.5, " +
         t + ", 1), (2, 'Beta', 0.1, " + f + ", 2), (3, 'Gamma', 7, " + t +
         ", 3), (4, 'Delta', 0.1, " + t + ", 1), (5, 'Eps', 3, " + f + ", 3)");
    for (const auto& text : {
             "INSERT INTO book_detail (id, pages, book_id) VALUES"
             " (10, 100, 1), (20, 200, 2), (40, 400, 4), (50, 500, 5)",
             "INSERT INTO blurb (id, \"text\", book_id) VALUES (7, 'Great', 1)",
             // Book 1's shelves by code point: NULL, B, Z, b, b, é.
             "INSERT INTO copy (id, barcode, shelf, book_id, branch_id) VALUES"
             " (1, 'c1', 'b', 1, 1), (2, 'c2', NULL, 1, NULL),"
             " (3, 'c3', 'B', 1, 2), (4, 'c4', '\xC3\xA9', 1, 1),"
             " (5, 'c5', 'b', 1, 3), (6, 'c6', 'Z', 1, 2),"
             " (7, 'c7', 'x', 2, NULL)",
             "INSERT INTO \"order\" (id, borrower, copy_id) VALUES"
             " (1, 'zed', 1), (2, 'amy', 1), (3, 'bob', 6), (4, 'eve', 5)",
         })
      exec(text);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(read_store, fixture)

// -- the built-in domain ------------------------------------------------------

BOOST_AUTO_TEST_CASE(objects_answers_as_before) {
  serve(builtin_domain());
  for (const auto& text : {
           "INSERT INTO category (id, description) VALUES (1, 'cat')",
           "INSERT INTO related_object (id, content_description, content_type)"
           " VALUES (1, 'desc', 'type')",
           "INSERT INTO top_level_object (id, name) VALUES (1, 'obj'),"
           " (2, 'lonely')",
           "INSERT INTO child_object (id, access_code, top_level_object_id,"
           " related_object_id, category_id) VALUES (5, 'ac', 1, 1, 1)",
       })
    exec(text);
  log_commits(4);
  BOOST_TEST_MESSAGE("an object: today's keys, sorted, compact");
  auto obj = item("objects", 1);
  BOOST_TEST(obj.found);
  BOOST_TEST(obj.read_seq == 4u);
  BOOST_TEST(obj.body ==
             R"({"access_code":"ac","category_description":"cat",)"
             R"("content_description":"desc","content_type":"type","id":1,)"
             R"("name":"obj"})");
  BOOST_TEST(sorted(obj.dependencies) ==
                 sorted({"top_level_object:1", "child_object:5",
                         "child_object.top_level_object_id=1",
                         "related_object:1", "category:1"}),
             tt::per_element());
  BOOST_TEST_MESSAGE("an object without its child is missing");
  auto lonely = item("objects", 2);
  BOOST_TEST(!lonely.found);
  BOOST_TEST(lonely.read_seq == 4u);
  BOOST_TEST(
      sorted(lonely.dependencies) ==
          sorted({"top_level_object:2", "child_object.top_level_object_id=2"}),
      tt::per_element());
  BOOST_TEST_MESSAGE("a missing object depends on its own key");
  auto missing = item("objects", 3);
  BOOST_TEST(!missing.found);
  BOOST_TEST(missing.dependencies ==
                 std::vector<std::string>{"top_level_object:3"},
             tt::per_element());
  BOOST_TEST_MESSAGE("categories and related objects");
  auto category = item("categories", 1);
  BOOST_TEST(category.body == R"({"description":"cat","id":1})");
  BOOST_TEST(category.dependencies == std::vector<std::string>{"category:1"},
             tt::per_element());
  BOOST_TEST(item("related-objects", 1).body ==
             R"({"content_description":"desc","content_type":"type","id":1})");
  BOOST_TEST(!item("categories", 2).found);
  BOOST_TEST_MESSAGE("the object list, whole and by category");
  std::string one =
      R"({"items":[{"access_code":"ac","category_description":"cat",)"
      R"("content_description":"desc","content_type":"type","id":1,)"
      R"("name":"obj"}],"next_after":null})";
  std::vector<std::string> content{"top_level_object:1", "child_object:5",
                                   "child_object.top_level_object_id=1",
                                   "related_object:1", "category:1"};
  auto all = page("objects", {}, 0, 50);
  BOOST_TEST(all.found);
  BOOST_TEST(all.read_seq == 4u);
  BOOST_TEST(all.body == one);
  auto expected = content;
  expected.insert(expected.end(), {"top_level_object:*", "child_object:*"});
  BOOST_TEST(sorted(all.dependencies) == sorted(expected), tt::per_element());
  auto filtered = page("objects", {{"category_id", integer(1)}}, 0, 50);
  BOOST_TEST(filtered.body == one);
  expected = content;
  expected.insert(expected.end(),
                  {"top_level_object:*", "child_object.category_id=1"});
  BOOST_TEST(sorted(filtered.dependencies) == sorted(expected),
             tt::per_element());
  auto none = page("objects", {{"category_id", integer(2)}}, 0, 50);
  BOOST_TEST(none.body == R"({"items":[],"next_after":null})");
  BOOST_TEST(sorted(none.dependencies) ==
                 sorted({"top_level_object:*", "child_object.category_id=2"}),
             tt::per_element());
}

// -- items --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_item_with_joins_and_collections) {
  serve_yaml(shelf_yaml);
  shelf_rows();
  log_commits(2);
  auto book = item("books", 1);
  BOOST_TEST(book.found);
  BOOST_TEST(book.read_seq == 2u);
  BOOST_TEST_MESSAGE("fields in declared order, copies by shelf (NULL first,"
                     " code points, ties by id), at most 4, loans by name");
  BOOST_TEST(
      book.body ==
      R"({"title":"Alpha","id":1,"price":12.5,"in_print":true,"author":"Ana",)"
      R"("born":1950,"country":"Chile","pages":100,"blurb":"Great","copies":[)"
      R"({"barcode":"c2","shelf":null,"branch":null,"id":2,"loans":[]},)"
      R"({"barcode":"c3","shelf":"B","branch":"South","id":3,"loans":[]},)"
      R"({"barcode":"c6","shelf":"Z","branch":"South","id":6,)"
      R"("loans":[{"borrower":"bob","id":3}]},)"
      R"({"barcode":"c1","shelf":"b","branch":"North","id":1,)"
      R"("loans":[{"borrower":"amy","id":2},{"borrower":"zed","id":1}]}]})");
  BOOST_TEST(
      sorted(book.dependencies) ==
          sorted({"book:1",          "author:1",        "country:1",
                  "book_detail:10",  "blurb:7",         "book_detail.book_id=1",
                  "blurb.book_id=1", "copy.book_id=1",  "copy:2",
                  "copy:3",          "copy:6",          "copy:1",
                  "branch:1",        "branch:2",        "order.copy_id=2",
                  "order.copy_id=3", "order.copy_id=6", "order.copy_id=1",
                  "order:3",         "order:2",         "order:1"}),
      tt::per_element());
}

BOOST_AUTO_TEST_CASE(left_joins_read_null) {
  serve_yaml(shelf_yaml);
  shelf_rows();
  auto book = item("books", 2);
  BOOST_TEST(book.found);
  BOOST_TEST(book.read_seq == 0u);
  BOOST_TEST(
      book.body ==
      R"({"title":"Beta","id":2,"price":0.1,"in_print":false,"author":"Bo",)"
      R"("born":null,"country":null,"pages":200,"blurb":null,"copies":[)"
      R"({"barcode":"c7","shelf":"x","branch":null,"id":7,"loans":[]}]})");
  BOOST_TEST(sorted(book.dependencies) ==
                 sorted({"book:2", "author:2", "book_detail:20",
                         "book_detail.book_id=2", "blurb.book_id=2",
                         "copy.book_id=2", "copy:7", "order.copy_id=7"}),
             tt::per_element());
  auto other = item("books", 5);
  BOOST_TEST(
      other.body ==
      R"({"title":"Eps","id":5,"price":3.0,"in_print":false,"author":"Cy",)"
      R"("born":-20,"country":"Peru","pages":500,"blurb":null,"copies":[]})");
}

BOOST_AUTO_TEST_CASE(missing_items_and_their_keys) {
  serve_yaml(shelf_yaml);
  shelf_rows();
  log_commits(1);
  BOOST_TEST_MESSAGE("no such book");
  auto missing = item("books", 99);
  BOOST_TEST(!missing.found);
  BOOST_TEST(missing.read_seq == 1u);
  BOOST_TEST(missing.dependencies == std::vector<std::string>{"book:99"},
             tt::per_element());
  BOOST_TEST_MESSAGE("a book without its detail (inner-joined) is missing");
  auto partial = item("books", 3);
  BOOST_TEST(!partial.found);
  BOOST_TEST(partial.body.empty());
  BOOST_TEST(sorted(partial.dependencies) ==
                 sorted({"book:3", "author:3", "country:2",
                         "book_detail.book_id=3", "blurb.book_id=3"}),
             tt::per_element());
  BOOST_TEST_MESSAGE("it appears once the detail is there");
  exec("INSERT INTO book_detail (id, pages, book_id) VALUES (30, 300, 3)");
  auto complete = item("books", 3);
  BOOST_TEST(complete.found);
  BOOST_TEST(complete.body.find(R"("pages":300)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(collections_ordered_by_a_joined_field) {
  serve_yaml(shelf_yaml);
  shelf_rows();
  BOOST_TEST_MESSAGE("book 1 has more copies than the limit: the order's"
                     " tables are dependencies");
  auto many = item("copies-by-branch", 1);
  BOOST_TEST(many.body == R"({"id":1,"copies":[{"branch":null,"id":2},)"
                          R"({"branch":null,"id":5}]})");
  BOOST_TEST(sorted(many.dependencies) ==
                 sorted({"book:1", "copy.book_id=1", "copy:2", "copy:5",
                         "branch:3", "branch:*"}),
             tt::per_element());
  auto few = item("copies-by-branch", 2);
  BOOST_TEST(few.body == R"({"id":2,"copies":[{"branch":null,"id":7}]})");
  BOOST_TEST(sorted(few.dependencies) ==
                 sorted({"book:2", "copy.book_id=2", "copy:7"}),
             tt::per_element());
  BOOST_TEST_MESSAGE("renaming a branch reorders the copies");
  exec("UPDATE branch SET name = 'East' WHERE id = 3");
  BOOST_TEST(item("copies-by-branch", 1).body ==
             R"({"id":1,"copies":[{"branch":null,"id":2},)"
             R"({"branch":"East","id":5}]})");
}

// -- lists --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(list_pages) {
  serve_yaml(shelf_yaml);
  shelf_rows();
  log_commits(3);
  std::string alpha = R"({"id":1,"title":"Alpha","price":12.5,"in_print":true,)"
                      R"("country":"Chile"})";
  std::string beta = R"({"id":2,"title":"Beta","price":0.1,"in_print":false,)"
                     R"("country":null})";
  std::string delta = R"({"id":4,"title":"Delta","price":0.1,"in_print":true,)"
                      R"("country":"Chile"})";
  std::string eps = R"({"id":5,"title":"Eps","price":3.0,"in_print":false,)"
                    R"("country":"Peru"})";
  BOOST_TEST_MESSAGE("book 3 lacks its inner-joined detail: never listed");
  auto first = page("catalog");
  BOOST_TEST(first.found);
  BOOST_TEST(first.read_seq == 3u);
  BOOST_TEST(first.body ==
             R"({"items":[)" + alpha + "," + beta + R"(],"next_after":2})");
  BOOST_TEST(
      sorted(first.dependencies) ==
          sorted({"book:*", "book_detail:*", "book:1", "author:1", "country:1",
                  "book_detail:10", "book_detail.book_id=1", "book:2",
                  "author:2", "book_detail:20", "book_detail.book_id=2"}),
      tt::per_element());
  BOOST_TEST_MESSAGE("the last page: exactly `limit` rows, none after");
  auto last = page("catalog", {}, 2);
  BOOST_TEST(last.body ==
             R"({"items":[)" + delta + "," + eps + R"(],"next_after":null})");
  BOOST_TEST_MESSAGE("limit is kept within max_limit");
  BOOST_TEST(page("catalog", {}, 0, 50).body == R"({"items":[)" + alpha + "," +
                                                    beta + "," + delta +
                                                    R"(],"next_after":4})");
  BOOST_TEST(page("catalog", {}, 0, 1).body ==
             R"({"items":[)" + alpha + R"(],"next_after":1})");
  BOOST_TEST(page("catalog", {}, 5).body ==
             R"({"items":[],"next_after":null})");
}

BOOST_AUTO_TEST_CASE(list_filters) {
  serve_yaml(shelf_yaml);
  shelf_rows();
  auto ids = [](const view_snapshot& x) {
    std::vector<std::string> result;
    for (size_t at = 0;
         (at = x.body.find(R"({"id":)", at)) != std::string::npos; ++at)
      result.push_back(x.body.substr(at + 6, x.body.find(',', at) - at - 6));
    return result;
  };
  using strings = std::vector<std::string>;
  BOOST_TEST_MESSAGE("a boolean on the root");
  auto out_of_print =
      page("catalog", {{"in_print", field_value::of_boolean(false)}});
  BOOST_TEST(ids(out_of_print) == (strings{"2", "5"}), tt::per_element());
  BOOST_TEST(sorted(out_of_print.dependencies) ==
                 sorted({"book.in_print=false", "book_detail:*", "book:2",
                         "author:2", "book_detail:20", "book_detail.book_id=2",
                         "book:5", "author:3", "country:2", "book_detail:50",
                         "book_detail.book_id=5"}),
             tt::per_element());
  BOOST_TEST_MESSAGE("a number on the root");
  auto cheap = page("catalog", {{"price", field_value::of_number(0.1)}});
  BOOST_TEST(ids(cheap) == (strings{"2", "4"}), tt::per_element());
  BOOST_TEST(sorted(cheap.dependencies) ==
                 sorted({"book.price=0.1", "book_detail:*", "book:2",
                         "author:2", "book_detail:20", "book_detail.book_id=2",
                         "book:4", "author:1", "country:1", "book_detail:40",
                         "book_detail.book_id=4"}),
             tt::per_element());
  BOOST_TEST_MESSAGE("through a joined table; NULL never matches");
  auto chile = page("catalog", {{"country_id", integer(1)}});
  BOOST_TEST(ids(chile) == (strings{"1", "4"}), tt::per_element());
  BOOST_TEST(sorted(chile.dependencies) ==
                 sorted({"book:*", "author.country_id=1", "book_detail:*",
                         "book:1", "author:1", "country:1", "book_detail:10",
                         "book_detail.book_id=1", "book:4", "book_detail:40",
                         "book_detail.book_id=4"}),
             tt::per_element());
  auto peru = page("catalog", {{"country_id", integer(2)}});
  BOOST_TEST(ids(peru) == (strings{"5"}), tt::per_element());
  BOOST_TEST_MESSAGE("through a chained join");
  auto by_name = page("catalog", {{"country", text("Peru")}});
  BOOST_TEST(ids(by_name) == (strings{"5"}), tt::per_element());
  BOOST_TEST(sorted(by_name.dependencies) ==
                 sorted({"book:*", "author:*", "country.name=Peru",
                         "book_detail:*", "book:5", "author:3", "country:2",
                         "book_detail:50", "book_detail.book_id=5"}),
             tt::per_element());
  auto nowhere = page("catalog", {{"country", text("Nowhere")}});
  BOOST_TEST(nowhere.body == R"({"items":[],"next_after":null})");
  BOOST_TEST(sorted(nowhere.dependencies) ==
                 sorted({"book:*", "author:*", "country.name=Nowhere",
                         "book_detail:*"}),
             tt::per_element());
  BOOST_TEST_MESSAGE("filters combine with AND");
  auto both = page("catalog", {{"author_id", integer(1)},
                               {"price", field_value::of_number(0.1)}});
  BOOST_TEST(ids(both) == (strings{"4"}), tt::per_element());
  BOOST_TEST(sorted(both.dependencies) ==
                 sorted({"book.author_id=1", "book.price=0.1", "book_detail:*",
                         "book:4", "author:1", "country:1", "book_detail:40",
                         "book_detail.book_id=4"}),
             tt::per_element());
  auto in_print = page("catalog", {{"in_print", field_value::of_boolean(true)},
                                   {"author_id", integer(3)}});
  BOOST_TEST(in_print.body == R"({"items":[],"next_after":null})");
}

BOOST_AUTO_TEST_CASE(lists_with_collections) {
  serve_yaml(shelf_yaml);
  shelf_rows();
  auto all = page("copies-by-branch", {}, 0, 10);
  BOOST_TEST(all.body ==
             R"({"items":[{"id":1,"copies":[{"branch":null,"id":2},)"
             R"({"branch":null,"id":5}]},{"id":2,"copies":[{"branch":null,)"
             R"("id":7}]},{"id":3,"copies":[]},{"id":4,"copies":[]},)"
             R"({"id":5,"copies":[]}],"next_after":null})");
  BOOST_TEST(sorted(all.dependencies) ==
                 sorted({"book:*", "book:1", "book:2", "book:3", "book:4",
                         "book:5", "copy.book_id=1", "copy.book_id=2",
                         "copy.book_id=3", "copy.book_id=4", "copy.book_id=5",
                         "copy:2", "copy:5", "branch:3", "branch:*", "copy:7"}),
             tt::per_element());
}

BOOST_AUTO_TEST_CASE(collections_of_many_parents) {
  serve_yaml(shelf_yaml);
  BOOST_TEST_MESSAGE("600 books with one copy each: more parents than one"
                     " statement reads for");
  exec("INSERT INTO author (id, name) VALUES (1, 'Ana')");
  std::string books = "INSERT INTO book (id, title, price, in_print,"
                      " author_id) VALUES ";
  std::string copies = "INSERT INTO copy (id, barcode, book_id) VALUES ";
  for (int i = 1; i <= 600; ++i) {
    auto n = std::to_string(i);
    books += (i > 1 ? ", (" : "(") + n + ", 'b" + n + "', 1, " + boolean(true) +
             ", 1)";
    copies += (i > 1 ? ", (" : "(") + n + ", 'c" + n + "', " + n + ")";
  }
  exec(books);
  exec(copies);
  auto all = page("copies-by-branch", {}, 0, 1000);
  for (int i : {1, 2, 511, 512, 513, 600}) {
    auto n = std::to_string(i);
    auto one =
        R"({"id":)" + n + R"(,"copies":[{"branch":null,"id":)" + n + "}]}";
    BOOST_TEST(all.body.find(one) != std::string::npos, "book " << i);
  }
  BOOST_TEST(std::count(all.dependencies.begin(), all.dependencies.end(),
                        "copy:600") == 1);
}

// -- values -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(invalid_utf8_is_replaced,
                     *boost::unit_test::precondition(test::on_sqlite)) {
  serve(builtin_domain());
  exec("INSERT INTO category (id, description) VALUES (1, 'a' || "
       "CAST(X'FF' AS TEXT) || 'b')");
  BOOST_TEST(item("categories", 1).body == "{\"description\":\"a\xEF\xBF\xBD"
                                           "b\",\"id\":1}");
}

BOOST_AUTO_TEST_SUITE_END()
