// Ids and filter values in paths and query strings, and the JSON of
// acknowledgements and errors.
#include "model/json.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "common/numbers.hpp"
#include "model/value_rules.hpp"

namespace cqrs {

namespace {

using json = nlohmann::json;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Whether `text` is `-`? followed by `0` or a digit string without a
// leading zero; moves `at` past it.
bool scan_integer_part(std::string_view text, size_t& at) {
  if (at < text.size() && text[at] == '-')
    ++at;
  if (at >= text.size() || !is_digit(text[at]))
    return false;
  if (text[at++] == '0')
    return true;
  while (at < text.size() && is_digit(text[at]))
    ++at;
  return true;
}

// Whether `text` follows the grammar of a JSON number.
bool is_json_number(std::string_view text) {
  size_t at = 0;
  if (!scan_integer_part(text, at))
    return false;
  if (at < text.size() && text[at] == '.') {
    auto start = ++at;
    while (at < text.size() && is_digit(text[at]))
      ++at;
    if (at == start)
      return false;
  }
  if (at < text.size() && (text[at] == 'e' || text[at] == 'E')) {
    ++at;
    if (at < text.size() && (text[at] == '+' || text[at] == '-'))
      ++at;
    auto start = at;
    while (at < text.size() && is_digit(text[at]))
      ++at;
    if (at == start)
      return false;
  }
  return at == text.size();
}

std::optional<double> parse_number(std::string_view text) {
  if (!is_json_number(text))
    return std::nullopt;
  double x = 0;
  auto [end, errc] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (errc == std::errc::result_out_of_range) {
    // Too large (not finite) or too small (underflows toward 0, as JSON
    // parsers read it): strtod tells which.
    std::string copy{text};
    x = std::strtod(copy.c_str(), nullptr);
  } else if (errc != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  if (!std::isfinite(x))
    return std::nullopt;
  return x;
}

// Serializes `doc`; invalid UTF-8 becomes U+FFFD instead of an exception.
std::string dump(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

std::optional<row_id> parse_row_id(std::string_view text) {
  if (text.empty() || text.size() > 19 || text[0] == '0')
    return std::nullopt;
  auto result = parse_decimal<row_id>(text);
  if (!result || *result <= 0)
    return std::nullopt;
  return result;
}

std::optional<field_value> parse_filter_value(const column_decl& column,
                                              std::string_view name,
                                              std::string_view text,
                                              std::string& why) {
  auto fail = [&](std::string_view what) -> std::optional<field_value> {
    why.assign(name);
    why += ' ';
    why += what;
    return std::nullopt;
  };
  switch (column.type) {
  case column_type::reference:
    if (auto id = parse_row_id(text))
      return field_value::of_integer(*id);
    return fail("must be a positive integer id");
  case column_type::integer: {
    size_t at = 0;
    if (!scan_integer_part(text, at) || at != text.size())
      return fail(fault_text(column, value_fault::wrong_type));
    auto x = parse_decimal<int64_t>(text);
    if (!x)
      return fail(fault_text(column, value_fault::not_int64));
    return field_value::of_integer(*x);
  }
  case column_type::boolean:
    if (text == "true")
      return field_value::of_boolean(true);
    if (text == "false")
      return field_value::of_boolean(false);
    return fail(fault_text(column, value_fault::wrong_type));
  case column_type::number:
    if (auto x = parse_number(text))
      return field_value::of_number(*x);
    return fail("must be a finite number");
  case column_type::text:
    if (auto fault = check_text(column, text); fault != value_fault::none)
      return fail(fault_text(column, fault));
    return field_value::of_text(std::string{text});
  }
  return fail("has a type no filter takes");
}

std::string to_json(const write_result& x) {
  return json{{"id", x.id}, {"seq", x.seq}}.dump();
}

std::string error_json(std::string_view code, std::string_view message) {
  json err{{"code", code}, {"message", message}};
  return dump(json{{"error", std::move(err)}});
}

} // namespace cqrs
