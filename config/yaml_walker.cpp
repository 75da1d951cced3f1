// Reading the YAML of a domain file node by node, each named by its path:
// structure, scalars and names (see config/domain_reading.hpp).
#include "config/domain_reading.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "common/numbers.hpp"
#include "config/yaml_document.hpp"

namespace cqrs::domain_reading {

namespace {

/// Past this many nodes visited (an alias counts each time it is used), a
/// file is refused rather than walked.
constexpr size_t max_yaml_nodes = 200000;

constexpr const char* name_pattern = "[a-z][a-z0-9_]{0,62}";

/// Whether a scalar is plain (or explicitly tagged `core_tag`), so that it
/// may be read as a boolean or number; quoted scalars are strings.
bool is_plain(const YAML::Node& node, const char* core_tag) {
  return node.Tag() == "?" ||
         node.Tag() == std::string{"tag:yaml.org,2002:"} + core_tag;
}

/// An unsigned decimal `text` of at most 20 characters, if it fits 64 bits.
std::optional<uint64_t> parse_u64(const std::string& text) {
  if (text.size() > 20)
    return std::nullopt;
  return parse_decimal<uint64_t>(text);
}

/// Whether `s` is -?(D+(.D*)?|.D+)([eE][-+]?D+)? (no inf, nan or hex).
bool is_decimal_number(const std::string& s) {
  size_t i = 0;
  auto digits = [&] {
    auto start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i;
    return i - start;
  };
  if (i < s.size() && s[i] == '-')
    ++i;
  auto whole = digits();
  size_t fraction = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    fraction = digits();
  }
  if (whole == 0 && fraction == 0)
    return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+'))
      ++i;
    if (digits() == 0)
      return false;
  }
  return i == s.size();
}

bool is_name(const std::string& s) {
  if (s.empty() || s.size() > 63 || s[0] < 'a' || s[0] > 'z')
    return false;
  for (auto c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

bool is_segment(const std::string& s) {
  if (s.empty() || s.size() > 63 || s[0] < 'a' || s[0] > 'z')
    return false;
  for (auto c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return false;
  return true;
}

} // namespace

std::string child(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

std::string item(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string quote(const std::string& text) {
  return "'" + text + "'";
}

// -- structure ----------------------------------------------------------------

bool yaml_walker::fail(std::string path, std::string message) {
  path_ = std::move(path);
  message_ = std::move(message);
  return false;
}

bool yaml_walker::unknown(const std::string& path, const std::string& key) {
  return fail(path, "unknown key " + quote(key));
}

bool yaml_walker::count(const std::string& path) {
  if (++nodes_ <= max_yaml_nodes)
    return true;
  return fail(path, "the domain file is too large: more than " +
                        std::to_string(max_yaml_nodes) +
                        " YAML nodes (an alias counts each time it is used)");
}

std::string yaml_walker::describe(const YAML::Node& node) {
  return describe_yaml_node(node);
}

// -- scalars ------------------------------------------------------------------

bool yaml_walker::read_string(const std::string& path, const YAML::Node& node,
                              const std::string& expected, std::string& out) {
  if (!node.IsScalar())
    return fail(path, "expected " + expected + ", got " + describe(node));
  out = node.Scalar();
  return true;
}

bool yaml_walker::plain_scalar(const std::string& path, const YAML::Node& node,
                               const char* core_tag,
                               const std::string& expected) {
  if (!node.IsScalar())
    return fail(path, "expected " + expected + ", got " + describe(node));
  if (!is_plain(node, core_tag))
    return fail(path, "expected " + expected + ", got the quoted string " +
                          quote(node.Scalar()));
  return true;
}

bool yaml_walker::read_bool(const std::string& path, const YAML::Node& node,
                            bool& out) {
  const std::string expected = "true or false";
  if (!plain_scalar(path, node, "bool", expected))
    return false;
  // The YAML 1.2 core schema: no yes/no/on/off.
  const auto& text = node.Scalar();
  if (text == "true" || text == "True" || text == "TRUE")
    out = true;
  else if (text == "false" || text == "False" || text == "FALSE")
    out = false;
  else
    return fail(path, "expected " + expected + ", got " + quote(text));
  return true;
}

bool yaml_walker::read_uint(const std::string& path, const YAML::Node& node,
                            uint64_t lo, uint64_t hi, uint64_t& out) {
  auto expected =
      "an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
  if (!plain_scalar(path, node, "int", expected))
    return false;
  auto value = parse_u64(node.Scalar());
  if (!value || *value < lo || *value > hi)
    return fail(path, "expected " + expected + ", got " + quote(node.Scalar()));
  out = *value;
  return true;
}

bool yaml_walker::read_value(const std::string& path, const YAML::Node& node,
                             int64_t& out) {
  const std::string expected = "a 64-bit integer";
  if (!plain_scalar(path, node, "int", expected))
    return false;
  const auto& text = node.Scalar();
  auto digits = text;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    negative = digits[0] == '-';
    digits.erase(0, 1);
  }
  auto limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) +
               (negative ? 1 : 0);
  auto magnitude = parse_u64(digits);
  if (!magnitude || *magnitude > limit)
    return fail(path, "expected " + expected + ", got " + quote(text));
  out = negative ? static_cast<int64_t>(0 - *magnitude)
                 : static_cast<int64_t>(*magnitude);
  return true;
}

bool yaml_walker::read_value(const std::string& path, const YAML::Node& node,
                             double& out) {
  const std::string expected = "a finite number";
  if (!plain_scalar(path, node, "float", expected))
    return false;
  const auto& text = node.Scalar();
  auto body = text;
  if (!body.empty() && body[0] == '+')
    body.erase(0, 1);
  double value = 0;
  auto first = body.data();
  auto last = body.data() + body.size();
  auto [end, ec] =
      std::from_chars(first, last, value, std::chars_format::general);
  if (!is_decimal_number(body) || ec != std::errc{} || end != last ||
      !std::isfinite(value))
    return fail(path, "expected " + expected + ", got " + quote(text));
  out = value == 0 ? 0.0 : value; // -0 is 0
  return true;
}

// -- names --------------------------------------------------------------------

bool yaml_walker::read_name(const std::string& path, const YAML::Node& node,
                            const char* what, std::string& out) {
  if (!read_string(path, node, "a name", out))
    return false;
  if (!is_name(out))
    return fail(path, "expected " + std::string{what} + " matching " +
                          name_pattern + ", got " + quote(out));
  return true;
}

bool yaml_walker::read_name_key(const std::string& path, const std::string& key,
                                const char* what, std::string& out) {
  if (!is_name(key))
    return fail(path, "expected " + std::string{what} + " name matching " +
                          name_pattern + ", got " + quote(key));
  out = key;
  return true;
}

bool yaml_walker::read_segment_key(const std::string& path,
                                   const std::string& key, const char* what,
                                   std::string& out) {
  if (!is_segment(key))
    return fail(path, "expected a " + std::string{what} +
                          " segment matching [a-z][a-z0-9-]{0,62}, got " +
                          quote(key));
  if (is_reserved_segment(key))
    return fail(path, "the segment " + quote(key) +
                          " is reserved: healthz, readyz, metrics, status, "
                          "openapi.json, docs, console and commits are "
                          "cqrsd's own routes");
  out = key;
  return true;
}

bool yaml_walker::read_column_ref(const std::string& path,
                                  const YAML::Node& node, std::string& table,
                                  std::string& column) {
  std::string text;
  if (!read_string(path, node, "table.column", text))
    return false;
  auto dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size() ||
      text.find('.', dot + 1) != std::string::npos)
    return fail(path, "expected table.column, got " + quote(text));
  table = text.substr(0, dot);
  column = text.substr(dot + 1);
  return true;
}

} // namespace cqrs::domain_reading
