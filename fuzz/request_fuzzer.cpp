// libFuzzer target: everything the gateway does with a request's bytes before
// an actor sees it (route matching, ids, query parameters, headers, command
// bodies) and the JSON the API writes back.
//
// Input format, so that seeds stay readable: four lines, then the body.
//   line 1: method           line 3: X-Min-Seq header value
//   line 2: path?query       line 4: Content-Type header value
//   rest:   the request body (any bytes)
// Missing lines are empty. Invariants that a user would notice (a parsed
// command that breaks the validation rules, an answer that is not JSON, a
// serialized view that does not parse back to the same fields) abort.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "http/request_values.hpp"
#include "http/routes.hpp"
#include "model/json.hpp"
#include "model/row_key.hpp"
#include "model/views.hpp"

namespace {

using json = nlohmann::json;

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "request_fuzzer: invariant broken: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok)
    broken(what);
}

// Takes the next line off `in` (without its '\n'); all of `in` if none.
std::string_view next_line(std::string_view& in) {
  auto end = in.find('\n');
  auto line = in.substr(0, end);
  in.remove_prefix(end == std::string_view::npos ? in.size() : end + 1);
  return line;
}

size_t code_points(const std::string& str) {
  size_t n = 0;
  for (unsigned char c : str)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

// The validation rules a stored string must meet.
void check_field(const std::string& value) {
  check(!value.empty(), "parsed an empty string field");
  check(code_points(value) <= cqrs::max_string_length,
        "parsed an over-long string field");
  check(value.find('\0') == std::string::npos, "parsed a string with NUL");
}

// The body the gateway sends for an error must be JSON of the documented
// shape, whatever bytes the message quotes.
void check_error_json(std::string_view code, std::string_view message) {
  auto body = json::parse(cqrs::error_json(code, message), nullptr, false);
  check(!body.is_discarded(), "error_json is not JSON");
  check(body.is_object() && body.size() == 1 && body.contains("error") &&
            body["error"]["code"].is_string() &&
            body["error"]["message"].is_string(),
        "error_json has the wrong shape");
}

// Serializes what a command stores, as reads would answer it, and checks that
// the answer parses back to the same values.
void check_views(const cqrs::command& cmd) {
  using namespace cqrs;
  auto parse = [](const std::string& text) {
    auto doc = json::parse(text, nullptr, false);
    check(!doc.is_discarded() && doc.is_object(), "a view is not JSON");
    return doc;
  };
  switch (cmd.target) {
  case entity::category: {
    auto x = cmd.category_fields;
    x.id = 1;
    check_field(x.description);
    auto doc = parse(to_json(x));
    check(doc["description"] == x.description, "category does not round-trip");
    break;
  }
  case entity::related_object: {
    auto x = cmd.related_fields;
    x.id = 1;
    check_field(x.content_description);
    check_field(x.content_type);
    auto doc = parse(to_json(x));
    check(doc["content_type"] == x.content_type,
          "related object does not round-trip");
    break;
  }
  case entity::object: {
    const auto& o = cmd.object_fields;
    check_field(o.name);
    check_field(o.child.access_code);
    check(o.child.related_object_id > 0 && o.child.category_id > 0,
          "parsed a non-positive reference id");
    object_view v{
        1,         o.name, o.child.access_code, "description", "text/plain",
        "category"};
    auto doc = parse(to_json(v));
    check(doc["name"] == v.name && doc["access_code"] == v.access_code,
          "object view does not round-trip");
    object_page page{{v, v}, o.child.category_id};
    auto list = parse(to_json(page));
    check(list["items"].size() == 2 &&
              list["next_after"] == o.child.category_id,
          "object page does not round-trip");
    break;
  }
  }
}

// What GET /objects does with its query string, without httplib: every
// parameter goes through the parser the gateway uses for it.
void drive_query(std::string_view query) {
  while (!query.empty()) {
    auto end = query.find('&');
    auto param = query.substr(0, end);
    query.remove_prefix(end == std::string_view::npos ? query.size() : end + 1);
    auto eq = param.find('=');
    auto name = param.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view{}
                                              : param.substr(eq + 1);
    if (name == "category_id") {
      if (auto id = cqrs::parse_row_id(value))
        check(*id > 0, "parse_row_id accepted a non-positive id");
    } else if (name == "after" || name == "limit") {
      if (auto x = cqrs::http::parse_u64(value))
        check(std::to_string(*x) == value || value[0] == '0',
              "parse_u64 does not round-trip");
    } else {
      check_error_json("bad_request",
                       "unknown query parameter '" + std::string{name} + "'");
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cqrs;
  std::string_view in{reinterpret_cast<const char*>(data), size};
  auto method = next_line(in);
  auto target = next_line(in);
  auto min_seq = next_line(in);
  auto content_type = next_line(in);
  auto body = in;

  // -- routing --------------------------------------------------------------
  auto qmark = target.find('?');
  auto path = target.substr(0, qmark);
  auto m = http::match(path);
  check(!http::pattern(m.r).empty(), "a route without a pattern");
  bool allowed = http::allows(m.r, method);
  check(!allowed || m.r != http::route::unknown,
        "a method is allowed on the unknown route");
  check(!(m.bad_id && m.id != 0), "a bad id with an id");
  if (m.id != 0)
    check(std::to_string(m.id) == path.substr(path.rfind('/') + 1),
          "a matched id differs from its path segment");
  check_error_json("not_found", "no route for '" + std::string{path} + "'");
  if (qmark != std::string_view::npos)
    drive_query(target.substr(qmark + 1));

  // -- headers --------------------------------------------------------------
  if (auto seq = http::parse_u64(min_seq))
    check(min_seq.size() <= 20, "parse_u64 accepted over 20 digits");
  bool is_json = http::is_json_media_type(content_type);
  if (!is_json)
    check_error_json("unsupported_media_type",
                     "request body must be application/json, got '" +
                         std::string{content_type} + "'");
  check(http::constant_time_equal(content_type, content_type),
        "constant_time_equal is not reflexive");
  check(!http::constant_time_equal(content_type,
                                   std::string{content_type} + '\0'),
        "constant_time_equal ignores a trailing byte");

  // -- bodies, for every operation on every entity ----------------------------
  for (auto op : {operation::create, operation::update}) {
    for (auto ent :
         {entity::category, entity::related_object, entity::object}) {
      validation_error err;
      auto cmd = parse_command(op, ent, m.id, body, err);
      if (cmd) {
        check(cmd->op == op && cmd->target == ent && cmd->id == m.id,
              "parse_command changed the command's address");
        check(body.find('\0') == std::string_view::npos,
              "a body with a raw NUL byte was accepted");
        check_views(*cmd);
      } else {
        check(!err.message.empty(), "a rejected body without a message");
        check_error_json("bad_request", err.message);
      }
    }
  }
  validation_error err;
  check(parse_command(operation::remove, entity::object, 1, body, err)
            .has_value(),
        "a remove was rejected for its body");
  check_error_json(method, body);

  // -- views of rows written around the API: any bytes serialize -------------
  std::string raw{body};
  for (const auto& text :
       {to_json(category{1, raw}), to_json(related_object{1, raw, raw}),
        to_json(object_view{1, raw, raw, raw, raw, raw}),
        to_json(object_page{{object_view{1, raw, raw, raw, raw, raw}}, 1})})
    check(!json::parse(text, nullptr, false).is_discarded(),
          "a view of arbitrary bytes is not JSON");
  return 0;
}
