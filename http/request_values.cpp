// Pure parsers for the values of request headers and query parameters.
#include "http/request_values.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "common/numbers.hpp"

namespace cqrs::http {

std::optional<uint64_t> parse_u64(std::string_view text) {
  // No more characters than UINT64_MAX has digits, leading zeros included.
  if (text.size() > 20)
    return std::nullopt;
  return parse_decimal<uint64_t>(text);
}

bool is_json_media_type(std::string_view text) {
  std::string value{text.substr(0, text.find(';'))};
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  value.erase(value.begin(),
              std::find_if(value.begin(), value.end(), not_space));
  value.erase(std::find_if(value.rbegin(), value.rend(), not_space).base(),
              value.end());
  std::transform(value.begin(), value.end(), value.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  auto ends_with = [&](std::string_view suffix) {
    return value.size() >= suffix.size() &&
           value.compare(value.size() - suffix.size(), suffix.size(), suffix) ==
               0;
  };
  return value == "application/json" || ends_with("+json");
}

bool constant_time_equal(std::string_view x, std::string_view y) {
  auto n = std::max(x.size(), y.size());
  unsigned char diff = x.size() == y.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    auto a = i < x.size() ? static_cast<unsigned char>(x[i]) : 0;
    auto b = i < y.size() ? static_cast<unsigned char>(y[i]) : 0;
    diff |= a ^ b;
  }
  return diff == 0;
}

} // namespace cqrs::http
