// A small thread-safe logger writing one line per event to stderr.
#include "common/logging.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <mutex>

#include <unistd.h>

#include "common/time.hpp"

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
  append_utc_text(line, std::chrono::system_clock::now());
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
