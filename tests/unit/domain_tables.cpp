// Tests of the rules of a domain file's tables and columns (DOMAIN.md,
// "Tables"): names, reserved names, limits, types and the options each type
// takes, and cycles of required references. Each case names the path and
// the message of the error a broken rule gives.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "fixtures/domain_yaml.hpp"

using namespace cqrs;
using namespace cqrs::test;

namespace {

struct fixture : domain_yaml {};

} // namespace

BOOST_FIXTURE_TEST_SUITE(domain_tables, fixture)

// -- tables -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(table_names_are_identifiers) {
  for (auto bad : {"Book", "123", "1e3", "book-case", "b\xc3\xa4r"})
    check_error(std::string{"name: t\ntables: {"} + bad + ": {columns: {}}}\n",
                std::string{"tables."} + bad, "expected a table name matching");
  check_error("name: t\ntables: {" + std::string(64, 'a') +
                  ": {columns: {}}}\n",
              "tables." + std::string(64, 'a'), "table name matching");
  parse_ok("name: t\ntables: {" + std::string(63, 'a') +
           ": {columns: {}}, order: {columns: {}}, user: {columns: {}}}\n");
}

BOOST_AUTO_TEST_CASE(reserved_table_names_are_refused) {
  for (auto bad : {"commit_log", "idempotency_key", "schema_version", "cqrsd_x",
                   "sqlite_master", "pg_class"})
    check_error(std::string{"name: t\ntables: {"} + bad + ": {columns: {}}}\n",
                std::string{"tables."} + bad, "is reserved");
}

BOOST_AUTO_TEST_CASE(at_most_64_tables) {
  std::string yaml = "name: t\ntables:\n";
  for (int i = 0; i < 64; ++i)
    yaml += "  t" + std::to_string(i) + ": {columns: {}}\n";
  BOOST_TEST(parse_ok(yaml).tables.size() == 64u);
  check_error(yaml + "  t64: {columns: {}}\n", "tables",
              "expected at most 64 tables, got 65");
}

BOOST_AUTO_TEST_CASE(at_most_64_columns_per_table) {
  std::string columns;
  for (int i = 0; i < 64; ++i)
    columns += "      c" + std::to_string(i) + ": integer\n";
  auto yaml = "name: t\ntables:\n  t:\n    columns:\n" + columns;
  BOOST_TEST(parse_ok(yaml).tables[0].columns.size() == 64u);
  check_error(yaml + "      c64: integer\n", "tables.t.columns",
              "expected at most 64 columns, got 65");
}

BOOST_AUTO_TEST_CASE(columns_key_is_required_and_may_be_empty) {
  check_error("name: t\ntables: {book: {}}\n", "tables.book",
              "missing key 'columns'");
  check_error("name: t\ntables: {book: text}\n", "tables.book",
              "expected a mapping with columns, got 'text'");
  check_error("name: t\ntables: {book: {columns: [title]}}\n",
              "tables.book.columns", "expected a mapping of columns");
  BOOST_TEST(parse_ok("name: t\ntables: {tag: {columns: {}}}\n")
                 .tables[0]
                 .columns.empty());
}

BOOST_AUTO_TEST_CASE(column_names_are_identifiers_and_not_reserved) {
  check_error(column("text", "Title"), "tables.book.columns.Title",
              "expected a column name matching");
  for (auto bad : {"id", "xmin", "xmax", "cmin", "cmax", "ctid", "tableoid",
                   "oid", "rowid"})
    check_error(column("integer", bad),
                std::string{"tables.book.columns."} + bad, "is reserved");
}

// -- columns ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(types_are_text_integer_number_or_boolean) {
  for (auto type : {"text", "integer", "number", "boolean"}) {
    auto d = parse_ok(column(type));
    BOOST_TEST(to_string(d.tables[0].columns[0].type) == type);
    parse_ok(column(std::string{"{type: "} + type + "}"));
  }
  check_error(
      column("string"), "tables.book.columns.c",
      "expected a type (text, integer, number or boolean), got 'string'");
  check_error(column("{type: reference}"), "tables.book.columns.c.type",
              "{references: TABLE}");
  check_error(column("[text]"), "tables.book.columns.c", "got a sequence");
  check_error(column(""), "tables.book.columns.c", "got null");
}

BOOST_AUTO_TEST_CASE(type_or_references_but_not_both) {
  check_error(column("{optional: true}"), "tables.book.columns.c",
              "missing key 'type' (text, integer, number or boolean) or "
              "'references'");
  check_error(column("{type: integer, references: book}"),
              "tables.book.columns.c.references", "either type or references");
}

BOOST_AUTO_TEST_CASE(references_name_a_declared_table) {
  check_error(column("{references: shelf}"), "tables.book.columns.c.references",
              "names no declared table 'shelf'");
  check_error(column("{references: [book]}"),
              "tables.book.columns.c.references", "expected a table name");
}

BOOST_AUTO_TEST_CASE(booleans_are_yaml_booleans) {
  for (auto yes : {"true", "True", "TRUE"})
    BOOST_TEST(
        parse_ok(column(std::string{"{type: text, optional: "} + yes + "}"))
            .tables[0]
            .columns[0]
            .optional);
  for (auto bad : {"yes", "on", "1", "[true]"})
    check_error(column(std::string{"{type: text, unique: "} + bad + "}"),
                "tables.book.columns.c.unique", "expected true or false");
  check_error(column("{type: text, optional: 'true'}"),
              "tables.book.columns.c.optional", "the quoted string 'true'");
}

BOOST_AUTO_TEST_CASE(length_limits_are_for_text_and_ordered) {
  auto c = parse_ok(column("{type: text, min_length: 0, max_length: 5}"))
               .tables[0]
               .columns[0];
  BOOST_TEST((c.min_length == 0u && c.max_length == 5u));
  check_error(column("{type: integer, min_length: 1}"),
              "tables.book.columns.c.min_length",
              "min_length applies to text columns only, and this column is "
              "integer");
  check_error(column("{references: book, max_length: 5, optional: true}"),
              "tables.book.columns.c.max_length", "a references column");
  for (auto bad : {"-1", "1.5", "'3'", "4294967296"})
    check_error(column(std::string{"{type: text, max_length: "} + bad + "}"),
                "tables.book.columns.c.max_length",
                "expected an integer in 0..4294967295");
  check_error(column("{type: text, min_length: 5, max_length: 4}"),
              "tables.book.columns.c.max_length",
              "expected an integer >= min_length (5), got 4");
  check_error(column("{type: text, min_length: 2000}"),
              "tables.book.columns.c.min_length", "1000 by default");
}

BOOST_AUTO_TEST_CASE(one_of_lists_distinct_text_within_the_limits) {
  auto c = parse_ok(column("{type: text, one_of: [b, 'a b', \"1\"]}"))
               .tables[0]
               .columns[0];
  BOOST_TEST(c.one_of == (std::vector<std::string>{"b", "a b", "1"}));
  check_error(column("{type: integer, one_of: [1]}"),
              "tables.book.columns.c.one_of", "applies to text columns only");
  check_error(column("{type: text, one_of: []}"),
              "tables.book.columns.c.one_of", "at least one allowed value");
  check_error(column("{type: text, one_of: a}"), "tables.book.columns.c.one_of",
              "got 'a'");
  check_error(column("{type: text, one_of: [a, [b]]}"),
              "tables.book.columns.c.one_of[1]", "got a sequence");
  check_error(column("{type: text, max_length: 3, one_of: [abc, abcd]}"),
              "tables.book.columns.c.one_of[1]",
              "'abcd' has 4 characters, outside the column's length limits "
              "1..3");
  check_error(column("{type: text, one_of: [a, '']}"),
              "tables.book.columns.c.one_of[1]", "has 0 characters");
  parse_ok(column("{type: text, max_length: 1, one_of: [\xc3\xa4]}"));
  check_error(column("{type: text, one_of: [a, b, a]}"),
              "tables.book.columns.c.one_of[2]", "'a' is listed twice");
  check_error(column("{type: text, one_of: [\"a\\0b\"]}"),
              "tables.book.columns.c.one_of[0]", "U+0000");
}

BOOST_AUTO_TEST_CASE(integer_bounds_are_int64_and_ordered) {
  auto c = parse_ok(column("{type: integer, min: -9223372036854775808, "
                           "max: 9223372036854775807}"))
               .tables[0]
               .columns[0];
  BOOST_TEST(*c.min_integer == std::numeric_limits<int64_t>::min());
  BOOST_TEST(*c.max_integer == std::numeric_limits<int64_t>::max());
  for (auto bad : {"1.5", "9223372036854775808", "0x10", "'5'", "ten"})
    check_error(column(std::string{"{type: integer, max: "} + bad + "}"),
                "tables.book.columns.c.max", "expected a 64-bit integer");
  check_error(column("{type: integer, min: 5, max: 4}"),
              "tables.book.columns.c.max",
              "expected a value >= min (5), got 4");
  check_error(column("{type: text, min: 1}"), "tables.book.columns.c.min",
              "min applies to integer and number columns only, and this "
              "column is text");
  check_error(column("{type: boolean, max: 1}"), "tables.book.columns.c.max",
              "boolean");
}

BOOST_AUTO_TEST_CASE(number_bounds_are_finite_and_ordered) {
  auto c = parse_ok(column("{type: number, min: -0.0, max: 1.5e3}"))
               .tables[0]
               .columns[0];
  BOOST_TEST(*c.min_number == 0.0);
  BOOST_TEST(!std::signbit(*c.min_number), "-0 reads as 0");
  BOOST_TEST(*c.max_number == 1500.0);
  parse_ok(column("{type: number, min: 2, max: .5e1}"));
  for (auto bad : {".inf", "-.inf", ".nan", "nan", "inf", "1e999", "0x10",
                   "'1'", "1.5.1", "e3"})
    check_error(column(std::string{"{type: number, min: "} + bad + "}"),
                "tables.book.columns.c.min", "expected a finite number");
  check_error(column("{type: number, min: 1.5, max: 1.25}"),
              "tables.book.columns.c.max", "expected a value >= min (1.5)");
}

BOOST_AUTO_TEST_CASE(cycles_of_required_references_are_named) {
  check_error(R"(name: t
tables:
  a: {columns: {b_id: {references: b}}}
  b: {columns: {c_id: {references: c}}}
  c: {columns: {a_id: {references: a}, x: text}}
)",
              "tables.a.columns.b_id.references",
              "a cycle of required references (a.b_id -> b, b.c_id -> c, "
              "c.a_id -> a)");
  check_error(column("{references: book}", "parent_id"),
              "tables.book.columns.parent_id.references",
              "(book.parent_id -> book)");
  BOOST_TEST_MESSAGE("an optional reference breaks the cycle");
  parse_ok(column("{references: book, optional: true}", "parent_id"));
  parse_ok(R"(name: t
tables:
  a: {columns: {b_id: {references: b}}}
  b: {columns: {a_id: {references: a, optional: true}}}
)");
}

BOOST_AUTO_TEST_SUITE_END()
