// Timestamps as text.
#include "common/time.hpp"

#include <cstdint>

namespace cqrs {

namespace {

// Appends `value` as exactly `digits` decimal digits (zero-padded).
void append_digits(char*& out, int64_t value, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out += digits;
}

} // namespace

// The writer formats two of these per command (commit_log and
// Idempotency-Key rows): plain arithmetic instead of gmtime_r and
// snprintf, which cost ~4,000 instructions per call. The date is the
// proleptic Gregorian one of `days` since 1970-01-01 (H. Hinnant's
// civil_from_days), as gmtime_r gives it.
void append_utc_text(std::string& out,
                     std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto total_ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  int64_t ms_per_day = 86400000;
  int64_t days = total_ms / ms_per_day;
  int64_t ms_of_day = total_ms % ms_per_day;
  if (ms_of_day < 0) {
    ms_of_day += ms_per_day;
    --days;
  }
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999)
    return; // as before, only four-digit years are written
  char buffer[24];
  char* p = buffer;
  append_digits(p, year, 4);
  *p++ = '-';
  append_digits(p, month, 2);
  *p++ = '-';
  append_digits(p, day, 2);
  *p++ = 'T';
  append_digits(p, ms_of_day / 3600000, 2);
  *p++ = ':';
  append_digits(p, ms_of_day / 60000 % 60, 2);
  *p++ = ':';
  append_digits(p, ms_of_day / 1000 % 60, 2);
  *p++ = '.';
  append_digits(p, ms_of_day % 1000, 3);
  *p++ = 'Z';
  out.append(buffer, static_cast<size_t>(p - buffer));
}

std::string utc_text(std::chrono::system_clock::time_point t) {
  std::string result;
  append_utc_text(result, t);
  return result;
}

} // namespace cqrs
