// One connection as cpp-httplib's request parser reads and writes it, under
// the connection's limits; internal to http/server/.
#pragma once

#include <functional>
#include <string>

#include <httplib.h>

#include "http/server/limits.hpp"
#include "http/server/transport.hpp"

namespace cqrs::http {

/// How often a worker waiting for a request checks whether the server stops.
constexpr auto stop_check = std::chrono::milliseconds{100};

/// One connection as cpp-httplib's request parser reads and writes it. Reads
/// are buffered and bounded by a deadline per request, the request line and
/// headers by `max_header_bytes` and 8192 bytes per line. After a read
/// failure, writes are swallowed: the admission server answers such
/// requests itself, with the right status, and closes the connection.
class request_stream final : public httplib::Stream {
public:
  request_stream(int fd, transport& conn, const connection_limits& limits)
      : fd_(fd), conn_(conn), limits_(limits) {}

  // -- httplib::Stream --------------------------------------------------------

  bool is_readable() const override;

  bool is_writable() const override { return !broken_; }

  ssize_t read(char* ptr, size_t size) override;

  ssize_t write(const char* ptr, size_t size) override;

  void get_remote_ip_and_port(std::string& ip, int& port) const override;

  void get_local_ip_and_port(std::string& ip, int& port) const override;

  socket_t socket() const override { return fd_; }

  // -- connection life --------------------------------------------------------

  /// Waits up to `timeout` for the next request to start. Returns false on
  /// timeout or when `stopping` turns true.
  bool wait_for_request(std::chrono::milliseconds timeout,
                        const std::function<bool()>& stopping);

  /// Starts the clock and the head limits for the next request.
  void begin_request();

  /// Writes an answer of our own, past the swallowing of failed requests.
  bool send_raw(const std::string& text) {
    return send_all(text.data(), text.size());
  }

  read_failure failure() const noexcept { return failure_; }

  const std::string& failure_message() const noexcept {
    return failure_message_;
  }

  /// Whether writing to the client failed or timed out.
  bool broken() const noexcept { return broken_; }

private:
  // The most body bytes a request may send: a chunked body's framing can
  // double a small body, so allow twice the limit and some slack.
  uint64_t max_wire_body_bytes() const noexcept {
    return 2 * limits_.max_body_bytes + 4096;
  }

  void fail(read_failure why, std::string message) {
    failure_ = why;
    failure_message_ = std::move(message);
  }

  // Counts one byte of the request line or headers; false past a limit or
  // on a byte that a request head must not hold there.
  bool count_head_byte(char c);

  // Fails the request on a NUL, a CR without LF, a bare LF or a folded
  // header line: cpp-httplib would cut a value at the NUL, keep the CR, or
  // drop the line, so the request would not mean what the client sent.
  bool check_head_byte(char c);

  // Reads more into the buffer, waiting at most until the deadline.
  ssize_t fill();

  bool send_all(const char* ptr, size_t size);

  int fd_;
  transport& conn_;
  const connection_limits& limits_;
  char buf_[4096];
  size_t pos_ = 0;
  size_t end_ = 0;
  clock_type::time_point deadline_ = clock_type::now();
  bool in_head_ = true;
  bool first_line_ = true;
  size_t head_bytes_ = 0;
  size_t line_bytes_ = 0;
  char previous_ = '\n';
  uint64_t body_bytes_ = 0;
  bool answered_ = false;
  bool broken_ = false;
  read_failure failure_ = read_failure::none;
  std::string failure_message_;
  // The connection's addresses, read once: cpp-httplib asks for both on
  // every request (REMOTE_ADDR and LOCAL_ADDR headers), a system call each,
  // and they stay the same for the connection's life.
  struct address {
    bool known = false;
    std::string ip;
    int port = 0;
  };
  mutable address remote_;
  mutable address local_;
};

} // namespace cqrs::http
