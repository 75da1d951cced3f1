// How the HTTP server moves bytes over a socket, plain or TLS, without
// waiting; internal to http/server/.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

struct ssl_st;

namespace cqrs::http {

using clock_type = std::chrono::steady_clock;

/// `left` as a poll() timeout in milliseconds, rounded up, within 0..60000.
int poll_ms(clock_type::duration left);

/// Writes as much of `text` as the socket takes without waiting.
void send_now(int fd, const std::string& text);

/// Shuts `fd` down both ways and closes it.
void close_socket(int fd);

/// Makes `fd` non-blocking, as TLS on it without waiting needs.
void set_nonblocking(int fd);

/// Frees an OpenSSL session.
struct ssl_free {
  void operator()(ssl_st* ssl) const;
};

/// An OpenSSL session, owned.
using ssl_ptr = std::unique_ptr<ssl_st, ssl_free>;

/// What a transport call did.
enum class io : uint8_t {
  done,
  /// The peer closed the connection.
  closed,
  /// Nothing to do until the socket is readable.
  want_read,
  /// Nothing to do until the socket is writable.
  want_write,
  failed,
};

/// Maps the result `ok` of an OpenSSL call on `ssl` to an io.
io tls_result(ssl_st* ssl, int ok);

/// Waits until `fd` is ready for `want` (want_read or want_write) or
/// `timeout` passes; false when poll failed.
bool await(int fd, io want, clock_type::duration timeout);

/// How a request_stream moves bytes over its connection, without waiting.
class transport {
public:
  virtual ~transport() = default;

  /// Reads up to `size` bytes; sets `n` when done.
  virtual io recv(char* buf, size_t size, size_t& n) = 0;

  /// Writes up to `size` bytes; sets `n` when done.
  virtual io send(const char* buf, size_t size, size_t& n) = 0;

  /// Whether received bytes wait in a buffer that poll() does not see.
  virtual bool pending() const = 0;
};

/// Plain TCP.
class tcp_transport final : public transport {
public:
  explicit tcp_transport(int fd) : fd_(fd) {}

  io recv(char* buf, size_t size, size_t& n) override;

  io send(const char* buf, size_t size, size_t& n) override;

  bool pending() const override { return false; }

private:
  int fd_;
};

/// TLS over a non-blocking socket, after the handshake.
class tls_transport final : public transport {
public:
  explicit tls_transport(ssl_st* ssl) : ssl_(ssl) {}

  io recv(char* buf, size_t size, size_t& n) override;

  io send(const char* buf, size_t size, size_t& n) override;

  bool pending() const override;

private:
  ssl_st* ssl_;
};

} // namespace cqrs::http
