// Unit tests of the model layer: write bodies checked against a declared
// resource (the built-in objects domain and a richer library domain), filter
// values of query strings, row ids, the JSON of answers, row and cache keys.
#include <boost/test/unit_test.hpp>

#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/json.hpp"
#include "model/query.hpp"
#include "model/row_key.hpp"
#include "model/value_rules.hpp"

using namespace cqrs;
using json = nlohmann::json;
using ordered = nlohmann::ordered_json;

BOOST_TEST_DONT_PRINT_LOG_VALUE(cqrs::operation)

namespace {

// -- domains built by hand ----------------------------------------------------

/// A column declaration, built fluently.
struct col : column_decl {
  col(std::string n, column_type t = column_type::text) {
    name = std::move(n);
    type = t;
  }
  col& ref(std::string table) {
    type = column_type::reference;
    references = std::move(table);
    return *this;
  }
  col& opt() {
    optional = true;
    return *this;
  }
  col& len(uint32_t lo, uint32_t hi) {
    min_length = lo;
    max_length = hi;
    return *this;
  }
  col& ints(int64_t lo, int64_t hi) {
    min_integer = lo;
    max_integer = hi;
    return *this;
  }
  col& nums(double lo, double hi) {
    min_number = lo;
    max_number = hi;
    return *this;
  }
  col& among(std::vector<std::string> xs) {
    one_of = std::move(xs);
    return *this;
  }
};

table_decl table(std::string name, std::vector<column_decl> columns) {
  table_decl t;
  t.name = std::move(name);
  t.columns = std::move(columns);
  return t;
}

owned_decl owns(std::string field, std::string table, std::string by,
                uint32_t max_items = 0, std::vector<owned_decl> inner = {}) {
  owned_decl o;
  o.field = std::move(field);
  o.table = std::move(table);
  o.by = std::move(by);
  o.many = max_items > 0;
  o.max_items = max_items > 0 ? max_items : 100;
  o.owns = std::move(inner);
  return o;
}

resource_decl resource(std::string segment, std::string table,
                       std::vector<owned_decl> owned = {}) {
  resource_decl r;
  r.segment = std::move(segment);
  r.table = std::move(table);
  r.owns = std::move(owned);
  return r;
}

/// The write side of domains/objects.yaml.
domain objects_domain() {
  using t = column_type;
  domain d;
  d.name = "objects";
  d.tables = {
      table("category", {col("description")}),
      table("related_object",
            {col("content_description"), col("content_type")}),
      table("top_level_object", {col("name")}),
      table("child_object",
            {col("access_code"),
             col("top_level_object_id", t::integer).ref("top_level_object"),
             col("related_object_id").ref("related_object"),
             col("category_id").ref("category")}),
  };
  d.resources = {
      resource("categories", "category"),
      resource("related-objects", "related_object"),
      resource("objects", "top_level_object",
               {owns("child", "child_object", "top_level_object_id")})};
  derive(d);
  return d;
}

/// A library: every column type and option, a single owned child, and an
/// owned array whose items own an array.
domain library_domain() {
  using t = column_type;
  domain d;
  d.name = "library";
  d.tables = {
      table("author", {col("name"), col("born", t::integer).opt()}),
      table("branch", {col("name")}),
      table("member", {col("name")}),
      table("book",
            {col("title").len(1, 200), col("isbn").len(10, 13),
             col("format").among({"hardcover", "paperback", "ebook"}),
             col("price", t::number).nums(0, 10000),
             col("in_print", t::boolean), col("pages", t::integer).opt(),
             col("rating", t::number).opt(), col("note").opt().len(0, 1000),
             col("author_id").ref("author")}),
      table("blurb", {col("book_id").ref("book"), col("text")}),
      table("copy", {col("book_id").ref("book"), col("barcode"),
                     col("branch_id").ref("branch").opt()}),
      table("loan", {col("copy_id").ref("copy"), col("member_id").ref("member"),
                     col("due", t::integer).ints(0, 1000000)}),
  };
  d.resources = {
      resource("authors", "author"),
      resource("books", "book",
               {owns("blurb", "blurb", "book_id"),
                owns("copies", "copy", "book_id", 3,
                     {owns("loans", "loan", "copy_id", 2)})}),
  };
  derive(d);
  return d;
}

// -- rows as text -------------------------------------------------------------

/// A value as tests spell it: null, 42, 9.5f (a number), true, 'text'.
std::string show(const field_value& v) {
  switch (v.kind) {
  case value_kind::null:
    return "null";
  case value_kind::integer:
    return std::to_string(v.integer);
  case value_kind::number:
    return number_text(v.number) + "f";
  case value_kind::boolean:
    return v.integer ? "true" : "false";
  case value_kind::text:
    return "'" + v.text + "'";
  }
  return "?";
}

/// A row as "node N parent P: v1, v2, ...".
std::string show(const row_write& row) {
  std::ostringstream out;
  out << "node " << row.node << " parent " << row.parent << ":";
  for (size_t i = 0; i < row.values.size(); ++i)
    out << (i ? ", " : " ") << show(row.values[i]);
  return out.str();
}

/// A valid book: every required field, a blurb, two copies with loans.
const char* book_body = R"({
  "title": "Dune", "isbn": "9780441013593", "format": "paperback",
  "price": 9.99, "in_print": true, "author_id": 1,
  "blurb": {"text": "Spice."},
  "copies": [
    {"barcode": "C-1", "branch_id": 2,
     "loans": [{"member_id": 5, "due": 100}, {"member_id": 6, "due": 200}]},
    {"barcode": "C-2", "branch_id": null, "loans": [{"member_id": 7, "due": 0}]}
  ]})";

const std::vector<std::string> book_rows = {
    "node 0 parent -1: 'Dune', '9780441013593', 'paperback', 9.99f, true, "
    "null, null, null, 1",
    "node 1 parent 0: null, 'Spice.'",
    "node 2 parent 0: null, 'C-1', 2",
    "node 3 parent 2: null, 5, 100",
    "node 3 parent 2: null, 6, 200",
    "node 2 parent 0: null, 'C-2', null",
    "node 3 parent 5: null, 7, 0",
};

struct fixture {
  domain objects = objects_domain();
  domain library = library_domain();

  static size_t index(const domain& d, std::string_view segment) {
    auto i = d.resource_index(segment);
    BOOST_REQUIRE_MESSAGE(i.has_value(), "no resource " << segment);
    return *i;
  }

  /// Parses `body` for create on `segment` and requires success.
  command ok(const domain& d, std::string_view segment, const std::string& body,
             operation op = operation::create, row_id id = 0) {
    validation_error err;
    auto cmd = parse_command(d, op, index(d, segment), id, body, err);
    BOOST_REQUIRE_MESSAGE(cmd.has_value(), "unexpected rejection ("
                                               << err.message << ") of: "
                                               << body.substr(0, 300));
    BOOST_TEST(cmd->op == op);
    BOOST_TEST(cmd->resource == index(d, segment));
    BOOST_TEST(cmd->id == id);
    return *cmd;
  }

  /// The rows of a successful create, as text.
  std::vector<std::string> rows(const domain& d, std::string_view segment,
                                const std::string& body) {
    std::vector<std::string> result;
    for (const auto& row : ok(d, segment, body).rows)
      result.push_back(show(row));
    return result;
  }

  /// Parses `body` for create and update on `segment`, requires the same
  /// rejection from both and returns its message.
  std::string bad(const domain& d, std::string_view segment,
                  const std::string& body) {
    std::string first;
    for (auto op : {operation::create, operation::update}) {
      validation_error err;
      auto cmd = parse_command(d, op, index(d, segment), 3, body, err);
      BOOST_REQUIRE_MESSAGE(!cmd.has_value(),
                            "expected a rejection of: " << body.substr(0, 300));
      BOOST_TEST(!err.message.empty());
      if (op == operation::create)
        first = err.message;
      else
        BOOST_TEST(err.message == first);
    }
    return first;
  }

  /// The book body with the value at JSON pointer `at` set to the JSON text
  /// `raw` (kept as written, so "1.0" stays a float literal).
  static std::string book_with(const std::string& at, const std::string& raw) {
    auto doc = ordered::parse(book_body);
    doc[ordered::json_pointer(at)] = "@@";
    auto text = doc.dump();
    text.replace(text.find("\"@@\""), 4, raw);
    return text;
  }

  /// The book body without the field at JSON pointer `at`.
  static std::string book_without(const std::string& at) {
    auto doc = ordered::parse(book_body);
    ordered::json_pointer ptr(at);
    doc[ptr.parent_pointer()].erase(ptr.back());
    return doc.dump();
  }

  /// An object body with the given raw JSON values.
  static std::string object_with(const std::string& name,
                                 const std::string& access_code,
                                 const std::string& related_object_id,
                                 const std::string& category_id) {
    return R"({"name":)" + name + R"(,"child":{"access_code":)" + access_code +
           R"(,"related_object_id":)" + related_object_id +
           R"(,"category_id":)" + category_id + "}}";
  }

  static std::string quoted(const std::string& text) {
    return "\"" + text + "\"";
  }

  static std::string repeat(const std::string& unit, size_t n) {
    std::string result;
    for (size_t i = 0; i < n; ++i)
      result += unit;
    return result;
  }
};

/// One rejected body of the library domain and its exact message.
struct rejection {
  std::string body;
  std::string message;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(model, fixture)

// -- the objects domain: today's API ------------------------------------------

BOOST_AUTO_TEST_CASE(objects_valid_bodies_yield_their_rows) {
  auto cmd = ok(objects, "categories", R"( { "description" : "books" } )",
                operation::update, 7);
  BOOST_REQUIRE(cmd.rows.size() == 1u);
  BOOST_TEST(show(cmd.rows[0]) == "node 0 parent -1: 'books'");
  // Field order does not matter.
  BOOST_TEST(rows(objects, "related-objects",
                  R"({"content_type":"pdf","content_description":"m"})") ==
             std::vector<std::string>{"node 0 parent -1: 'm', 'pdf'"});
  // The child's `by` slot is null: the store sets it.
  BOOST_TEST(
      rows(objects, "objects",
           object_with(R"("lamp")", R"("A-1")", "9223372036854775807", "1")) ==
      (std::vector<std::string>{
          "node 0 parent -1: 'lamp'",
          "node 1 parent 0: 'A-1', null, 9223372036854775807, 1"}));
}

BOOST_AUTO_TEST_CASE(remove_ignores_the_body) {
  for (auto segment : {"categories", "related-objects", "objects"})
    for (auto body : {"", "not json", "{\"x\":1}"}) {
      auto cmd = ok(objects, segment, body, operation::remove, 5);
      BOOST_TEST(cmd.rows.empty());
    }
}

BOOST_AUTO_TEST_CASE(escaped_strings_are_decoded) {
  auto cmd = ok(objects, "categories",
                R"({"description":"say \"hi\"\n\u00e9\ud83d\ude00"})");
  BOOST_TEST(cmd.rows[0].values[0].text ==
             "say \"hi\"\n\xc3\xa9\xf0\x9f\x98\x80");
}

BOOST_AUTO_TEST_CASE(malformed_json_is_rejected) {
  using namespace std::string_literals;
  for (auto body :
       {""s, " "s, "{"s, "}"s, R"({"description":})"s,
        R"({"description":"books")"s, R"({"description":"books",})"s,
        R"({'description':'books'})"s, R"({description:"books"})"s,
        R"({"description":"books"} trailing)"s,
        R"({"description":"books"}{"description":"films"})"s,
        R"({"description":"unterminated})"s, "not json"s,
        R"({"description":"books" /* comment */})"s,
        // raw NUL bytes anywhere: nlohmann alone would stop at the first
        R"({"description":"books"})"s + '\0',
        R"({"description":"books"})"s + '\0' + "trailing",
        '\0' + R"({"description":"books"})"s,
        R"({"description":"bo)"s + '\0' + R"(oks"})"s,
        // raw control characters, invalid UTF-8, lone surrogates
        "{\"description\":\"a\nb\"}"s, "{\"description\":\"a\tb\"}"s,
        "{\"description\":\"\xff\"}"s, "{\"description\":\"\xc0\xaf\"}"s,
        "{\"description\":\"\xed\xa0\x80\"}"s,
        "{\"description\":\"\xf4\x90\x80\x80\"}"s,
        "{\"description\":\"ok\xfe\"}"s, "{\"description\":\"\xe2\x82\"}"s,
        R"({"description":"\ud800"})"s, R"({"description":"\udc00x"})"s,
        "\xff{\"description\":\"books\"}"s,
        // syntax beats every later check
        R"({"x":1,"x":2)"s, R"([{"a":1},)"s, R"({"description":5,)"s})
    BOOST_TEST_CONTEXT("body: " << body) {
      BOOST_TEST(bad(objects, "categories", body)
                     .rfind("request body is not valid JSON", 0) == 0u);
    }
  // A number beyond a double is valid JSON out of range: the message names
  // its field.
  for (const auto& body :
       {R"({"description":1e400})"s, R"({"description":-1e400})"s,
        R"({"description":1)"s + std::string(400, '0') + ".5}"})
    BOOST_TEST_CONTEXT("body: " << body) {
      BOOST_TEST(bad(objects, "categories", body) ==
                 "field 'body.description' is out of range (a number beyond "
                 "the range of a double)");
    }
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_rejected_without_crashing) {
  const size_t depth = 100000;
  auto deep = repeat("[", depth) + repeat("]", depth);
  auto deep_objects = repeat(R"({"a":)", depth) + "1" + repeat("}", depth);
  BOOST_TEST(bad(objects, "categories", repeat("[", depth))
                 .rfind("request body is not valid JSON", 0) == 0u);
  BOOST_TEST(bad(objects, "objects", repeat(R"({"a":)", depth))
                 .rfind("request body is not valid JSON", 0) == 0u);
  BOOST_TEST(bad(objects, "categories", deep) == "body must be a JSON object");
  BOOST_TEST(bad(objects, "categories", R"({"description":)" + deep + "}") ==
             "field 'body.description' must be a string");
  BOOST_TEST(bad(objects, "objects",
                 object_with(R"("lamp")", R"("A")", "1", deep_objects)) ==
             "field 'body.child.category_id' must be an integer id");
  BOOST_TEST(bad(objects, "categories",
                 R"({"description":"a","x":)" + deep_objects + "}") ==
             "unknown field 'body.x'");
}

BOOST_AUTO_TEST_CASE(objects_rejections_name_the_field) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"[]", "body must be a JSON object"},
      {"null", "body must be a JSON object"},
      {R"("lamp")", "body must be a JSON object"},
      {"42", "body must be a JSON object"},
      {R"([{"name":"lamp"}])", "body must be a JSON object"},
      {R"({"name":"lamp"})", "missing field 'body.child'"},
      {R"({"child":{}})", "missing field 'body.name'"},
      {R"({"name":"lamp","child":{}})",
       "missing field 'body.child.access_code'"},
      {R"({"name":"lamp","child":"c"})", "body.child must be a JSON object"},
      {R"({"name":"lamp","child":null})", "body.child must be a JSON object"},
      {R"({"name":"lamp","child":[]})", "body.child must be a JSON object"},
      {R"({"name":"lamp","id":4,"child":{}})", "unknown field 'body.id'"},
      {R"({"Name":"lamp"})", "unknown field 'body.Name'"},
      {object_with("5", R"("A")", "1", "1"),
       "field 'body.name' must be a string"},
      {object_with("null", R"("A")", "1", "1"),
       "field 'body.name' must be a string"},
      {object_with(R"("")", R"("A")", "1", "1"),
       "field 'body.name' must not be empty"},
      {object_with(R"("n")", R"("a\u0000")", "1", "1"),
       "field 'body.child.access_code' must not contain NUL characters"},
      {object_with(quoted(repeat("x", 1001)), R"("A")", "1", "1"),
       "field 'body.name' is longer than 1000 characters"},
  };
  for (const auto& [body, message] : cases)
    BOOST_TEST(bad(objects, "objects", body) == message, "body: " << body);
  // The child's `by` column is no field of the body.
  auto by = R"({"name":"n","child":{"access_code":"A","top_level_object_id":1,)"
            R"("related_object_id":1,"category_id":1}})";
  BOOST_TEST(bad(objects, "objects", by) ==
             "unknown field 'body.child.top_level_object_id'");
  // The fields of one resource are unknown to another.
  BOOST_TEST(bad(objects, "related-objects", R"({"description":"b"})") ==
             "unknown field 'body.description'");
}

BOOST_AUTO_TEST_CASE(objects_ids_must_be_positive_int64) {
  for (std::string field : {"related_object_id", "category_id"}) {
    auto body = [&](const std::string& v) {
      return field == "category_id" ? object_with(R"("n")", R"("A")", "1", v)
                                    : object_with(R"("n")", R"("A")", v, "1");
    };
    auto name = "field 'body.child." + field + "' ";
    for (auto v :
         {R"("7")", R"("")", "1.5", "7.0", "1e2", "true", "null", "{}", "[7]"})
      BOOST_TEST(bad(objects, "objects", body(v)) ==
                 name + "must be an integer id");
    for (auto v : {"0", "-0", "-1", "-9223372036854775808",
                   "9223372036854775808", "18446744073709551615",
                   "18446744073709551616", "99999999999999999999999"})
      BOOST_TEST(bad(objects, "objects", body(v)) ==
                     name + "must be a positive id",
                 "value " << v);
    ok(objects, "objects", body("9223372036854775807"));
  }
}

BOOST_AUTO_TEST_CASE(text_length_counts_code_points) {
  auto category = [](const std::string& raw) {
    return R"({"description":)" + raw + "}";
  };
  const std::string too_long = "field 'body.description' is longer than 1000 "
                               "characters";
  for (std::string unit : {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                           "\\u00e9", "\\ud83d\\ude00"}) {
    BOOST_TEST_CONTEXT("unit " << unit) {
      ok(objects, "categories", category(quoted(repeat(unit, 1000))));
      BOOST_TEST(bad(objects, "categories",
                     category(quoted(repeat(unit, 1001)))) == too_long);
    }
  }
  // Whitespace is text: only "" is empty.
  BOOST_TEST(show(ok(objects, "categories", category(R"(" ")")).rows[0]) ==
             "node 0 parent -1: ' '");
  // A minimum counts code points too: 10 two-byte characters are enough for
  // the isbn, 9 four-byte ones (36 bytes) are not.
  ok(library, "books", book_with("/isbn", quoted(repeat("\xc3\xa9", 10))));
  BOOST_TEST(bad(library, "books",
                 book_with("/isbn", quoted(repeat("\xf0\x9f\x98\x80", 9)))) ==
             "field 'body.isbn' is shorter than 10 characters");
}

// -- the library domain: rows -------------------------------------------------

BOOST_AUTO_TEST_CASE(a_valid_body_yields_its_rows_in_declared_pre_order) {
  BOOST_TEST(rows(library, "books", book_body) == book_rows,
             boost::test_tools::per_element());
  // The same body with the owned fields first and the columns reversed.
  auto doc = ordered::parse(book_body);
  ordered reordered;
  for (auto key : {"copies", "blurb", "author_id", "in_print", "price",
                   "format", "isbn", "title"})
    reordered[key] = doc[key];
  BOOST_TEST(rows(library, "books", reordered.dump()) == book_rows,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(optional_fields_may_be_absent_or_null) {
  auto doc = ordered::parse(book_body);
  doc["pages"] = nullptr;
  doc["rating"] = nullptr;
  doc["note"] = "";
  doc["copies"] = ordered::array();
  BOOST_TEST(rows(library, "books", doc.dump()) ==
             (std::vector<std::string>{
                 "node 0 parent -1: 'Dune', '9780441013593', 'paperback', "
                 "9.99f, true, null, null, '', 1",
                 "node 1 parent 0: null, 'Spice.'"}));
  doc["pages"] = -9223372036854775807 - 1;
  doc["rating"] = 5;
  BOOST_TEST(rows(library, "books", doc.dump())[0] ==
             "node 0 parent -1: 'Dune', '9780441013593', 'paperback', "
             "9.99f, true, -9223372036854775808, 5f, '', 1");
  BOOST_TEST(
      rows(library, "books", book_with("/copies/0/branch_id", "null"))[2] ==
      "node 2 parent 0: null, 'C-1', null");
  BOOST_TEST(rows(library, "books", book_without("/copies/0/branch_id"))[2] ==
             "node 2 parent 0: null, 'C-1', null");
}

BOOST_AUTO_TEST_CASE(values_at_their_edges_are_accepted) {
  auto root = [&](const std::string& at, const std::string& raw) {
    return rows(library, "books", book_with(at, raw))[0];
  };
  const std::string head =
      "node 0 parent -1: 'Dune', '9780441013593', 'paperback', ";
  BOOST_TEST(root("/pages", "9223372036854775807") ==
             head + "9.99f, true, 9223372036854775807, null, null, 1");
  BOOST_TEST(root("/pages", "-0") == head + "9.99f, true, 0, null, null, 1");
  BOOST_TEST(root("/price", "0") == head + "0f, true, null, null, null, 1");
  BOOST_TEST(root("/price", "1e4") ==
             head + "10000f, true, null, null, null, 1");
  BOOST_TEST(root("/rating", "-1.5E-3") ==
             head + "9.99f, true, null, -0.0015f, null, 1");
  BOOST_TEST(root("/in_print", "false") ==
             head + "9.99f, false, null, null, null, 1");
  BOOST_TEST(rows(library, "books",
                  book_with("/copies/0/loans/0/due", "1000000"))[3] ==
             "node 3 parent 2: null, 5, 1000000");
  BOOST_TEST(
      rows(library, "books", book_with("/title", quoted(repeat("t", 200))))
          .size() == book_rows.size());
  for (auto format : {"hardcover", "ebook"})
    ok(library, "books", book_with("/format", quoted(format)));
  // Three copies are the most, two loans per copy.
  auto doc = ordered::parse(book_body);
  doc["copies"].push_back(doc["copies"][0]);
  BOOST_TEST(rows(library, "books", doc.dump()).size() == 10u);
}

// -- the library domain: rejections -------------------------------------------

BOOST_AUTO_TEST_CASE(every_bad_value_is_named_by_its_path) {
  const std::string i64 =
      "must be an integer from -9223372036854775808 to 9223372036854775807";
  auto doc = ordered::parse(book_body);
  auto four_copies = doc;
  four_copies["copies"].push_back(doc["copies"][0]);
  four_copies["copies"].push_back(doc["copies"][0]);
  auto three_loans = doc;
  three_loans["copies"][1]["loans"] = ordered::array(
      {doc["copies"][0]["loans"][0], doc["copies"][0]["loans"][0],
       doc["copies"][0]["loans"][0]});
  const std::vector<rejection> cases{
      // unknown and missing fields, at every depth
      {book_with("/id", "1"), "unknown field 'body.id'"},
      {book_with("/copies/0/book_id", "1"),
       "unknown field 'body.copies[0].book_id'"},
      {book_with("/copies/1/loans/0/id", "1"),
       "unknown field 'body.copies[1].loans[0].id'"},
      {book_with("/blurb/book_id", "1"), "unknown field 'body.blurb.book_id'"},
      {book_without("/title"), "missing field 'body.title'"},
      {book_without("/author_id"), "missing field 'body.author_id'"},
      {book_without("/blurb"), "missing field 'body.blurb'"},
      {book_without("/copies"), "missing field 'body.copies'"},
      {book_without("/blurb/text"), "missing field 'body.blurb.text'"},
      {book_without("/copies/1/loans"), "missing field 'body.copies[1].loans'"},
      {book_without("/copies/1/loans/0/due"),
       "missing field 'body.copies[1].loans[0].due'"},
      // text
      {book_with("/title", "null"), "field 'body.title' must be a string"},
      {book_with("/title", "[]"), "field 'body.title' must be a string"},
      {book_with("/title", R"("")"), "field 'body.title' must not be empty"},
      {book_with("/title", quoted(repeat("t", 201))),
       "field 'body.title' is longer than 200 characters"},
      {book_with("/isbn", R"("")"),
       "field 'body.isbn' is shorter than 10 characters"},
      {book_with("/isbn", R"("123456789")"),
       "field 'body.isbn' is shorter than 10 characters"},
      {book_with("/blurb/text", R"("a\u0000b")"),
       "field 'body.blurb.text' must not contain NUL characters"},
      {book_with("/format", R"("pdf")"),
       "field 'body.format' must be one of 'hardcover', 'paperback', 'ebook'"},
      {book_with("/format", R"("Paperback")"),
       "field 'body.format' must be one of 'hardcover', 'paperback', 'ebook'"},
      // numbers
      {book_with("/price", R"("9")"), "field 'body.price' must be a number"},
      {book_with("/price", "null"), "field 'body.price' must be a number"},
      {book_with("/price", "-0.01"), "field 'body.price' must be at least 0"},
      {book_with("/price", "10000.5"),
       "field 'body.price' must be at most 10000"},
      {book_with("/price", "1e5"), "field 'body.price' must be at most 10000"},
      {book_with("/rating", "true"), "field 'body.rating' must be a number"},
      // integers
      {book_with("/pages", "1.0"), "field 'body.pages' must be an integer"},
      {book_with("/pages", "1e2"), "field 'body.pages' must be an integer"},
      {book_with("/pages", R"("1")"), "field 'body.pages' must be an integer"},
      {book_with("/pages", "9223372036854775808"), "field 'body.pages' " + i64},
      {book_with("/pages", "-9223372036854775809"),
       "field 'body.pages' " + i64},
      {book_with("/pages", "18446744073709551616"),
       "field 'body.pages' " + i64},
      {book_with("/copies/0/loans/1/due", "-1"),
       "field 'body.copies[0].loans[1].due' must be at least 0"},
      {book_with("/copies/0/loans/1/due", "1000001"),
       "field 'body.copies[0].loans[1].due' must be at most 1000000"},
      // booleans
      {book_with("/in_print", "1"),
       "field 'body.in_print' must be true or false"},
      {book_with("/in_print", R"("true")"),
       "field 'body.in_print' must be true or false"},
      {book_with("/in_print", "null"),
       "field 'body.in_print' must be true or false"},
      // references
      {book_with("/copies/1/loans/0/member_id", "0"),
       "field 'body.copies[1].loans[0].member_id' must be a positive id"},
      {book_with("/copies/1/loans/0/member_id", "2.5"),
       "field 'body.copies[1].loans[0].member_id' must be an integer id"},
      {book_with("/copies/1/branch_id", "-3"),
       "field 'body.copies[1].branch_id' must be a positive id"},
      // owned fields
      {book_with("/blurb", "null"), "body.blurb must be a JSON object"},
      {book_with("/blurb", R"([{"text":"x"}])"),
       "body.blurb must be a JSON object"},
      {book_with("/copies", "{}"), "body.copies must be a JSON array"},
      {book_with("/copies", "null"), "body.copies must be a JSON array"},
      {book_with("/copies/1", "5"), "body.copies[1] must be a JSON object"},
      {book_with("/copies/1/loans/0", "[]"),
       "body.copies[1].loans[0] must be a JSON object"},
      {four_copies.dump(), "body.copies has more than 3 items"},
      {three_loans.dump(), "body.copies[1].loans has more than 2 items"},
  };
  for (const auto& c : cases)
    BOOST_TEST(bad(library, "books", c.body) == c.message, "body: " << c.body);
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_rejected_at_any_depth) {
  auto dup = [&](const std::string& at, const std::string& raw) {
    return bad(library, "books", book_with(at, raw));
  };
  BOOST_TEST(bad(library, "books", R"({"x":1,"x":2})") ==
             "duplicate key 'body.x'");
  BOOST_TEST(bad(library, "books", R"({"title":"a","title":"a"})") ==
             "duplicate key 'body.title'");
  BOOST_TEST(dup("/copies/1", R"({"barcode":"a","barcode":"b","loans":[]})") ==
             "duplicate key 'body.copies[1].barcode'");
  BOOST_TEST(dup("/copies/1/loans/0", R"({"member_id":1,"due":1,"due":1})") ==
             "duplicate key 'body.copies[1].loans[0].due'");
  // Inside values that are no fields: an unknown field, a wrong type.
  BOOST_TEST(dup("/extra", R"({"a":[0,{"k":1,"k":2}]})") ==
             "duplicate key 'body.extra.a[1].k'");
  BOOST_TEST(dup("/title", R"([[{"q":1}],{"q":1,"q":1}])") ==
             "duplicate key 'body.title[1].q'");
  BOOST_TEST(
      dup("/copies/0/loans", R"([{"member_id":1,"due":1},1,{"a":1,"a":1}])") ==
      "duplicate key 'body.copies[0].loans[2].a'");
  // The same key in two objects is no duplicate.
  ok(library, "books", book_body);
  BOOST_TEST(bad(library, "books", R"({"a":{"a":1},"b":{"a":1}})") ==
             "unknown field 'body.a'");
}

BOOST_AUTO_TEST_CASE(the_first_failure_in_check_order_wins) {
  auto book = [] { return ordered::parse(book_body); };
  std::vector<rejection> cases{
      // not an object beats a duplicate key
      {R"([{"a":1,"a":2}])", "body must be a JSON object"},
      // a duplicate key beats unknown, missing and bad fields
      {R"({"zzz":1,"title":5,"blurb":{"q":1,"q":2}})",
       "duplicate key 'body.blurb.q'"},
      // unknown beats missing, and the first unknown in the body wins
      {R"({"zzz":1,"aaa":2})", "unknown field 'body.zzz'"},
      // missing beats bad values, in declared order
      {R"({"isbn":5,"format":5,"blurb":{},"copies":[]})",
       "missing field 'body.title'"},
      // values in declared order, whatever the order of the body
      {R"({"copies":[],"blurb":{"text":1},"isbn":1,"title":1,"format":"x",)"
       R"("price":1,"in_print":true,"author_id":1})",
       "field 'body.title' must be a string"},
      // owned fields in declared order: blurb before copies
      {R"({"title":"t","isbn":"0123456789","format":"ebook","price":1,)"
       R"("in_print":true,"author_id":1,"copies":[{"barcode":1}],)"
       R"("blurb":{"text":1}})",
       "field 'body.blurb.text' must be a string"},
  };
  auto add = [&](ordered doc, std::string message) {
    cases.push_back({doc.dump(), std::move(message)});
  };
  auto d = book();
  d["title"] = 5;
  d.erase("author_id");
  add(d, "missing field 'body.author_id'");
  d = book();
  d.erase("blurb");
  d.erase("author_id");
  add(d, "missing field 'body.author_id'"); // columns before owned fields
  d = book();
  d.erase("title");
  d["blurb"]["zz"] = 1;
  add(d, "missing field 'body.title'"); // the root before its children
  d = book();
  d["format"] = 1;
  d["blurb"]["zz"] = 1;
  add(d, "field 'body.format' must be a string");
  // items by index, each in full before the next
  d = book();
  d["copies"][1]["barcode"] = 1;
  d["copies"][0]["loans"][0]["due"] = "x";
  add(d, "field 'body.copies[0].loans[0].due' must be an integer");
  d = book();
  d["copies"][0]["barcode"] = 1;
  d["copies"][0]["loans"][0]["zz"] = 1;
  add(d, "field 'body.copies[0].barcode' must be a string");
  d = book();
  d["copies"][1] = 5;
  d["copies"][0]["loans"][1]["due"] = -1;
  add(d, "field 'body.copies[0].loans[1].due' must be at least 0");
  d = book();
  d["copies"][0] = 5;
  d["copies"][1]["loans"][0]["due"] = -1;
  add(d, "body.copies[0] must be a JSON object");
  // too many items beats what the items hold
  d = book();
  d["copies"][0]["barcode"] = 5;
  d["copies"].push_back(5);
  d["copies"].push_back(5);
  add(d, "body.copies has more than 3 items");
  for (const auto& c : cases)
    BOOST_TEST(bad(library, "books", c.body) == c.message, "body: " << c.body);
}

// -- query-string values ------------------------------------------------------

BOOST_AUTO_TEST_CASE(filter_values_follow_the_column_type) {
  const auto& book = library.tables[*library.table_index("book")];
  auto column = [&](const std::string& name) -> const column_decl& {
    return book.columns[*book.column_index(name)];
  };
  auto good = [&](const std::string& c, std::string_view text) {
    std::string why;
    auto v = parse_filter_value(column(c), c, text, why);
    BOOST_REQUIRE_MESSAGE(v.has_value(), c << "=" << text << ": " << why);
    return show(*v);
  };
  auto fails = [&](const std::string& c, std::string_view text) {
    std::string why;
    auto v = parse_filter_value(column(c), c, text, why);
    BOOST_TEST(!v.has_value(), c << "=" << text << " was accepted");
    return why;
  };
  BOOST_TEST(good("author_id", "3") == "3");
  BOOST_TEST(good("author_id", "9223372036854775807") == "9223372036854775807");
  for (auto t :
       {"", "0", "-1", "01", "+1", "1.0", "abc", "9223372036854775808"})
    BOOST_TEST(fails("author_id", t) ==
               "author_id must be a positive integer id");
  BOOST_TEST(good("pages", "0") == "0");
  BOOST_TEST(good("pages", "-0") == "0");
  BOOST_TEST(good("pages", "-42") == "-42");
  BOOST_TEST(good("pages", "-9223372036854775808") == "-9223372036854775808");
  for (auto t : {"", "-", "01", "-01", "+1", "1.0", "1e2", " 1", "1 ", "x"})
    BOOST_TEST(fails("pages", t) == "pages must be an integer");
  for (auto t : {"9223372036854775808", "-9223372036854775809"})
    BOOST_TEST(fails("pages", t) ==
               "pages must be an integer from -9223372036854775808 to "
               "9223372036854775807");
  BOOST_TEST(good("in_print", "true") == "true");
  BOOST_TEST(good("in_print", "false") == "false");
  for (auto t : {"", "True", "1", "yes"})
    BOOST_TEST(fails("in_print", t) == "in_print must be true or false");
  BOOST_TEST(good("price", "9.99") == "9.99f");
  BOOST_TEST(good("price", "-5") == "-5f"); // bounds are not checked
  BOOST_TEST(good("price", "1E-2") == "0.01f");
  BOOST_TEST(good("price", "1e-400") == "0f");
  for (auto t : {"", "1e400", "-1e400", ".5", "5.", "01", "+1", "nan", "inf",
                 "0x10", "1e", "1e+", "--1"})
    BOOST_TEST(fails("price", t) == "price must be a finite number");
  BOOST_TEST(good("title", "Dune") == "'Dune'");
  BOOST_TEST(good("note", "") == "''");
  BOOST_TEST(good("isbn", repeat("\xc3\xa9", 10)) ==
             "'" + repeat("\xc3\xa9", 10) + "'");
  BOOST_TEST(fails("title", "") == "title must not be empty");
  BOOST_TEST(fails("title", repeat("t", 201)) ==
             "title is longer than 200 characters");
  BOOST_TEST(fails("isbn", "123") == "isbn is shorter than 10 characters");
  BOOST_TEST(fails("format", "pdf") ==
             "format must be one of 'hardcover', 'paperback', 'ebook'");
  BOOST_TEST(fails("title", std::string_view{"a\0b", 3}) ==
             "title must not contain NUL characters");
  for (auto t : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "ok\xe2\x82"})
    BOOST_TEST(fails("title", t) == "title must be valid UTF-8");
}

// -- parse_row_id -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(row_ids_are_positive_decimals) {
  BOOST_TEST(parse_row_id("1").value_or(0) == 1);
  BOOST_TEST(parse_row_id("1000000").value_or(0) == 1000000);
  BOOST_TEST(parse_row_id("9223372036854775807").value_or(0) ==
             std::numeric_limits<row_id>::max());
  for (auto text : {"",
                    "0",
                    "00",
                    "01",
                    "007",
                    "-1",
                    "-0",
                    "+1",
                    "1a",
                    "a1",
                    "9223372036854775808",
                    "18446744073709551616",
                    "99999999999999999999",
                    "1.0",
                    "1e3",
                    "0x10",
                    " 1",
                    "1 ",
                    "1\n",
                    "\xd9\xa1",
                    "1/2"})
    BOOST_TEST(!parse_row_id(text).has_value(), "accepted '" << text << "'");
  BOOST_TEST(!parse_row_id(std::string_view{"1\0", 2}).has_value());
}

// -- the JSON of answers ------------------------------------------------------

BOOST_AUTO_TEST_CASE(write_result_json_has_id_and_seq_only) {
  BOOST_TEST(json::parse(to_json(write_result{5, 12, {"category:5"}})) ==
             json::parse(R"({"id":5,"seq":12})"));
  auto big = json::parse(
      to_json(write_result{INT64_MAX, std::numeric_limits<seq_t>::max(), {}}));
  BOOST_TEST(big.at("id").get<int64_t>() == INT64_MAX);
  BOOST_TEST(big.at("seq").get<uint64_t>() ==
             std::numeric_limits<seq_t>::max());
}

BOOST_AUTO_TEST_CASE(error_json_escapes_and_survives_invalid_utf8) {
  auto j = json::parse(error_json("bad_request", "field 'body.name' is \"x\""));
  BOOST_TEST(j == json::parse(R"({"error":{"code":"bad_request",)"
                              R"("message":"field 'body.name' is \"x\""}})"));
  std::string control = "line\nbreak\ttab\x01\x7f";
  auto text = error_json("not_found", control);
  for (unsigned char c : text)
    BOOST_TEST(c >= 0x20, "raw control character " << int{c});
  BOOST_TEST(json::parse(text)["error"]["message"] == control);
  BOOST_CHECK_NO_THROW(text = error_json("bad_request", "bad \xff\xc3 bytes"));
  auto message = json::parse(text)["error"]["message"].get<std::string>();
  BOOST_TEST(message == "bad \xef\xbf\xbd\xef\xbf\xbd bytes");
  BOOST_CHECK_NO_THROW(json::parse(error_json("bad\xff", "x")));
}

// -- row keys and cache keys --------------------------------------------------

BOOST_AUTO_TEST_CASE(row_and_table_keys) {
  BOOST_TEST(row_key("category", 7) == "category:7");
  BOOST_TEST(row_key("category", INT64_MAX) == "category:9223372036854775807");
  BOOST_TEST(row_key("category", 1) != row_key("category", 10));
  BOOST_TEST(table_key("top_level_object") == "top_level_object:*");
  BOOST_TEST(table_key_of("category:7") == "category:*");
  BOOST_TEST(table_key_of("category:*") == "category:*");
  BOOST_TEST(table_key_of("category") == "");
  BOOST_TEST(table_key_of("") == "");
}

BOOST_AUTO_TEST_CASE(cache_keys_tell_queries_apart) {
  std::vector<query> queries;
  for (uint16_t view : {0, 1, 2})
    for (row_id id : {1, 2, 10, 12, 21}) {
      query q;
      q.view = view;
      q.id = id;
      queries.push_back(q);
    }
  // A filter's column has one type, so its values differ by their text.
  for (auto filter :
       {field_value{}, field_value::of_integer(1), field_value::of_integer(12)})
    for (row_id after : {0, 1, 2, 23})
      for (int32_t limit : {1, 50, 500}) {
        query q;
        q.kind = query_kind::list;
        q.view = 2;
        q.filters = {filter};
        q.after = after;
        q.limit = limit;
        queries.push_back(q);
      }
  std::set<std::string> keys;
  for (const auto& q : queries)
    keys.insert(cache_key(q));
  BOOST_TEST(keys.size() == queries.size());
  for (const auto& q : queries)
    BOOST_TEST(cache_key(q) == cache_key(query{q}));
}

BOOST_AUTO_TEST_SUITE_END()
