// Timestamps as text.
#include "common/time.hpp"

#include <cstdio>
#include <ctime>

namespace cqrs {

void append_utc_text(std::string& out,
                     std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count() % 1000;
  auto seconds = system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  auto n = std::snprintf(
      buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
      utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
      utc.tm_sec, static_cast<int>(ms));
  if (n > 0)
    out.append(buffer, static_cast<size_t>(n));
}

std::string utc_text(std::chrono::system_clock::time_point t) {
  std::string result;
  append_utc_text(result, t);
  return result;
}

} // namespace cqrs
