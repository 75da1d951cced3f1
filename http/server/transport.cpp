// How the HTTP server moves bytes over a socket, plain or TLS.
#include "http/server/transport.hpp"

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace cqrs::http {

int poll_ms(clock_type::duration left) {
  using std::chrono::milliseconds;
  auto ms = std::chrono::ceil<milliseconds>(left).count();
  return static_cast<int>(std::clamp<decltype(ms)>(ms, 0, 60000));
}

void send_now(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    auto n = ::send(fd, text.data() + done, text.size() - done,
                    MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0)
      done += static_cast<size_t>(n);
    else if (n < 0 && errno == EINTR)
      continue;
    else
      return;
  }
}

void close_socket(int fd) {
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

void set_nonblocking(int fd) {
  if (auto flags = ::fcntl(fd, F_GETFL); flags >= 0)
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void ssl_free::operator()(SSL* ssl) const {
  SSL_free(ssl);
}

io tls_result(SSL* ssl, int ok) {
  if (ok > 0)
    return io::done;
  switch (SSL_get_error(ssl, ok)) {
  case SSL_ERROR_WANT_READ:
    return io::want_read;
  case SSL_ERROR_WANT_WRITE:
    return io::want_write;
  case SSL_ERROR_ZERO_RETURN:
    return io::closed;
  default:
    return io::failed;
  }
}

bool await(int fd, io want, clock_type::duration timeout) {
  pollfd p{fd, static_cast<short>(want == io::want_write ? POLLOUT : POLLIN),
           0};
  return ::poll(&p, 1, poll_ms(timeout)) >= 0 || errno == EINTR;
}

// -- tcp_transport ------------------------------------------------------------

io tcp_transport::recv(char* buf, size_t size, size_t& n) {
  for (;;) {
    auto r = ::recv(fd_, buf, size, MSG_DONTWAIT);
    if (r > 0) {
      n = static_cast<size_t>(r);
      return io::done;
    }
    if (r == 0)
      return io::closed;
    if (errno == EINTR)
      continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? io::want_read : io::failed;
  }
}

io tcp_transport::send(const char* buf, size_t size, size_t& n) {
  for (;;) {
    auto r = ::send(fd_, buf, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r >= 0) {
      n = static_cast<size_t>(r);
      return io::done;
    }
    if (errno == EINTR)
      continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? io::want_write
                                                   : io::failed;
  }
}

// -- tls_transport ------------------------------------------------------------

io tls_transport::recv(char* buf, size_t size, size_t& n) {
  ERR_clear_error();
  return tls_result(ssl_, SSL_read_ex(ssl_, buf, size, &n));
}

io tls_transport::send(const char* buf, size_t size, size_t& n) {
  ERR_clear_error();
  return tls_result(ssl_, SSL_write_ex(ssl_, buf, size, &n));
}

bool tls_transport::pending() const {
  return SSL_has_pending(ssl_) == 1;
}

} // namespace cqrs::http
