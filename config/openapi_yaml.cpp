// JSON to YAML for the OpenAPI document, with yaml-cpp's emitter.
#include "config/openapi_yaml.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include <yaml-cpp/yaml.h>

namespace cqrs {

namespace {

using json = nlohmann::ordered_json;

/// A list of scalars goes on one line while it takes at most this many
/// characters.
constexpr size_t max_flow_width = 60;

// Whether a plain `text` could read back as something else than a string:
// null, a boolean (YAML 1.1 spells them in many ways) or a number (in any
// notation of YAML 1.1 or 1.2). Errs on the side of quoting.
bool looks_typed(std::string_view text) {
  static constexpr std::array<std::string_view, 10> words{
      "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n"};
  std::string lower;
  for (char c : text)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (std::find(words.begin(), words.end(), lower) != words.end())
    return true;
  auto rest = text;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+'))
    rest.remove_prefix(1);
  if (rest.empty() ||
      !(std::isdigit(static_cast<unsigned char>(rest[0])) || rest[0] == '.'))
    return false;
  return std::all_of(rest.begin(), rest.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
           c == '_' || c == ':' || c == '+' || c == '-';
  });
}

// Whether `text` reads back unchanged from a literal block (`|`): it ends
// with exactly one line break, which clip chomping keeps; no line of it
// starts the block with a space or ends with one; no control characters.
bool fits_literal(std::string_view text) {
  if (text.size() < 2 || text.back() != '\n' || text[text.size() - 2] == '\n')
    return false;
  if (text[0] == ' ' || text[0] == '\n')
    return false;
  for (size_t i = 0; i < text.size(); ++i) {
    auto u = static_cast<unsigned char>(text[i]);
    if ((u < 0x20 && u != '\n') || u == 0x7f)
      return false;
    if (u == '\n' && i > 0 && text[i - 1] == ' ')
      return false;
  }
  return true;
}

void emit_string(YAML::Emitter& out, const std::string& text) {
  if (text.find('\n') == std::string::npos)
    out << (looks_typed(text) ? YAML::SingleQuoted : YAML::Auto) << text;
  else if (fits_literal(text))
    // yaml-cpp writes a line break after the block itself.
    out << YAML::Literal << text.substr(0, text.size() - 1);
  else
    out << YAML::DoubleQuoted << text;
}

// Drops the indentation that yaml-cpp writes on the empty lines of literal
// blocks: an empty line is empty however it is indented.
std::string without_blank_indents(const std::string& text) {
  std::string result;
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    auto line = std::string_view{text}.substr(pos, end - pos);
    if (line.find_first_not_of(' ') != std::string_view::npos)
      result += line;
    result += '\n';
    pos = end + 1;
  }
  return result;
}

bool is_scalar(const json& x) {
  return !x.is_object() && !x.is_array();
}

// The width of a list of scalars written on one line, roughly.
size_t flow_width(const json& xs) {
  size_t width = 2;
  for (const auto& x : xs)
    width += (x.is_string() ? x.get_ref<const std::string&>().size()
                            : x.dump().size()) +
             2;
  return width;
}

void emit(YAML::Emitter& out, const json& x) {
  switch (x.type()) {
  case json::value_t::object:
    if (x.empty()) {
      out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
      return;
    }
    out << YAML::BeginMap;
    for (const auto& [key, value] : x.items()) {
      out << YAML::Key;
      emit_string(out, key);
      out << YAML::Value;
      emit(out, value);
    }
    out << YAML::EndMap;
    return;
  case json::value_t::array: {
    bool flow = x.empty() ||
                (std::all_of(x.begin(), x.end(), is_scalar) &&
                 flow_width(x) <= max_flow_width &&
                 std::none_of(x.begin(), x.end(), [](const json& y) {
                   return y.is_string() && y.get_ref<const std::string&>().find(
                                               '\n') != std::string::npos;
                 }));
    if (flow)
      out << YAML::Flow;
    out << YAML::BeginSeq;
    for (const auto& value : x)
      emit(out, value);
    out << YAML::EndSeq;
    return;
  }
  case json::value_t::string:
    emit_string(out, x.get_ref<const std::string&>());
    return;
  case json::value_t::boolean:
    out << (x.get<bool>() ? "true" : "false");
    return;
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
  case json::value_t::number_float:
    // JSON's spelling of a number is YAML's too (1.2 core schema; a float
    // always has a '.' or an exponent).
    out << x.dump();
    return;
  case json::value_t::null:
  case json::value_t::discarded:
  case json::value_t::binary:
    out << YAML::Null;
    return;
  }
}

} // namespace

std::string openapi_yaml(const nlohmann::ordered_json& doc) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, doc);
  return without_blank_indents(out.c_str());
}

} // namespace cqrs
