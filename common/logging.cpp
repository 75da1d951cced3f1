// A small thread-safe logger writing one line per event to stderr.
#include "common/logging.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <unistd.h>

namespace cqrs::logging {

namespace {

std::atomic<log_level> current_level{log_level::info};

std::mutex write_mutex;

const char* level_name(log_level level) {
  switch (level) {
  case log_level::error:
    return "ERROR";
  case log_level::warning:
    return "WARN";
  case log_level::info:
    return "INFO";
  case log_level::debug:
    return "DEBUG";
  }
  return "?";
}

/// Appends the current UTC time as "2026-11-28T04:30:00.123Z".
void append_timestamp(std::string& out) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  auto seconds = system_clock::to_time_t(now);
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

} // namespace

void set_level(log_level level) {
  current_level.store(level, std::memory_order_relaxed);
}

bool enabled(log_level level) {
  return level <= current_level.load(std::memory_order_relaxed);
}

void write(log_level level, const char* component, const std::string& message) {
  if (!enabled(level))
    return;
  std::string line;
  line.reserve(48 + message.size());
  append_timestamp(line);
  line += ' ';
  char name[8];
  std::snprintf(name, sizeof(name), "%-5s", level_name(level));
  line += name;
  line += ' ';
  line += component != nullptr ? component : "-";
  line += ": ";
  // One event is one line: escape line breaks inside the message.
  for (auto c : message) {
    if (c == '\n')
      line += "\\n";
    else if (c == '\r')
      line += "\\r";
    else
      line += c;
  }
  line += '\n';
  std::lock_guard<std::mutex> guard{write_mutex};
  const char* data = line.data();
  auto left = line.size();
  while (left > 0) {
    auto n = ::write(STDERR_FILENO, data, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return; // Nowhere left to report a failing stderr.
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
}

} // namespace cqrs::logging
