// One connection as cpp-httplib's request parser reads and writes it.
#include "http/server/request_stream.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

namespace cqrs::http {

namespace {

/// The longest line cpp-httplib accepts, a constant built into the Debian
/// library: CPPHTTPLIB_HEADER_MAX_LENGTH and CPPHTTPLIB_REQUEST_URI_MAX_LENGTH.
constexpr size_t max_line_bytes = 8192;

} // namespace

// -- httplib::Stream ----------------------------------------------------------

bool request_stream::is_readable() const {
  if (pos_ < end_ || conn_.pending())
    return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, poll_ms(deadline_ - clock_type::now())) > 0;
}

ssize_t request_stream::read(char* ptr, size_t size) {
  if (failure_ != read_failure::none || broken_)
    return -1;
  if (pos_ == end_) {
    if (auto n = fill(); n <= 0)
      return n;
  }
  auto n = std::min(size, end_ - pos_);
  if (in_head_) {
    // Hand out the head a byte at a time (cpp-httplib asks for one anyway)
    // and check the limits on each.
    n = 1;
    if (!count_head_byte(buf_[pos_]))
      return -1;
  } else if (body_bytes_ += n; body_bytes_ > max_wire_body_bytes()) {
    fail(read_failure::body_too_large,
         "the request body exceeds http.max_body_bytes (" +
             std::to_string(limits_.max_body_bytes) + " bytes)");
    return -1;
  }
  std::memcpy(ptr, buf_ + pos_, n);
  pos_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t request_stream::write(const char* ptr, size_t size) {
  if (failure_ != read_failure::none)
    return static_cast<ssize_t>(size);
  answered_ = true;
  return send_all(ptr, size) ? static_cast<ssize_t>(size) : -1;
}

namespace {

/// The text form of `addr`'s address, and its port.
void to_ip_and_port(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto& a = reinterpret_cast<const sockaddr_in&>(addr);
    ::inet_ntop(AF_INET, &a.sin_addr, text, sizeof(text));
    port = ntohs(a.sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    ::inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof(text));
    port = ntohs(a.sin6_port);
  }
  ip = text;
}

/// The address `name` (getpeername or getsockname) gives for `fd`, asked
/// once per connection and kept in `a`.
template <class Address>
void known_address(int fd, int (*name)(int, sockaddr*, socklen_t*), Address& a,
                   std::string& ip, int& port) {
  if (!a.known) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (name(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      to_ip_and_port(addr, a.ip, a.port);
    a.known = true;
  }
  ip = a.ip;
  port = a.port;
}

} // namespace

void request_stream::get_remote_ip_and_port(std::string& ip, int& port) const {
  known_address(fd_, ::getpeername, remote_, ip, port);
}

void request_stream::get_local_ip_and_port(std::string& ip, int& port) const {
  known_address(fd_, ::getsockname, local_, ip, port);
}

// -- connection life ----------------------------------------------------------

bool request_stream::wait_for_request(std::chrono::milliseconds timeout,
                                      const std::function<bool()>& stopping) {
  if (pos_ < end_ || conn_.pending())
    return true;
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    if (stopping())
      return false;
    auto left = deadline - clock_type::now();
    if (left <= clock_type::duration::zero())
      return false;
    pollfd p{fd_, POLLIN, 0};
    auto r = ::poll(&p, 1,
                    poll_ms(std::min<clock_type::duration>(left, stop_check)));
    if (r > 0)
      return true; // Data, or the client closed: the parser finds out.
    if (r < 0 && errno != EINTR)
      return false;
  }
}

void request_stream::begin_request() {
  deadline_ = clock_type::now() + limits_.read_timeout;
  in_head_ = true;
  head_bytes_ = 0;
  line_bytes_ = 0;
  previous_ = '\n';
  body_bytes_ = 0;
  first_line_ = true;
  answered_ = false;
}

// -- reading and writing ------------------------------------------------------

bool request_stream::check_head_byte(char c) {
  const char* what = nullptr;
  if (c == '\0')
    what = "a NUL byte";
  else if (previous_ == '\r' && c != '\n')
    what = "a CR that is not followed by LF";
  else if (c == '\n' && previous_ != '\r')
    what = "a line that ends in a bare LF";
  else if (!first_line_ && line_bytes_ == 1 && (c == ' ' || c == '\t'))
    what = "a folded header line (obsolete line folding)";
  previous_ = c;
  if (what == nullptr)
    return true;
  fail(read_failure::malformed_head,
       std::string{first_line_ ? "the request line" : "a request header"} +
           " holds " + what + " (RFC 9110 §5.5, RFC 9112)");
  return false;
}

bool request_stream::count_head_byte(char c) {
  ++head_bytes_;
  ++line_bytes_;
  if (line_bytes_ > max_line_bytes) {
    if (first_line_)
      fail(read_failure::request_line_too_long,
           "the request line exceeds " + std::to_string(max_line_bytes) +
               " bytes");
    else
      fail(read_failure::header_too_large, "a request header line exceeds " +
                                               std::to_string(max_line_bytes) +
                                               " bytes");
    return false;
  }
  if (head_bytes_ > limits_.max_header_bytes) {
    fail(read_failure::header_too_large,
         "the request line and headers exceed http.max_header_bytes (" +
             std::to_string(limits_.max_header_bytes) + " bytes)");
    return false;
  }
  if (!check_head_byte(c))
    return false;
  if (c == '\n') {
    // A line of just CRLF ends the head; the body is not counted.
    if (!first_line_ && line_bytes_ <= 2)
      in_head_ = false;
    first_line_ = false;
    line_bytes_ = 0;
  }
  return true;
}

ssize_t request_stream::fill() {
  for (;;) {
    size_t n = 0;
    auto r = conn_.recv(buf_, sizeof(buf_), n);
    if (r == io::done) {
      pos_ = 0;
      end_ = n;
      return static_cast<ssize_t>(n);
    }
    if (r == io::closed)
      return 0;
    if (r == io::failed) {
      broken_ = true;
      return -1;
    }
    auto left = deadline_ - clock_type::now();
    if (left <= clock_type::duration::zero()) {
      fail(read_failure::timed_out,
           "the request did not arrive within http.read_timeout_ms (" +
               std::to_string(limits_.read_timeout.count()) + " ms)");
      return -1;
    }
    if (!await(fd_, r, left)) {
      broken_ = true;
      return -1;
    }
  }
}

bool request_stream::send_all(const char* ptr, size_t size) {
  if (broken_)
    return false;
  size_t done = 0;
  auto deadline = clock_type::now() + limits_.write_timeout;
  while (done < size) {
    size_t n = 0;
    auto r = conn_.send(ptr + done, size - done, n);
    if (r == io::done) {
      done += n;
      deadline = clock_type::now() + limits_.write_timeout;
      continue;
    }
    if (r == io::want_read || r == io::want_write) {
      auto left = deadline - clock_type::now();
      if (left > clock_type::duration::zero() && await(fd_, r, left))
        continue;
    }
    broken_ = true;
    return false;
  }
  return true;
}

} // namespace cqrs::http
