// Row keys, column keys and cache keys.
#include "model/row_key.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "model/command.hpp"
#include "model/query.hpp"

namespace cqrs {

namespace {

/// Text longer than this is keyed by its hash: keys stay short, and a
/// collision only evicts more than needed.
constexpr size_t max_plain_text = 64;

bool unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

uint64_t fnv1a(std::string_view text) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string number_text(double x) {
  if (x == 0)
    return "0"; // -0 equals 0 in SQL
  // The shortest of %.15g..%.17g that reads back as `x`.
  char buf[32];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, x);
    if (std::strtod(buf, nullptr) == x)
      break;
  }
  return buf;
}

} // namespace

std::string row_key(std::string_view table_name, row_id id) {
  std::string result{table_name};
  result += ':';
  result += std::to_string(id);
  return result;
}

std::string table_key(std::string_view table_name) {
  std::string result{table_name};
  result += ":*";
  return result;
}

std::string table_key_of(std::string_view key) {
  auto colon = key.find(':');
  if (colon == std::string_view::npos)
    return {};
  return table_key(key.substr(0, colon));
}

std::string value_text(const field_value& value) {
  switch (value.kind) {
  case value_kind::null:
    return {};
  case value_kind::integer:
    return std::to_string(value.integer);
  case value_kind::boolean:
    return value.integer != 0 ? "true" : "false";
  case value_kind::number:
    return number_text(value.number);
  case value_kind::text:
    break;
  }
  const auto& text = value.text;
  if (text.size() > max_plain_text) {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "#%016llx",
                  static_cast<unsigned long long>(fnv1a(text)));
    return buf;
  }
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string result;
  result.reserve(text.size());
  for (unsigned char c : text) {
    if (unreserved(c)) {
      result += static_cast<char>(c);
    } else {
      result += '%';
      result += hex[c >> 4];
      result += hex[c & 0xF];
    }
  }
  return result;
}

std::string column_key(std::string_view table_name,
                       std::string_view column_name, const field_value& value) {
  if (value.is_null())
    return {};
  std::string result{table_name};
  result += '.';
  result += column_name;
  result += '=';
  result += value_text(value);
  return result;
}

std::string cache_key(const query& q) {
  std::string result = std::to_string(q.view);
  if (q.kind == query_kind::item) {
    result += '/';
    result += std::to_string(q.id);
    return result;
  }
  result += '?';
  for (const auto& f : q.filters) {
    // Null (no filter) and the empty text differ: the latter gets a '='.
    if (!f.is_null()) {
      result += '=';
      result += value_text(f);
    }
    result += '&';
  }
  result += "after=" + std::to_string(q.after);
  result += "&limit=" + std::to_string(q.limit);
  return result;
}

const char* to_string(operation x) {
  switch (x) {
  case operation::create:
    return "create";
  case operation::update:
    return "update";
  case operation::remove:
    return "remove";
  }
  return "?";
}

} // namespace cqrs
