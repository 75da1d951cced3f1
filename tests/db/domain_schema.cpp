// The tables and indexes of a declared domain: created when missing, checked
// (never altered) when present, on a fresh database and on one written by an
// earlier release.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <soci/soci.h>

#include "common/error.hpp"
#include "config/domain_file.hpp"
#include "db/domain_schema.hpp"
#include "db/schema.hpp"
#include "fixtures/schema_catalog.hpp"
#include "fixtures/temp_db.hpp"
#include "fixtures/text_file.hpp"

using namespace cqrs;

namespace {

using test::read_text;

using test::text_rows;
using rows = text_rows;

domain parse(const std::string& yaml) {
  domain_error err;
  auto d = parse_domain(yaml, "<test>", err);
  BOOST_REQUIRE_MESSAGE(d, to_string(err));
  return std::move(*d);
}

std::string source_file(const std::string& path) {
  return std::string{CQRSD_SOURCE_DIR} + "/" + path;
}

// A domain with reserved words as table and column names, every column type,
// an owned single child and list filters on the root and on a joined table.
constexpr const char* library_yaml = R"(
name: library
tables:
  country:
    columns:
      name: text
  author:
    columns:
      name: text
      born: {type: integer, optional: true}
      country_id: {references: country, optional: true}
  book:
    columns:
      title: {type: text, max_length: 200}
      isbn: {type: text, unique: true, optional: true}
      price: {type: number, min: 0}
      in_print: boolean
      author_id: {references: author}
  copy:
    columns:
      book_id: {references: book}
      barcode: {type: text, unique: true}
  user:
    columns:
      name: text
  order:
    columns:
      user_id: {references: user}
      group: {type: text, optional: true}
      paid: boolean
  receipt:
    columns:
      order_id: {references: order}
      issued: text
resources:
  books:
    table: book
    owns:
      copies: {table: copy, by: book_id, many: true}
  orders:
    table: order
    owns:
      receipt: {table: receipt, by: order_id}
views:
  books:
    from: book
    join: [book.author_id]
    fields: {id: book.id, title: book.title, author: author.name}
    list:
      filters:
        in_print: book.in_print
        country_id: author.country_id
)";

// A column as the test expects it: its name, declared type and optional.
struct column_spec {
  std::string name;
  std::string type;
  bool optional;
};

struct table_spec {
  std::string name;
  std::vector<column_spec> columns;
};

const std::vector<table_spec> library_tables = {
    {"country", {{"name", "text", false}}},
    {"author",
     {{"name", "text", false},
      {"born", "integer", true},
      {"country_id", "integer", true}}},
    {"book",
     {{"title", "text", false},
      {"isbn", "text", true},
      {"price", "number", false},
      {"in_print", "boolean", false},
      {"author_id", "integer", false}}},
    {"copy", {{"book_id", "integer", false}, {"barcode", "text", false}}},
    {"user", {{"name", "text", false}}},
    {"order",
     {{"user_id", "integer", false},
      {"group", "text", true},
      {"paid", "boolean", false}}},
    {"receipt", {{"order_id", "integer", false}, {"issued", "text", false}}},
};

// table, column, unique: references, unique, filter and single-child `by`
// columns.
const std::vector<std::vector<std::string>> library_indexes = {
    {"author", "country_id", "0"}, {"book", "isbn", "1"},
    {"book", "in_print", "0"},     {"book", "author_id", "0"},
    {"copy", "book_id", "0"},      {"copy", "barcode", "1"},
    {"order", "user_id", "0"},     {"receipt", "order_id", "1"},
};

struct fixture {
  test::temp_db db;

  bool sqlite() const { return db.is_sqlite(); }

  // A write session as cqrsd opens it (SQLite: foreign keys on).
  std::unique_ptr<soci::session> open() {
    auto sql = open_session(db.settings, session_mode::write);
    BOOST_REQUIRE_MESSAGE(sql, (sql ? "" : error_message(sql.error())));
    return std::move(*sql);
  }

  // What cqrsd does at start: migrate, then the domain's tables.
  caf::error start(const domain& d) {
    auto sql = open();
    if (auto err = migrate(*sql, db.backend))
      return err;
    return ensure_domain_schema(*sql, db.backend, d);
  }

  void exec(const std::string& statement) {
    auto sql = db.connect();
    if (!sqlite()) // Keeps "does not exist, skipping" off stderr.
      *sql << "SET client_min_messages = warning";
    *sql << statement;
  }

  // The database's SQL type of each declared type, as the catalog says it.
  std::string type_of(const std::string& declared) const {
    if (declared == "text")
      return sqlite() ? "TEXT" : "text";
    if (declared == "number")
      return sqlite() ? "REAL" : "double precision";
    if (declared == "boolean")
      return sqlite() ? "INTEGER" : "boolean";
    return sqlite() ? "INTEGER" : "bigint";
  }

  rows columns(const std::string& table) {
    return test::catalog_columns(*db.connect(), db.backend, table);
  }

  rows indexes(const std::string& table) {
    return test::catalog_indexes(*db.connect(), db.backend, table);
  }

  rows snapshot() { return test::catalog_snapshot(*db.connect(), db.backend); }

  bool table_exists(const std::string& table) {
    return !columns(table).empty();
  }

  // Starts `d` (one table, "book") on a database where `create_book` made
  // the table and checks that it is refused naming `expected`.
  void expect_mismatch(const std::string& yaml, const std::string& create_book,
                       const std::vector<std::string>& expected) {
    BOOST_TEST_MESSAGE("table: " << create_book);
    exec("DROP TABLE IF EXISTS \"book\"");
    exec(create_book);
    auto err = start(parse(yaml));
    BOOST_REQUIRE_MESSAGE(err, "accepted: " << create_book);
    BOOST_CHECK_EQUAL(error_code(err), ec::schema_mismatch);
    auto message = error_message(err);
    BOOST_TEST_MESSAGE("refused: " << message);
    for (const auto& part : expected)
      BOOST_CHECK_MESSAGE(message.find(part) != std::string::npos,
                          "message lacks '" << part << "': " << message);
  }

  void expect_accepted(const std::string& yaml,
                       const std::string& create_book) {
    BOOST_TEST_MESSAGE("table: " << create_book);
    exec("DROP TABLE IF EXISTS \"book\"");
    exec(create_book);
    auto err = start(parse(yaml));
    BOOST_CHECK_MESSAGE(!err, create_book << ": " << error_message(err));
  }
};

// The one-table domain of the mismatch tests.
constexpr const char* book_yaml = R"(
name: shop
tables:
  book:
    columns:
      title: {type: text, max_length: 200}
      price: {type: number, optional: true}
      in_print: boolean
)";

} // namespace

BOOST_FIXTURE_TEST_SUITE(domain_schema, fixture)

BOOST_AUTO_TEST_CASE(fresh_database_gets_every_table_column_and_index) {
  BOOST_TEST_MESSAGE("backend: " << test::backend_name(db.backend));
  auto err = start(parse(library_yaml));
  BOOST_REQUIRE_MESSAGE(!err, error_message(err));
  for (const auto& t : library_tables) {
    BOOST_TEST_MESSAGE("table " << t.name);
    auto found = columns(t.name);
    BOOST_REQUIRE_EQUAL(found.size(), t.columns.size() + 1);
    BOOST_CHECK_EQUAL(found[0][0], "id");
    BOOST_CHECK_EQUAL(found[0][1], sqlite() ? "INTEGER" : "bigint");
    if (!sqlite())
      BOOST_CHECK_EQUAL(found[0][3].rfind("nextval(", 0), 0u);
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const auto& want = t.columns[i];
      BOOST_CHECK_EQUAL(found[i + 1][0], want.name);
      BOOST_CHECK_EQUAL(found[i + 1][1], type_of(want.type));
      BOOST_CHECK_EQUAL(found[i + 1][2], want.optional ? "0" : "1");
    }
  }
  size_t ours = 0;
  for (const auto& t : library_tables)
    for (const auto& index : indexes(t.name))
      if (index[0].rfind("cqrsd_", 0) == 0) {
        ++ours;
        BOOST_CHECK_LE(index[0].size(), 63u);
        BOOST_CHECK_EQUAL(index[0].find_first_not_of("0123456789abcdef", 6),
                          std::string::npos);
        auto expected =
            std::find(library_indexes.begin(), library_indexes.end(),
                      std::vector<std::string>{t.name, index[2], index[1]});
        BOOST_CHECK_MESSAGE(expected != library_indexes.end(),
                            "unexpected index on " << t.name << "(" << index[2]
                                                   << "), unique " << index[1]);
      }
  BOOST_CHECK_EQUAL(ours, library_indexes.size());
}

BOOST_AUTO_TEST_CASE(ids_are_assigned_and_never_reused) {
  BOOST_REQUIRE(!start(parse(library_yaml)));
  auto sql = open();
  *sql << "INSERT INTO \"country\" (\"name\") VALUES ('a')";
  *sql << "INSERT INTO \"country\" (\"name\") VALUES ('b')";
  *sql << "DELETE FROM \"country\" WHERE \"name\" = 'b'";
  *sql << "INSERT INTO \"country\" (\"name\") VALUES ('c')";
  BOOST_CHECK_EQUAL(
      test::select_one(*sql, "SELECT CAST(\"id\" AS TEXT) FROM \"country\""
                             " WHERE \"name\" = 'c'"),
      "3");
}

BOOST_AUTO_TEST_CASE(constraints_guard_what_the_write_store_checks) {
  BOOST_REQUIRE(!start(parse(library_yaml)));
  auto sql = open();
  auto fails = [&](const std::string& statement) {
    try {
      *sql << statement;
    } catch (const std::exception&) {
      return true;
    }
    return false;
  };
  BOOST_TEST_MESSAGE("references are checked at COMMIT, in any order");
  *sql << "BEGIN";
  *sql << "INSERT INTO \"book\" (\"title\", \"price\", \"in_print\","
          " \"author_id\") VALUES ('t', 1.5, "
       << (sqlite() ? "1" : "true") << ", 1)";
  *sql << "INSERT INTO \"author\" (\"name\") VALUES ('a')";
  *sql << "COMMIT";
  *sql << "BEGIN";
  *sql << "INSERT INTO \"copy\" (\"book_id\", \"barcode\") VALUES (99, 'x')";
  BOOST_CHECK(fails("COMMIT"));
  if (sqlite()) // A failed COMMIT leaves SQLite's transaction open.
    *sql << "ROLLBACK";
  BOOST_CHECK_EQUAL(
      test::select_one(*sql, "SELECT CAST(count(*) AS TEXT) FROM \"copy\""),
      "0");
  BOOST_TEST_MESSAGE("unique values; NULLs never clash");
  *sql << "INSERT INTO \"copy\" (\"book_id\", \"barcode\") VALUES (1, 'x')";
  BOOST_CHECK(
      fails("INSERT INTO \"copy\" (\"book_id\", \"barcode\") VALUES (1, 'x')"));
  for (int i = 0; i < 2; ++i)
    *sql << "INSERT INTO \"book\" (\"title\", \"isbn\", \"price\","
            " \"in_print\", \"author_id\") VALUES ('u', NULL, 2, "
         << (sqlite() ? "0" : "false") << ", 1)";
  BOOST_TEST_MESSAGE("an owned single child per parent");
  *sql << "INSERT INTO \"user\" (\"name\") VALUES ('u')";
  *sql << "INSERT INTO \"order\" (\"user_id\", \"paid\") VALUES (1, "
       << (sqlite() ? "1" : "true") << ")";
  *sql << "INSERT INTO \"receipt\" (\"order_id\", \"issued\") VALUES (1, 'a')";
  BOOST_CHECK(fails("INSERT INTO \"receipt\" (\"order_id\", \"issued\")"
                    " VALUES (1, 'b')"));
  BOOST_TEST_MESSAGE("required columns");
  BOOST_CHECK(fails("INSERT INTO \"user\" (\"name\") VALUES (NULL)"));
  if (sqlite()) {
    BOOST_TEST_MESSAGE("SQLite booleans hold 0 or 1");
    BOOST_CHECK(fails("INSERT INTO \"order\" (\"user_id\", \"paid\")"
                      " VALUES (1, 2)"));
  }
}

BOOST_AUTO_TEST_CASE(reserved_words_are_table_and_column_names) {
  BOOST_REQUIRE(!start(parse(library_yaml)));
  auto sql = open();
  *sql << "INSERT INTO \"user\" (\"name\") VALUES ('ada')";
  *sql << "INSERT INTO \"order\" (\"user_id\", \"group\", \"paid\")"
          " VALUES (1, 'g', "
       << (sqlite() ? "0" : "false") << ")";
  BOOST_CHECK_EQUAL(
      test::select_one(*sql, "SELECT \"u\".\"name\" || \"o\".\"group\""
                             " FROM \"order\" AS \"o\" JOIN \"user\" AS \"u\""
                             " ON \"u\".\"id\" = \"o\".\"user_id\""),
      "adag");
}

BOOST_AUTO_TEST_CASE(second_start_changes_nothing) {
  auto d = parse(library_yaml);
  BOOST_REQUIRE(!start(d));
  exec("INSERT INTO \"country\" (\"name\") VALUES ('kept')");
  auto before = snapshot();
  auto err = start(d);
  BOOST_REQUIRE_MESSAGE(!err, error_message(err));
  BOOST_CHECK(snapshot() == before);
  BOOST_CHECK_EQUAL(
      test::select_one(*db.connect(), "SELECT \"name\" FROM \"country\""),
      "kept");
}

BOOST_AUTO_TEST_CASE(migrate_leaves_the_domain_tables_to_the_domain) {
  auto sql = open();
  BOOST_REQUIRE(!migrate(*sql, db.backend));
  for (auto t :
       {"category", "related_object", "top_level_object", "child_object"})
    BOOST_CHECK_MESSAGE(!table_exists(t), t << " made by migrate");
  BOOST_CHECK(table_exists("commit_log"));
  BOOST_CHECK(table_exists("idempotency_key"));
  auto err = ensure_domain_schema(
      *sql, db.backend, parse(read_text(source_file("domains/objects.yaml"))));
  BOOST_REQUIRE_MESSAGE(!err, error_message(err));
  BOOST_CHECK_EQUAL(columns("child_object").size(), 5u);
}

BOOST_AUTO_TEST_CASE(each_difference_is_named) {
  auto id = std::string{sqlite() ? "\"id\" INTEGER PRIMARY KEY AUTOINCREMENT"
                                 : "\"id\" BIGSERIAL PRIMARY KEY"};
  auto real = std::string{sqlite() ? "REAL" : "DOUBLE PRECISION"};
  auto boolean = std::string{sqlite() ? "INTEGER" : "BOOLEAN"};
  auto book = [&](const std::string& columns) {
    return "CREATE TABLE \"book\" (" + id + ", " + columns + ")";
  };
  auto where = [](const char* column) {
    return std::string{"table \"book\", column \""} + column + "\": ";
  };
  expect_accepted(book_yaml, book("title TEXT NOT NULL, price " + real +
                                  ", in_print " + boolean + " NOT NULL"));
  BOOST_TEST_MESSAGE("a declared column is missing");
  expect_mismatch(
      book_yaml, book("title TEXT NOT NULL, in_print " + boolean + " NOT NULL"),
      {where("price") + "the database has no such column, the "
                        "domain declares number"});
  BOOST_TEST_MESSAGE("another type");
  expect_mismatch(book_yaml,
                  book("title TEXT NOT NULL, price TEXT, in_print " + boolean +
                       " NOT NULL"),
                  {where("price") +
                   "the database has type TEXT, the domain declares "
                   "number (" +
                   (sqlite() ? "REAL affinity" : "DOUBLE PRECISION") + ")"});
  expect_mismatch(book_yaml,
                  book("title INTEGER NOT NULL, price " + real +
                       ", in_print TEXT NOT NULL"),
                  {where("title") + "the database has type INTEGER",
                   where("in_print") + "the database has type TEXT"});
  BOOST_TEST_MESSAGE("nullability");
  expect_mismatch(book_yaml,
                  book("title TEXT, price " + real + " NOT NULL, in_print " +
                       boolean + " NOT NULL"),
                  {where("title") + "the database allows NULL, the domain "
                                    "declares it required",
                   where("price") + "the database has it NOT NULL, the domain "
                                    "declares it optional"});
  BOOST_TEST_MESSAGE("an undeclared NOT NULL column");
  auto good = "title TEXT NOT NULL, price " + real + ", in_print " + boolean +
              " NOT NULL";
  expect_mismatch(book_yaml, book(good + ", legacy TEXT NOT NULL"),
                  {where("legacy") + "the database has it NOT NULL without a "
                                     "default, and the domain does not "
                                     "declare it"});
  expect_accepted(book_yaml,
                  book(good + ", legacy TEXT NOT NULL DEFAULT 'x', note TEXT"));
  BOOST_TEST_MESSAGE("id is not a 64-bit key the database assigns");
  auto no_id = [&](const std::string& id_column) {
    return "CREATE TABLE \"book\" (" + id_column + ", " + good + ")";
  };
  auto needs = std::string{"the domain needs "} +
               (sqlite() ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                         : "a 64-bit primary key that the database assigns");
  if (sqlite()) {
    expect_mismatch(book_yaml, no_id("id INTEGER PRIMARY KEY"),
                    {where("id") + "the database has INTEGER PRIMARY KEY "
                                   "without AUTOINCREMENT",
                     needs});
    expect_mismatch(book_yaml, no_id("id BIGINT PRIMARY KEY"),
                    {where("id") + "the database has type BIGINT", needs});
  } else {
    expect_mismatch(
        book_yaml,
        no_id("id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
        {where("id") + "the database has type INTEGER", needs});
    expect_mismatch(book_yaml, no_id("id BIGINT PRIMARY KEY"),
                    {where("id") + "the database does not assign it", needs});
  }
  expect_mismatch(book_yaml, no_id("id TEXT PRIMARY KEY"),
                  {where("id") + "the database has type TEXT", needs});
  expect_mismatch(book_yaml, no_id("other INTEGER PRIMARY KEY"),
                  {where("id") + "the database has no such column", needs});
  expect_mismatch(book_yaml,
                  no_id(id.substr(0, id.find(' ')) + " " +
                        (sqlite() ? "INTEGER" : "BIGINT") +
                        ", code TEXT PRIMARY KEY"),
                  {where("id") + "the table's primary key is on other "
                                 "columns"});
  BOOST_TEST_MESSAGE("a view where a table is declared");
  exec("DROP TABLE IF EXISTS \"book\"");
  exec("CREATE VIEW \"book\" AS SELECT 1 AS \"id\"");
  auto err = start(parse(book_yaml));
  BOOST_CHECK_EQUAL(error_code(err), ec::schema_mismatch);
  BOOST_CHECK_MESSAGE(
      error_message(err).find("table \"book\": the database has a view of that "
                              "name, not a table") != std::string::npos,
      error_message(err));
}

BOOST_AUTO_TEST_CASE(types_that_store_the_same_values_are_accepted) {
  auto id = std::string{sqlite() ? "id INTEGER PRIMARY KEY AUTOINCREMENT"
                                 : "id BIGINT GENERATED ALWAYS AS IDENTITY"
                                   " PRIMARY KEY"};
  if (sqlite()) {
    expect_accepted(book_yaml, "CREATE TABLE book (" + id +
                                   ", title VARCHAR(10) NOT NULL, price DOUBLE"
                                   ", in_print BOOLEAN NOT NULL)");
  } else {
    expect_accepted(book_yaml, "CREATE TABLE book (" + id +
                                   ", title VARCHAR NOT NULL, price FLOAT8"
                                   ", in_print BOOL NOT NULL)");
    expect_accepted(book_yaml, "CREATE TABLE book (" + id +
                                   ", title VARCHAR(200) NOT NULL, price FLOAT8"
                                   ", in_print BOOL NOT NULL)");
    expect_mismatch(book_yaml,
                    "CREATE TABLE book (" + id +
                        ", title VARCHAR(199) NOT NULL, price FLOAT8"
                        ", in_print BOOL NOT NULL)",
                    {"table \"book\", column \"title\": the database has type "
                     "CHARACTER VARYING(199)"});
  }
}

BOOST_AUTO_TEST_CASE(a_refused_start_changes_nothing) {
  exec("CREATE TABLE \"copy\" (\"id\" " +
       std::string{sqlite() ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                            : "BIGSERIAL PRIMARY KEY"} +
       ", \"book_id\" BIGINT NOT NULL, \"barcode\" TEXT NOT NULL)");
  BOOST_TEST_MESSAGE("rows already hold a value declared unique twice");
  for (auto code : {"a", "b", "a", "a"})
    exec("INSERT INTO \"copy\" (\"book_id\", \"barcode\") VALUES (1, '" +
         std::string{code} + "')");
  auto before = snapshot();
  auto err = start(parse(library_yaml));
  BOOST_CHECK_EQUAL(error_code(err), ec::schema_mismatch);
  BOOST_CHECK_MESSAGE(
      error_message(err).find(
          "table \"copy\", column \"barcode\": declared unique, but in the "
          "database 3 rows hold the same value (ids 1 to 4)") !=
          std::string::npos,
      error_message(err));
  BOOST_CHECK(!table_exists("book"));
  BOOST_TEST_MESSAGE("and once the duplicates are gone, it starts");
  exec("DELETE FROM \"copy\" WHERE \"id\" > 2");
  auto second = start(parse(library_yaml));
  BOOST_CHECK_MESSAGE(!second, error_message(second));
  BOOST_CHECK(table_exists("book"));
}

BOOST_AUTO_TEST_CASE(a_users_extra_nullable_column_and_its_data_survive) {
  exec(std::string{"CREATE TABLE \"country\" (\"id\" "} +
       (sqlite() ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                 : "BIGSERIAL PRIMARY KEY") +
       ", \"name\" TEXT NOT NULL, \"note\" TEXT)");
  exec("INSERT INTO \"country\" (\"name\", \"note\") VALUES ('fr', 'mine')");
  for (int i = 0; i < 2; ++i) {
    auto err = start(parse(library_yaml));
    BOOST_REQUIRE_MESSAGE(!err, error_message(err));
  }
  BOOST_CHECK_EQUAL(
      test::select_one(*db.connect(),
                       "SELECT \"name\" || '/' || \"note\" FROM \"country\""),
      "fr/mine");
  BOOST_CHECK_EQUAL(columns("country").size(), 3u);
}

BOOST_AUTO_TEST_CASE(nodes_starting_at_once_both_start) {
  auto d = parse(library_yaml);
  caf::error errors[2];
  std::vector<std::thread> nodes;
  // No Boost.Test assertion off the main thread.
  for (auto& err : errors)
    nodes.emplace_back([&] {
      auto sql = open_session(db.settings, session_mode::write);
      if (!sql)
        err = sql.error();
      else if (!(err = migrate(**sql, db.backend)))
        err = ensure_domain_schema(**sql, db.backend, d);
    });
  for (auto& node : nodes)
    node.join();
  for (auto& err : errors)
    BOOST_CHECK_MESSAGE(!err, error_message(err));
  BOOST_CHECK_EQUAL(columns("receipt").size(), 3u);
}

// -- a database written by release 57c8098 (tests/data/make-old-db.sh) -----

BOOST_AUTO_TEST_CASE(a_database_of_release_57c8098_keeps_working) {
  if (sqlite()) {
    std::filesystem::copy_file(source_file("tests/data/objects-57c8098.db"),
                               db.path);
  } else {
    BOOST_TEST_MESSAGE("loading the pg_dump of release 57c8098");
    auto sql = db.connect();
    std::istringstream dump{
        read_text(source_file("tests/data/objects-57c8098.postgresql.sql"))};
    std::string line, statement;
    while (std::getline(dump, line)) {
      if (line.rfind("--", 0) == 0 || line.rfind("\\", 0) == 0)
        continue;
      statement += line + "\n";
      if (!line.empty() && line.back() == ';') {
        *sql << statement;
        statement.clear();
      }
    }
  }
  auto before = snapshot();
  auto err = start(parse(read_text(source_file("domains/objects.yaml"))));
  BOOST_REQUIRE_MESSAGE(!err, error_message(err));
  BOOST_CHECK_MESSAGE(snapshot() == before, "the old schema was changed");
  auto sql = open();
  auto all = [&](const std::string& query, size_t n) {
    return test::select_rows(*sql, query, n);
  };
  BOOST_CHECK(all("SELECT version FROM schema_version", 1) == rows{{"2"}});
  BOOST_CHECK((all("SELECT id, description FROM category ORDER BY id", 2) ==
               rows{{"1", "Books"}, {"2", "Music"}}));
  BOOST_CHECK((all("SELECT id, content_description, content_type"
                   " FROM related_object ORDER BY id",
                   3) == rows{{"1", "A novel", "text/plain"},
                              {"2", "An album", "audio/flac"}}));
  BOOST_CHECK((all("SELECT id, name FROM top_level_object ORDER BY id", 2) ==
               rows{{"1", "first, renamed"}, {"2", "second"}}));
  BOOST_CHECK(
      (all("SELECT id, access_code, top_level_object_id,"
           " related_object_id, category_id FROM child_object"
           " ORDER BY id",
           5) == rows{{"1", "a9", "1", "2", "1"}, {"2", "b2", "2", "2", "2"}}));
  auto log = all("SELECT seq, changed FROM commit_log ORDER BY seq", 2);
  BOOST_REQUIRE_EQUAL(log.size(), 9u);
  BOOST_CHECK((log[0] == std::vector<std::string>{"1", "category:1"}));
  BOOST_CHECK((log[4] == std::vector<std::string>{
                             "5", "top_level_object:1 child_object:1"}));
  BOOST_CHECK((log[8] == std::vector<std::string>{
                             "9", "top_level_object:3 child_object:3"}));
  BOOST_CHECK((all("SELECT key, id, seq FROM idempotency_key", 3) ==
               rows{{"make-old-db-2", "2", "6"}}));
  BOOST_TEST_MESSAGE("the id of the deleted object 3 is not reused");
  *sql << "INSERT INTO top_level_object (name) VALUES ('fourth')";
  BOOST_CHECK_EQUAL(test::select_one(*sql, "SELECT CAST(max(id) AS TEXT)"
                                           " FROM top_level_object"),
                    "4");
}

BOOST_AUTO_TEST_SUITE_END()
