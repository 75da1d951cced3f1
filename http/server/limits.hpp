// What one connection of the HTTP server may cost, and how reading a request
// fails when it goes past that.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace cqrs::http {

/// Limits that keep slow or huge clients from holding worker threads.
struct connection_limits {
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds keep_alive_timeout{5000};
  size_t max_header_bytes = 16384;
  /// Largest request body. cpp-httplib enforces it for a Content-Length
  /// body only; for a chunked one the stream refuses more than twice this
  /// (plus 4 KiB for the chunk framing) on the wire, and the gateway
  /// refuses a decoded body over it.
  uint64_t max_body_bytes = 65536;
};

/// Why reading the request that the calling worker thread serves failed.
enum class read_failure : uint8_t {
  none,
  /// The whole request did not arrive within `read_timeout`.
  timed_out,
  /// The request line was longer than cpp-httplib accepts (8192 bytes).
  request_line_too_long,
  /// The request line and headers exceeded `max_header_bytes`, or one
  /// header line exceeded cpp-httplib's 8192 bytes.
  header_too_large,
  /// A chunked body went past what `max_body_bytes` allows on the wire.
  body_too_large,
  /// The request line or a header held a NUL, a CR without LF, a bare LF
  /// or an obsolete line folding (RFC 9110 §5.5, RFC 9112 §2.2 and §5.2).
  malformed_head,
};

} // namespace cqrs::http
