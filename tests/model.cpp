// Unit tests of the model layer: command parsing and validation, row ids,
// JSON views, row keys and cache keys.
#include <boost/test/unit_test.hpp>

#include <limits>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/json.hpp"
#include "model/row_key.hpp"
#include "model/views.hpp"

using namespace cqrs;
using json = nlohmann::json;

BOOST_TEST_DONT_PRINT_LOG_VALUE(cqrs::operation)
BOOST_TEST_DONT_PRINT_LOG_VALUE(cqrs::entity)

namespace {

const char* category_body = R"({"description":"books"})";
const char* related_body =
    R"({"content_description":"a manual","content_type":"pdf"})";
const char* object_body =
    R"({"name":"lamp","child":{"access_code":"A-1","related_object_id":3,)"
    R"("category_id":7}})";

/// Builds command bodies and checks the verdict of `parse_command`.
struct fixture {
  /// Parses `body` and requires success.
  command parse_ok(operation op, entity target, row_id id,
                   const std::string& body) {
    validation_error err;
    auto result = parse_command(op, target, id, body, err);
    BOOST_REQUIRE_MESSAGE(result.has_value(), "unexpected rejection ("
                                                  << err.message
                                                  << ") of: " << body);
    return *result;
  }

  /// Parses `body`, requires a rejection and returns its message.
  std::string parse_error(operation op, entity target,
                          const std::string& body) {
    validation_error err;
    auto result = parse_command(op, target, 1, body, err);
    BOOST_REQUIRE_MESSAGE(!result.has_value(),
                          "expected a rejection of: " << body.substr(0, 200));
    BOOST_TEST(!err.message.empty());
    return err.message;
  }

  /// Requires that `body` is rejected for create and update of `target`.
  void check_rejected(entity target, const std::string& body) {
    for (auto op : {operation::create, operation::update}) {
      BOOST_TEST_CONTEXT("op " << to_string(op) << ", target "
                               << to_string(target)) {
        parse_error(op, target, body);
      }
    }
  }

  /// Requires that `body` is rejected for create and update of `target`
  /// with a message mentioning `field`.
  void check_rejected(entity target, const std::string& body,
                      const std::string& field) {
    for (auto op : {operation::create, operation::update}) {
      BOOST_TEST_CONTEXT("op " << to_string(op) << ", target "
                               << to_string(target) << ", body "
                               << body.substr(0, 200)) {
        auto message = parse_error(op, target, body);
        BOOST_TEST(message.find(field) != std::string::npos,
                   "message '" << message << "' does not name " << field);
      }
    }
  }

  /// Returns a category body with `description` as raw JSON.
  static std::string category_with(const std::string& description) {
    return R"({"description":)" + description + "}";
  }

  /// Returns a related-object body with the given raw JSON values.
  static std::string related_with(const std::string& content_description,
                                  const std::string& content_type) {
    return R"({"content_description":)" + content_description +
           R"(,"content_type":)" + content_type + "}";
  }

  /// Returns an object body with the given raw JSON values.
  static std::string object_with(const std::string& name,
                                 const std::string& access_code,
                                 const std::string& related_object_id,
                                 const std::string& category_id) {
    return R"({"name":)" + name + R"(,"child":{"access_code":)" + access_code +
           R"(,"related_object_id":)" + related_object_id +
           R"(,"category_id":)" + category_id + "}}";
  }

  /// Returns `text` as a JSON string literal.
  static std::string quoted(const std::string& text) {
    return "\"" + text + "\"";
  }

  /// Returns `n` copies of `unit` concatenated.
  static std::string repeat(const std::string& unit, size_t n) {
    std::string result;
    result.reserve(unit.size() * n);
    for (size_t i = 0; i < n; ++i)
      result += unit;
    return result;
  }

  /// Every string field of every entity, as (entity, body maker, field name).
  struct string_field {
    entity target;
    std::string name;
    std::string (*make)(const std::string&);
  };

  static std::vector<string_field> string_fields() {
    return {
        {entity::category, "description",
         [](const std::string& v) { return category_with(v); }},
        {entity::related_object, "content_description",
         [](const std::string& v) { return related_with(v, R"("pdf")"); }},
        {entity::related_object, "content_type",
         [](const std::string& v) { return related_with(R"("m")", v); }},
        {entity::object, "name",
         [](const std::string& v) {
           return object_with(v, R"("A-1")", "3", "7");
         }},
        {entity::object, "child.access_code",
         [](const std::string& v) {
           return object_with(R"("lamp")", v, "3", "7");
         }},
    };
  }

  /// Every id field, as (field name, body maker).
  struct id_field {
    std::string name;
    std::string (*make)(const std::string&);
  };

  static std::vector<id_field> id_fields() {
    return {
        {"child.related_object_id",
         [](const std::string& v) {
           return object_with(R"("lamp")", R"("A-1")", v, "7");
         }},
        {"child.category_id",
         [](const std::string& v) {
           return object_with(R"("lamp")", R"("A-1")", "3", v);
         }},
    };
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(model, fixture)

// -- parse_command: valid bodies ----------------------------------------------

BOOST_AUTO_TEST_CASE(valid_category_create_and_update) {
  auto created =
      parse_ok(operation::create, entity::category, 0, category_body);
  BOOST_TEST(created.op == operation::create);
  BOOST_TEST(created.target == entity::category);
  BOOST_TEST(created.category_fields.description == "books");
  auto updated = parse_ok(operation::update, entity::category, 7,
                          R"( { "description" : "films" } )");
  BOOST_TEST(updated.op == operation::update);
  BOOST_TEST(updated.target == entity::category);
  BOOST_TEST(updated.id == 7);
  BOOST_TEST(updated.category_fields.description == "films");
}

BOOST_AUTO_TEST_CASE(valid_related_object_create_and_update) {
  auto created =
      parse_ok(operation::create, entity::related_object, 0, related_body);
  BOOST_TEST(created.op == operation::create);
  BOOST_TEST(created.target == entity::related_object);
  BOOST_TEST(created.related_fields.content_description == "a manual");
  BOOST_TEST(created.related_fields.content_type == "pdf");
  // Field order does not matter.
  auto updated =
      parse_ok(operation::update, entity::related_object, 12,
               R"({"content_type":"txt","content_description":"notes"})");
  BOOST_TEST(updated.op == operation::update);
  BOOST_TEST(updated.id == 12);
  BOOST_TEST(updated.related_fields.content_description == "notes");
  BOOST_TEST(updated.related_fields.content_type == "txt");
}

BOOST_AUTO_TEST_CASE(valid_object_create_and_update) {
  auto created = parse_ok(operation::create, entity::object, 0, object_body);
  BOOST_TEST(created.op == operation::create);
  BOOST_TEST(created.target == entity::object);
  BOOST_TEST(created.object_fields.name == "lamp");
  BOOST_TEST(created.object_fields.child.access_code == "A-1");
  BOOST_TEST(created.object_fields.child.related_object_id == 3);
  BOOST_TEST(created.object_fields.child.category_id == 7);
  auto updated = parse_ok(
      operation::update, entity::object, 99,
      object_with(R"("desk")", R"("B-2")", "9223372036854775807", "1"));
  BOOST_TEST(updated.op == operation::update);
  BOOST_TEST(updated.id == 99);
  BOOST_TEST(updated.object_fields.name == "desk");
  BOOST_TEST(updated.object_fields.child.access_code == "B-2");
  BOOST_TEST(updated.object_fields.child.related_object_id ==
             std::numeric_limits<row_id>::max());
  BOOST_TEST(updated.object_fields.child.category_id == 1);
}

BOOST_AUTO_TEST_CASE(remove_needs_no_body) {
  for (auto target :
       {entity::category, entity::related_object, entity::object}) {
    BOOST_TEST_CONTEXT("target " << to_string(target)) {
      auto cmd = parse_ok(operation::remove, target, 5, "");
      BOOST_TEST(cmd.op == operation::remove);
      BOOST_TEST(cmd.target == target);
      BOOST_TEST(cmd.id == 5);
    }
  }
}

BOOST_AUTO_TEST_CASE(escaped_strings_are_decoded) {
  auto cmd = parse_ok(operation::create, entity::category, 0,
                      category_with(R"("say \"hi\"\n\u00e9\ud83d\ude00")"));
  BOOST_TEST(cmd.category_fields.description ==
             "say \"hi\"\n\xc3\xa9\xf0\x9f\x98\x80");
}

// -- parse_command: malformed and non-object bodies --------------------------

BOOST_AUTO_TEST_CASE(malformed_json_is_rejected) {
  std::vector<std::string> bodies{
      "",
      " ",
      "{",
      "}",
      R"({"description":})",
      R"({"description":"books")",
      R"({"description":"books",})",
      R"({'description':'books'})",
      R"({description:"books"})",
      R"({"description":"books"} trailing)",
      R"({"description":"books"}{"description":"films"})",
      R"({"description":"unterminated})",
      "not json",
      R"({"description":"books" /* comment */})",
  };
  for (auto target : {entity::category, entity::related_object, entity::object})
    for (const auto& body : bodies)
      BOOST_TEST_CONTEXT("body: " << body) {
        check_rejected(target, body);
      }
}

// nlohmann takes a NUL byte for the end of input: without a check of its
// own, parse_command accepted `{...}\0` followed by anything.
BOOST_AUTO_TEST_CASE(raw_nul_bytes_are_rejected_anywhere_in_the_body) {
  using namespace std::string_literals;
  for (auto body : {R"({"description":"books"})"s + '\0',
                    R"({"description":"books"})"s + '\0' + "trailing",
                    '\0' + R"({"description":"books"})"s,
                    R"({"description":"bo)"s + '\0' + R"(oks"})"})
    BOOST_TEST_CONTEXT("body of " << body.size() << " bytes") {
      check_rejected(entity::category, body);
    }
}

BOOST_AUTO_TEST_CASE(non_object_bodies_are_rejected) {
  std::vector<std::string> bodies{
      "[]",         R"(["description","books"])",
      R"("books")", "42",
      "-1",         "1.5",
      "null",       "true",
      "false",      R"([{"description":"books"}])",
  };
  for (auto target : {entity::category, entity::related_object, entity::object})
    for (const auto& body : bodies)
      BOOST_TEST_CONTEXT("body: " << body) {
        check_rejected(target, body);
      }
}

BOOST_AUTO_TEST_CASE(child_must_be_an_object) {
  for (auto child : {"[]", "null", "7", R"("A-1")", "true",
                     R"([{"access_code":"A-1","related_object_id":3,)"
                     R"("category_id":7}])"}) {
    check_rejected(entity::object,
                   R"({"name":"lamp","child":)" + std::string{child} + "}",
                   "child");
  }
}

// -- parse_command: missing and unknown fields -------------------------------

BOOST_AUTO_TEST_CASE(missing_fields_are_rejected_by_name) {
  check_rejected(entity::category, "{}", "description");
  check_rejected(entity::related_object, R"({"content_type":"pdf"})",
                 "content_description");
  check_rejected(entity::related_object, R"({"content_description":"m"})",
                 "content_type");
  check_rejected(entity::object,
                 R"({"child":{"access_code":"A-1","related_object_id":3,)"
                 R"("category_id":7}})",
                 "name");
  check_rejected(entity::object, R"({"name":"lamp"})", "child");
  check_rejected(entity::object,
                 R"({"name":"lamp","child":{"related_object_id":3,)"
                 R"("category_id":7}})",
                 "child.access_code");
  check_rejected(entity::object,
                 R"({"name":"lamp","child":{"access_code":"A-1",)"
                 R"("category_id":7}})",
                 "child.related_object_id");
  check_rejected(entity::object,
                 R"({"name":"lamp","child":{"access_code":"A-1",)"
                 R"("related_object_id":3}})",
                 "child.category_id");
  check_rejected(entity::object, R"({"name":"lamp","child":{}})", "child.");
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_rejected_by_name) {
  check_rejected(entity::category, R"({"description":"books","color":"red"})",
                 "color");
  check_rejected(entity::category, R"({"description":"books","id":4})", "id");
  check_rejected(entity::related_object,
                 R"({"content_description":"m","content_type":"pdf",)"
                 R"("size":3})",
                 "size");
  check_rejected(entity::object,
                 R"({"name":"lamp","extra":null,"child":{"access_code":"A-1",)"
                 R"("related_object_id":3,"category_id":7}})",
                 "extra");
  check_rejected(entity::object,
                 R"({"name":"lamp","child":{"access_code":"A-1",)"
                 R"("related_object_id":3,"category_id":7,"color":"red"}})",
                 "child.color");
  // The fields of one entity are unknown to another.
  check_rejected(entity::related_object, category_body, "description");
  check_rejected(entity::category, related_body, "content_");
  check_rejected(entity::category, object_body);
  // Field names are case sensitive.
  check_rejected(entity::category, R"({"Description":"books"})", "Description");
}

// -- parse_command: wrong types ----------------------------------------------

BOOST_AUTO_TEST_CASE(wrong_types_for_strings_are_rejected_by_name) {
  for (const auto& field : string_fields())
    for (auto value : {"5", "0", "1.5", "true", "false", "null", "{}",
                       R"({"text":"books"})", R"(["books"])", "[]"}) {
      check_rejected(field.target, field.make(value), field.name);
    }
}

BOOST_AUTO_TEST_CASE(wrong_types_for_ids_are_rejected_by_name) {
  for (const auto& field : id_fields())
    for (auto value : {R"("7")", R"("")", "1.5", "7.0", "1e2", "true", "false",
                       "null", "{}", "[7]", R"({"id":7})"}) {
      check_rejected(entity::object, field.make(value), field.name);
    }
}

BOOST_AUTO_TEST_CASE(out_of_range_ids_are_rejected_by_name) {
  for (const auto& field : id_fields())
    for (auto value : {"0", "-0", "-1", "-9223372036854775808",
                       "9223372036854775808", "18446744073709551615",
                       "18446744073709551616", "99999999999999999999999"}) {
      check_rejected(entity::object, field.make(value), field.name);
    }
}

BOOST_AUTO_TEST_CASE(numbers_beyond_double_range_are_rejected) {
  // The JSON parser refuses numbers it cannot represent, so these fail as
  // malformed bodies rather than naming the field.
  for (const auto& field : id_fields())
    for (auto value : {std::string{"1e400"}, std::string{"-1e400"},
                       "1" + std::string(400, '0') + ".5"})
      check_rejected(entity::object, field.make(value));
}

BOOST_AUTO_TEST_CASE(largest_id_is_accepted) {
  for (const auto& field : id_fields()) {
    BOOST_TEST_CONTEXT("field " << field.name) {
      auto cmd = parse_ok(operation::create, entity::object, 0,
                          field.make("9223372036854775807"));
      auto& child = cmd.object_fields.child;
      BOOST_TEST((child.related_object_id == INT64_MAX ||
                  child.category_id == INT64_MAX));
    }
  }
}

// -- parse_command: string contents ------------------------------------------

BOOST_AUTO_TEST_CASE(empty_strings_are_rejected_by_name) {
  for (const auto& field : string_fields())
    check_rejected(field.target, field.make(R"("")"), field.name);
}

BOOST_AUTO_TEST_CASE(whitespace_only_strings_are_accepted) {
  // Only the empty string is empty; a blank is a one-character string.
  auto cmd =
      parse_ok(operation::create, entity::category, 0, category_with(R"(" ")"));
  BOOST_TEST(cmd.category_fields.description == " ");
}

BOOST_AUTO_TEST_CASE(string_length_limit_is_1000_characters) {
  for (const auto& field : string_fields()) {
    BOOST_TEST_CONTEXT("field " << field.name) {
      parse_ok(operation::create, field.target, 0,
               field.make(quoted(repeat("a", 1000))));
      check_rejected(field.target, field.make(quoted(repeat("a", 1001))),
                     field.name);
    }
  }
}

BOOST_AUTO_TEST_CASE(string_length_counts_code_points_not_bytes) {
  // 1000 'é' are 2000 bytes but 1000 characters.
  auto cmd = parse_ok(operation::create, entity::category, 0,
                      category_with(quoted(repeat("\xc3\xa9", 1000))));
  BOOST_TEST(cmd.category_fields.description.size() == 2000u);
  check_rejected(entity::category,
                 category_with(quoted(repeat("\xc3\xa9", 1001))),
                 "description");
  // 1000 four-byte characters.
  parse_ok(operation::create, entity::category, 0,
           category_with(quoted(repeat("\xf0\x9f\x98\x80", 1000))));
  check_rejected(entity::category,
                 category_with(quoted(repeat("\xf0\x9f\x98\x80", 1001))),
                 "description");
  // Escapes count as the character they stand for.
  parse_ok(operation::create, entity::category, 0,
           category_with(quoted(repeat("\\u00e9", 1000))));
  check_rejected(entity::category,
                 category_with(quoted(repeat("\\u00e9", 1001))), "description");
  // Mixed: 999 ASCII plus one 3-byte character is exactly 1000.
  parse_ok(operation::create, entity::object, 0,
           object_with(quoted(repeat("x", 999) + "\xe2\x82\xac"), R"("A")", "1",
                       "1"));
}

BOOST_AUTO_TEST_CASE(nul_characters_are_rejected_by_name) {
  for (const auto& field : string_fields()) {
    check_rejected(field.target, field.make(R"("a\u0000b")"), field.name);
    check_rejected(field.target, field.make(R"("\u0000")"), field.name);
  }
}

BOOST_AUTO_TEST_CASE(raw_control_characters_are_rejected) {
  // JSON forbids unescaped control characters inside strings.
  check_rejected(entity::category, category_with("\"a\nb\""));
  check_rejected(entity::category, category_with("\"a\tb\""));
  check_rejected(entity::category,
                 category_with(std::string{"\"a"} + '\0' + "b\""));
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_rejected) {
  std::vector<std::string> bad{
      "\xff",             // never valid
      "\x80",             // lone continuation byte
      "\xc3",             // truncated two-byte sequence
      "\xe2\x82",         // truncated three-byte sequence
      "\xc0\xaf",         // overlong '/'
      "\xed\xa0\x80",     // encoded UTF-16 surrogate
      "\xf4\x90\x80\x80", // above U+10FFFF
      "ok\xfe",           // valid prefix, bad tail
  };
  for (const auto& field : string_fields())
    for (const auto& bytes : bad) {
      check_rejected(field.target, field.make(quoted(bytes)));
    }
  // Lone surrogate escapes are not characters either.
  check_rejected(entity::category, category_with(R"("\ud800")"));
  check_rejected(entity::category, category_with(R"("\udc00x")"));
  // Invalid bytes outside strings.
  check_rejected(entity::category, "\xff" + std::string{category_body});
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_rejected_without_crashing) {
  const size_t depth = 100000;
  BOOST_TEST_MESSAGE("unbalanced brackets");
  check_rejected(entity::category, repeat("[", depth));
  check_rejected(entity::object, repeat("{\"a\":", depth));
  BOOST_TEST_MESSAGE("balanced arrays as the body");
  check_rejected(entity::category, repeat("[", depth) + repeat("]", depth));
  BOOST_TEST_MESSAGE("balanced arrays inside a field");
  check_rejected(entity::category,
                 category_with(repeat("[", depth) + repeat("]", depth)),
                 "description");
  BOOST_TEST_MESSAGE("balanced objects inside the child");
  check_rejected(
      entity::object,
      object_with(R"("lamp")", R"("A")", "1",
                  repeat(R"({"a":)", depth) + "1" + repeat("}", depth)),
      "child.category_id");
}

// -- parse_row_id -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(row_ids_parse_positive_decimals) {
  BOOST_TEST(parse_row_id("1").value_or(0) == 1);
  BOOST_TEST(parse_row_id("42").value_or(0) == 42);
  BOOST_TEST(parse_row_id("1000000").value_or(0) == 1000000);
  BOOST_TEST(parse_row_id("9223372036854775807").value_or(0) ==
             std::numeric_limits<row_id>::max());
}

BOOST_AUTO_TEST_CASE(row_ids_reject_everything_else) {
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
                    "abc",
                    "9223372036854775808",
                    "18446744073709551616",
                    "99999999999999999999",
                    "1.0",
                    "1e3",
                    "0x10",
                    " 1",
                    "1 ",
                    "1\n",
                    "١",
                    "1/2"}) {
    BOOST_TEST(!parse_row_id(text).has_value(), "accepted '" << text << "'");
  }
  // Embedded NUL: only the full view counts.
  BOOST_TEST(!parse_row_id(std::string_view{"1\0", 2}).has_value());
}

// -- to_json ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(object_view_json_has_every_field) {
  object_view view{7, "lamp", "A-1", "a manual", "pdf", "books"};
  auto j = json::parse(to_json(view));
  BOOST_TEST(j.size() == 6u);
  BOOST_TEST(j.at("id").get<int64_t>() == 7);
  BOOST_TEST(j.at("name").get<std::string>() == "lamp");
  BOOST_TEST(j.at("access_code").get<std::string>() == "A-1");
  BOOST_TEST(j.at("content_description").get<std::string>() == "a manual");
  BOOST_TEST(j.at("content_type").get<std::string>() == "pdf");
  BOOST_TEST(j.at("category_description").get<std::string>() == "books");
}

BOOST_AUTO_TEST_CASE(view_json_escapes_quotes_and_control_characters) {
  std::string nasty = "say \"hi\"\\ \n\t\r\x01\x1f \xc3\xa9 </script>";
  object_view view{1, nasty, nasty, nasty, nasty, nasty};
  auto text = to_json(view);
  // No raw control characters on the wire.
  for (unsigned char c : text)
    BOOST_TEST(c >= 0x20, "raw control character " << int{c});
  BOOST_TEST(text.find("\\u0001") != std::string::npos);
  BOOST_TEST(text.find("\\\"hi\\\"") != std::string::npos);
  auto j = json::parse(text);
  for (auto field : {"name", "access_code", "content_description",
                     "content_type", "category_description"})
    BOOST_TEST(j.at(field).get<std::string>() == nasty);
  auto c = json::parse(to_json(category{2, nasty}));
  BOOST_TEST(c.at("description").get<std::string>() == nasty);
  auto r = json::parse(to_json(related_object{3, nasty, nasty}));
  BOOST_TEST(r.at("content_description").get<std::string>() == nasty);
  BOOST_TEST(r.at("content_type").get<std::string>() == nasty);
}

// Requests are validated, but a row written around the API may hold any
// bytes; nlohmann's dump() throws on them, which made reads of it fail.
BOOST_AUTO_TEST_CASE(view_json_replaces_invalid_utf8_instead_of_throwing) {
  std::string bad = "ok \xff\xfe \xc0\xaf \xed\xa0\x80 end";
  std::string replaced = "ok \xef\xbf\xbd";
  auto j = json::parse(to_json(object_view{1, bad, bad, bad, bad, bad}));
  BOOST_TEST(j.at("name").get<std::string>().rfind(replaced, 0) == 0u);
  BOOST_TEST(j.at("category_description").get<std::string>().find("end") !=
             std::string::npos);
  j = json::parse(to_json(category{2, bad}));
  BOOST_TEST(j.at("description").get<std::string>().rfind(replaced, 0) == 0u);
  j = json::parse(to_json(related_object{3, bad, bad}));
  BOOST_TEST(j.at("content_type").get<std::string>().rfind(replaced, 0) == 0u);
  object_page page;
  page.items.push_back({4, bad, bad, bad, bad, bad});
  j = json::parse(to_json(page));
  BOOST_TEST(j["items"][0].at("name").get<std::string>().rfind(replaced, 0) ==
             0u);
  j = json::parse(error_json("bad_request", bad));
  BOOST_TEST(j["error"].at("message").get<std::string>().rfind(replaced, 0) ==
             0u);
}

BOOST_AUTO_TEST_CASE(page_json_without_next) {
  object_page page;
  page.items.push_back({1, "a", "A", "d1", "t1", "c1"});
  page.items.push_back({2, "b", "B", "d2", "t2", "c2"});
  auto j = json::parse(to_json(page));
  BOOST_TEST(j.size() == 2u);
  BOOST_REQUIRE(j.at("items").is_array());
  BOOST_REQUIRE(j.at("items").size() == 2u);
  BOOST_TEST(j["items"][0].at("id").get<int64_t>() == 1);
  BOOST_TEST(j["items"][0].at("name").get<std::string>() == "a");
  BOOST_TEST(j["items"][1].at("id").get<int64_t>() == 2);
  BOOST_TEST(j["items"][1].at("category_description").get<std::string>() ==
             "c2");
  BOOST_TEST(j.contains("next_after"));
  BOOST_TEST(j.at("next_after").is_null());
}

BOOST_AUTO_TEST_CASE(page_json_with_next) {
  object_page page;
  page.items.push_back({41, "a", "A", "d", "t", "c"});
  page.next_after = 41;
  auto j = json::parse(to_json(page));
  BOOST_TEST(j.at("items").size() == 1u);
  BOOST_TEST(j.at("next_after").is_number_integer());
  BOOST_TEST(j.at("next_after").get<int64_t>() == 41);
}

BOOST_AUTO_TEST_CASE(empty_page_json) {
  auto j = json::parse(to_json(object_page{}));
  BOOST_TEST(j.at("items").is_array());
  BOOST_TEST(j.at("items").empty());
  BOOST_TEST(j.at("next_after").is_null());
}

BOOST_AUTO_TEST_CASE(category_and_related_object_json) {
  auto c = json::parse(to_json(category{9, "books"}));
  BOOST_TEST(c == json::parse(R"({"id":9,"description":"books"})"));
  auto r = json::parse(to_json(related_object{4, "a manual", "pdf"}));
  BOOST_TEST(r == json::parse(R"({"id":4,"content_description":"a manual",)"
                              R"("content_type":"pdf"})"));
}

BOOST_AUTO_TEST_CASE(write_result_json_has_id_and_seq_only) {
  write_result result{5, 12, {"category:5"}};
  auto j = json::parse(to_json(result));
  BOOST_TEST(j == json::parse(R"({"id":5,"seq":12})"));
  auto big = json::parse(
      to_json(write_result{INT64_MAX, std::numeric_limits<seq_t>::max(), {}}));
  BOOST_TEST(big.at("id").get<int64_t>() == INT64_MAX);
  BOOST_TEST(big.at("seq").get<uint64_t>() ==
             std::numeric_limits<seq_t>::max());
}

BOOST_AUTO_TEST_CASE(error_json_shape_and_escaping) {
  auto j = json::parse(error_json("bad_request", "field 'body.name' is \"x\""));
  BOOST_TEST(j.size() == 1u);
  BOOST_TEST(j.at("error").size() == 2u);
  BOOST_TEST(j["error"].at("code").get<std::string>() == "bad_request");
  BOOST_TEST(j["error"].at("message").get<std::string>() ==
             "field 'body.name' is \"x\"");
  std::string control = "line\nbreak\ttab\x01\x7f";
  auto text = error_json("not_found", control);
  for (unsigned char c : text)
    BOOST_TEST(c >= 0x20, "raw control character " << int{c});
  BOOST_TEST(json::parse(text)["error"]["message"].get<std::string>() ==
             control);
}

BOOST_AUTO_TEST_CASE(error_json_survives_invalid_utf8) {
  std::string text;
  BOOST_CHECK_NO_THROW(text = error_json("bad_request", "bad \xff\xc3 bytes"));
  json j;
  BOOST_CHECK_NO_THROW(j = json::parse(text));
  BOOST_TEST(j["error"]["code"].get<std::string>() == "bad_request");
  auto message = j["error"]["message"].get<std::string>();
  BOOST_TEST(message.find("bad ") == 0u);
  BOOST_TEST(message.find("bytes") != std::string::npos);
  BOOST_CHECK_NO_THROW(text = error_json("bad\xff", "x"));
  BOOST_CHECK_NO_THROW(json::parse(text));
}

// -- row keys -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(row_keys) {
  BOOST_TEST(row_key(table::category, 7) == "category:7");
  BOOST_TEST(row_key(table::related_object, 3) == "related_object:3");
  BOOST_TEST(row_key(table::top_level_object, 12) == "top_level_object:12");
  BOOST_TEST(row_key(table::child_object, 1) == "child_object:1");
  BOOST_TEST(row_key(table::category, INT64_MAX) ==
             "category:9223372036854775807");
  BOOST_TEST(row_key(table::category, 1) != row_key(table::category, 10));
  BOOST_TEST(row_key(table::category, 1) != row_key(table::related_object, 1));
}

BOOST_AUTO_TEST_CASE(table_keys) {
  BOOST_TEST(table_key(table::category) == "category:*");
  BOOST_TEST(table_key(table::top_level_object) == "top_level_object:*");
  BOOST_TEST(table_key_of("category:7") == "category:*");
  BOOST_TEST(table_key_of(row_key(table::top_level_object, 12)) ==
             table_key(table::top_level_object));
  BOOST_TEST(table_key_of(row_key(table::child_object, 5)) == "child_object:*");
  BOOST_TEST(table_key_of("category:*") == "category:*");
  BOOST_TEST(table_key_of("category") == "");
  BOOST_TEST(table_key_of("") == "");
}

// -- cache keys ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(equal_queries_have_equal_cache_keys) {
  query a;
  a.kind = query_kind::object_list;
  a.category_id = 3;
  a.after = 40;
  a.limit = 20;
  query b;
  b.kind = query_kind::object_list;
  b.category_id = 3;
  b.after = 40;
  b.limit = 20;
  BOOST_TEST(cache_key(a) == cache_key(b));
  query c{query_kind::object, 5};
  query d{query_kind::object, 5};
  BOOST_TEST(cache_key(c) == cache_key(d));
  BOOST_TEST(!cache_key(c).empty());
}

BOOST_AUTO_TEST_CASE(different_queries_have_different_cache_keys) {
  std::vector<query> queries;
  for (auto kind :
       {query_kind::object, query_kind::category, query_kind::related_object})
    for (row_id id : {1, 2, 10, 12, 21})
      queries.push_back(query{kind, id});
  for (row_id category_id : {0, 1, 12})
    for (row_id after : {0, 1, 2, 23})
      for (int32_t limit : {1, 50, 500}) {
        query q;
        q.kind = query_kind::object_list;
        q.category_id = category_id;
        q.after = after;
        q.limit = limit;
        queries.push_back(q);
      }
  std::set<std::string> keys;
  for (const auto& q : queries)
    keys.insert(cache_key(q));
  BOOST_TEST(keys.size() == queries.size());
  // The single-row kinds with the same id.
  BOOST_TEST(cache_key(query{query_kind::object, 5}) !=
             cache_key(query{query_kind::category, 5}));
  BOOST_TEST(cache_key(query{query_kind::object, 5}) !=
             cache_key(query{query_kind::related_object, 5}));
  BOOST_TEST(cache_key(query{query_kind::category, 5}) !=
             cache_key(query{query_kind::related_object, 5}));
}

BOOST_AUTO_TEST_SUITE_END()
