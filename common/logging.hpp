// A small thread-safe logger writing one line per event to stderr.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>

namespace cqrs {

/// How much the node logs.
enum class log_level : uint8_t { error, warning, info, debug };

} // namespace cqrs

namespace cqrs::logging {

/// Sets the lowest level that is written; the default is `info`.
void set_level(log_level level);

/// Returns whether events at `level` are written.
bool enabled(log_level level);

/// Writes one line: "2026-11-28T04:30:00.123Z INFO  component: message".
void write(log_level level, const char* component, const std::string& message);

} // namespace cqrs::logging

/// Logs a message built with `<<` if `level` is enabled, e.g.
/// `CQRS_LOG(info, "http", "listening on " << port)`.
#define CQRS_LOG(level, component, stream_expr)                                \
  do {                                                                         \
    if (::cqrs::logging::enabled(::cqrs::log_level::level)) {                  \
      std::ostringstream cqrs_log_os_;                                         \
      cqrs_log_os_ << stream_expr;                                             \
      ::cqrs::logging::write(::cqrs::log_level::level, component,              \
                             cqrs_log_os_.str());                              \
    }                                                                          \
  } while (false)
