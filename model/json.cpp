// JSON mapping of commands and views, with the API's validation rules.
#include "model/json.hpp"

#include <charconv>
#include <initializer_list>

#include <nlohmann/json.hpp>

namespace cqrs {

namespace {

using json = nlohmann::json;

// Counts UTF-8 code points; the parser has already rejected invalid UTF-8.
size_t code_points(const std::string& str) {
  size_t n = 0;
  for (unsigned char c : str)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

// Checks that `obj` holds exactly `fields`, naming the first offender.
bool check_fields(const json& obj, std::string_view where,
                  std::initializer_list<std::string_view> fields,
                  validation_error& err) {
  if (!obj.is_object()) {
    err.message = std::string{where} + " must be a JSON object";
    return false;
  }
  for (auto& [key, value] : obj.items()) {
    bool known = false;
    for (auto f : fields)
      known = known || key == f;
    if (!known) {
      err.message = "unknown field '" + std::string{where} + "." + key + "'";
      return false;
    }
  }
  for (auto f : fields) {
    if (!obj.contains(f)) {
      err.message =
          "missing field '" + std::string{where} + "." + std::string{f} + "'";
      return false;
    }
  }
  return true;
}

bool read_string(const json& obj, std::string_view where,
                 std::string_view field, std::string& out,
                 validation_error& err) {
  auto name = std::string{where} + "." + std::string{field};
  const auto& value = obj.at(std::string{field});
  if (!value.is_string()) {
    err.message = "field '" + name + "' must be a string";
    return false;
  }
  out = value.get<std::string>();
  if (out.empty()) {
    err.message = "field '" + name + "' must not be empty";
    return false;
  }
  if (code_points(out) > max_string_length) {
    err.message = "field '" + name + "' is longer than " +
                  std::to_string(max_string_length) + " characters";
    return false;
  }
  if (out.find('\0') != std::string::npos) {
    err.message = "field '" + name + "' must not contain NUL characters";
    return false;
  }
  return true;
}

bool read_id(const json& obj, std::string_view where, std::string_view field,
             row_id& out, validation_error& err) {
  auto name = std::string{where} + "." + std::string{field};
  const auto& value = obj.at(std::string{field});
  if (value.is_number_unsigned()) {
    auto x = value.get<uint64_t>();
    if (x > 0 && x <= static_cast<uint64_t>(INT64_MAX)) {
      out = static_cast<row_id>(x);
      return true;
    }
  } else if (value.is_number_integer()) {
    auto x = value.get<int64_t>();
    if (x > 0) {
      out = x;
      return true;
    }
  } else {
    err.message = "field '" + name + "' must be an integer id";
    return false;
  }
  err.message = "field '" + name + "' must be a positive id";
  return false;
}

bool parse_category(const json& body, command& cmd, validation_error& err) {
  return check_fields(body, "body", {"description"}, err) &&
         read_string(body, "body", "description",
                     cmd.category_fields.description, err);
}

bool parse_related_object(const json& body, command& cmd,
                          validation_error& err) {
  auto& x = cmd.related_fields;
  return check_fields(body, "body", {"content_description", "content_type"},
                      err) &&
         read_string(body, "body", "content_description", x.content_description,
                     err) &&
         read_string(body, "body", "content_type", x.content_type, err);
}

bool parse_object(const json& body, command& cmd, validation_error& err) {
  auto& x = cmd.object_fields;
  if (!check_fields(body, "body", {"name", "child"}, err) ||
      !read_string(body, "body", "name", x.name, err))
    return false;
  const auto& child = body.at("child");
  return check_fields(child, "body.child",
                      {"access_code", "related_object_id", "category_id"},
                      err) &&
         read_string(child, "body.child", "access_code", x.child.access_code,
                     err) &&
         read_id(child, "body.child", "related_object_id",
                 x.child.related_object_id, err) &&
         read_id(child, "body.child", "category_id", x.child.category_id, err);
}

} // namespace

std::optional<command> parse_command(operation op, entity target, row_id id,
                                     std::string_view body,
                                     validation_error& err) {
  command cmd;
  cmd.op = op;
  cmd.target = target;
  cmd.id = id;
  if (op == operation::remove)
    return cmd;
  // nlohmann's lexer takes a NUL byte for the end of input and would accept
  // `{...}\0<anything>`; a raw NUL is never valid JSON.
  if (body.find('\0') != std::string_view::npos) {
    err.message = "request body is not valid JSON (it contains a NUL byte)";
    return std::nullopt;
  }
  auto doc = json::parse(body.begin(), body.end(), nullptr, false);
  if (doc.is_discarded()) {
    err.message = "request body is not valid JSON";
    return std::nullopt;
  }
  bool ok = false;
  switch (target) {
  case entity::category:
    ok = parse_category(doc, cmd, err);
    break;
  case entity::related_object:
    ok = parse_related_object(doc, cmd, err);
    break;
  case entity::object:
    ok = parse_object(doc, cmd, err);
    break;
  }
  if (!ok)
    return std::nullopt;
  return cmd;
}

std::optional<row_id> parse_row_id(std::string_view text) {
  if (text.empty() || text.size() > 19 || text[0] == '0')
    return std::nullopt;
  row_id result = 0;
  auto [end, errc] =
      std::from_chars(text.data(), text.data() + text.size(), result);
  if (errc != std::errc{} || end != text.data() + text.size() || result <= 0)
    return std::nullopt;
  return result;
}

namespace {

// Serializes `doc`; invalid UTF-8 (only possible in rows written around the
// API, as requests are validated) becomes U+FFFD instead of an exception.
std::string dump(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

json view_json(const object_view& x) {
  return json{{"id", x.id},
              {"name", x.name},
              {"access_code", x.access_code},
              {"content_description", x.content_description},
              {"content_type", x.content_type},
              {"category_description", x.category_description}};
}

} // namespace

std::string to_json(const object_view& x) {
  return dump(view_json(x));
}

std::string to_json(const object_page& x) {
  auto items = json::array();
  for (const auto& item : x.items)
    items.push_back(view_json(item));
  json result{{"items", std::move(items)}, {"next_after", nullptr}};
  if (x.next_after)
    result["next_after"] = *x.next_after;
  return dump(result);
}

std::string to_json(const category& x) {
  return dump(json{{"id", x.id}, {"description", x.description}});
}

std::string to_json(const related_object& x) {
  return dump(json{{"id", x.id},
                   {"content_description", x.content_description},
                   {"content_type", x.content_type}});
}

std::string to_json(const write_result& x) {
  return json{{"id", x.id}, {"seq", x.seq}}.dump();
}

std::string error_json(std::string_view code, std::string_view message) {
  json err{{"code", code}, {"message", message}};
  return dump(json{{"error", std::move(err)}});
}

} // namespace cqrs
