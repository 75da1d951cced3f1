// Overload protection for the gateway's HTTP server.
#include "http/admission.hpp"
#include "http/openssl_errors.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/error.hpp"
#include "common/logging.hpp"
#include "model/json.hpp"

namespace cqrs::http {

namespace {

using clock_type = std::chrono::steady_clock;

/// The longest line cpp-httplib accepts, a constant built into the Debian
/// library: CPPHTTPLIB_HEADER_MAX_LENGTH and CPPHTTPLIB_REQUEST_URI_MAX_LENGTH.
constexpr size_t max_line_bytes = 8192;

/// How long the shedder waits for a request head before answering anyway,
/// and how long it drains a closing connection.
constexpr auto shed_wait = std::chrono::seconds{1};

/// Largest request head the shedder reads before it answers.
constexpr size_t shed_head_bytes = 16384;

/// How often a worker waiting for a request checks whether the server stops.
constexpr auto stop_check = std::chrono::milliseconds{100};

// Set while a connection_queue runs a task that must not get a worker.
thread_local bool shedding_task = false;

int poll_ms(clock_type::duration left) {
  using std::chrono::milliseconds;
  auto ms = std::chrono::ceil<milliseconds>(left).count();
  return static_cast<int>(std::clamp<decltype(ms)>(ms, 0, 60000));
}

// Writes as much of `text` as the socket takes without waiting.
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

const char* reason_phrase(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 408:
    return "Request Timeout";
  case 413:
    return "Payload Too Large";
  case 414:
    return "URI Too Long";
  case 431:
    return "Request Header Fields Too Large";
  case 503:
    return "Service Unavailable";
  default:
    return "Error";
  }
}

// A complete HTTP/1.1 answer that closes the connection.
std::string raw_answer(int status, const std::string& content_type,
                       const std::string& body, bool retry_after) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + ' ' +
                    reason_phrase(status) + "\r\n";
  out += "Content-Type: " + content_type + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (retry_after)
    out += "Retry-After: 1\r\n";
  out += "Connection: close\r\n\r\n";
  out += body;
  return out;
}

std::string raw_error(int status, std::string_view code,
                      std::string_view message) {
  return raw_answer(status, "application/json", error_json(code, message),
                    status == 503);
}

struct ssl_free {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

using ssl_ptr = std::unique_ptr<SSL, ssl_free>;

/// Makes `fd` non-blocking, as TLS on it without waiting needs.
void set_nonblocking(int fd) {
  if (auto flags = ::fcntl(fd, F_GETFL); flags >= 0)
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

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

/// Waits until `fd` is ready for `want` (want_read or want_write) or
/// `timeout` passes; false when poll failed.
bool await(int fd, io want, clock_type::duration timeout) {
  pollfd p{fd, static_cast<short>(want == io::want_write ? POLLOUT : POLLIN),
           0};
  return ::poll(&p, 1, poll_ms(timeout)) >= 0 || errno == EINTR;
}

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

class tcp_transport final : public transport {
public:
  explicit tcp_transport(int fd) : fd_(fd) {}

  io recv(char* buf, size_t size, size_t& n) override {
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
      return errno == EAGAIN || errno == EWOULDBLOCK ? io::want_read
                                                     : io::failed;
    }
  }

  io send(const char* buf, size_t size, size_t& n) override {
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

  bool pending() const override { return false; }

private:
  int fd_;
};

/// Maps the result `ok` of an OpenSSL call on `ssl` to an io.
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

/// TLS over a non-blocking socket, after the handshake.
class tls_transport final : public transport {
public:
  explicit tls_transport(SSL* ssl) : ssl_(ssl) {}

  io recv(char* buf, size_t size, size_t& n) override {
    ERR_clear_error();
    return tls_result(ssl_, SSL_read_ex(ssl_, buf, size, &n));
  }

  io send(const char* buf, size_t size, size_t& n) override {
    ERR_clear_error();
    return tls_result(ssl_, SSL_write_ex(ssl_, buf, size, &n));
  }

  bool pending() const override { return SSL_has_pending(ssl_) == 1; }

private:
  SSL* ssl_;
};

} // namespace

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

  bool is_readable() const override {
    if (pos_ < end_ || conn_.pending())
      return true;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, poll_ms(deadline_ - clock_type::now())) > 0;
  }

  bool is_writable() const override { return !broken_; }

  ssize_t read(char* ptr, size_t size) override {
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

  ssize_t write(const char* ptr, size_t size) override {
    if (failure_ != read_failure::none)
      return static_cast<ssize_t>(size);
    answered_ = true;
    return send_all(ptr, size) ? static_cast<ssize_t>(size) : -1;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      to_ip_and_port(addr, ip, port);
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      to_ip_and_port(addr, ip, port);
  }

  socket_t socket() const override { return fd_; }

  // -- connection life --------------------------------------------------------

  /// Waits up to `timeout` for the next request to start. Returns false on
  /// timeout or when `stopping` turns true.
  template <class Stopping>
  bool wait_for_request(std::chrono::milliseconds timeout, Stopping stopping) {
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
      auto r = ::poll(
          &p, 1, poll_ms(std::min<clock_type::duration>(left, stop_check)));
      if (r > 0)
        return true; // Data, or the client closed: the parser finds out.
      if (r < 0 && errno != EINTR)
        return false;
    }
  }

  /// Starts the clock and the head limits for the next request.
  void begin_request() {
    deadline_ = clock_type::now() + limits_.read_timeout;
    in_head_ = true;
    head_bytes_ = 0;
    line_bytes_ = 0;
    body_bytes_ = 0;
    first_line_ = true;
    answered_ = false;
  }

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
  static void to_ip_and_port(const sockaddr_storage& addr, std::string& ip,
                             int& port) {
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

  // The most body bytes a request may send: a chunked body's framing can
  // double a small body, so allow twice the limit and some slack.
  uint64_t max_wire_body_bytes() const noexcept {
    return 2 * limits_.max_body_bytes + 4096;
  }

  void fail(read_failure why, std::string message) {
    failure_ = why;
    failure_message_ = std::move(message);
  }

  // Counts one byte of the request line or headers; false past a limit.
  bool count_head_byte(char c) {
    ++head_bytes_;
    ++line_bytes_;
    if (line_bytes_ > max_line_bytes) {
      if (first_line_)
        fail(read_failure::request_line_too_long,
             "the request line exceeds " + std::to_string(max_line_bytes) +
                 " bytes");
      else
        fail(read_failure::header_too_large,
             "a request header line exceeds " + std::to_string(max_line_bytes) +
                 " bytes");
      return false;
    }
    if (head_bytes_ > limits_.max_header_bytes) {
      fail(read_failure::header_too_large,
           "the request line and headers exceed http.max_header_bytes (" +
               std::to_string(limits_.max_header_bytes) + " bytes)");
      return false;
    }
    if (c == '\n') {
      // A line of just CRLF ends the head; the body is not counted.
      if (!first_line_ && line_bytes_ <= 2)
        in_head_ = false;
      first_line_ = false;
      line_bytes_ = 0;
    }
    return true;
  }

  // Reads more into the buffer, waiting at most until the deadline.
  ssize_t fill() {
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

  bool send_all(const char* ptr, size_t size) {
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
  uint64_t body_bytes_ = 0;
  bool answered_ = false;
  bool broken_ = false;
  read_failure failure_ = read_failure::none;
  std::string failure_message_;
};

namespace {

// The stream of the connection the calling worker thread serves.
thread_local const request_stream* current_stream = nullptr;

// Whether that connection closes after the current answer.
thread_local bool close_requested = false;

void close_socket(int fd) {
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

} // namespace

void close_connection_after_answer() noexcept {
  close_requested = true;
}

read_failure current_read_failure() noexcept {
  return current_stream != nullptr ? current_stream->failure()
                                   : read_failure::none;
}

tls_context make_tls_context(const std::string& cert_file,
                             const std::string& key_file, std::string& error) {
  ERR_clear_error();
  tls_context ctx{SSL_CTX_new(TLS_server_method()), SSL_CTX_free};
  if (!ctx) {
    error = openssl_errors();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // A client that closes without close_notify has just closed.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION |
                                     SSL_OP_NO_RENEGOTIATION |
                                     SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // An encrypted key fails to load instead of prompting on the terminal.
  SSL_CTX_set_default_passwd_cb(ctx.get(),
                                [](char*, int, int, void*) { return 0; });
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    error = openssl_errors();
    return nullptr;
  }
  return ctx;
}

// -- shedder ------------------------------------------------------------------

struct shedder::entry {
  int fd = -1;
  /// Whether the connection still needs its answer.
  bool answer = false;
  bool stopping = false;
  /// The TLS session of a connection to answer over TLS.
  ssl_ptr ssl;
  bool handshaken = false;
  /// What the TLS session waits for.
  io wait = io::want_read;
  std::string head;
  clock_type::time_point deadline;
};

shedder::shedder(overload_counters& counters, probe_function probe,
                 tls_context tls, size_t max_sockets)
    : counters_(counters), probe_(std::move(probe)), tls_(std::move(tls)),
      max_sockets_(max_sockets) {
  if (::pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(),
                            "cannot create the shedder's wake-up pipe");
  thread_ = std::thread([this] { run(); });
}

shedder::~shedder() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
  thread_.join();
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void shedder::shed(int fd, bool stopping) {
  adopt(fd, true, stopping);
}

void shedder::linger(int fd) {
  ::shutdown(fd, SHUT_WR);
  adopt(fd, false, false);
}

void shedder::adopt(int fd, bool answer, bool stopping) {
  entry e;
  e.fd = fd;
  e.answer = answer;
  e.stopping = stopping;
  if (answer && tls_) {
    set_nonblocking(fd);
    ERR_clear_error();
    e.ssl.reset(SSL_new(tls_.get()));
    if (!e.ssl || SSL_set_fd(e.ssl.get(), fd) != 1) {
      CQRS_LOG(warning, "http",
               "closing a connection past the bound without an answer: "
               "cannot start TLS: "
                   << openssl_errors());
      close_socket(fd);
      return;
    }
  }
  {
    std::lock_guard<std::mutex> guard{mtx_};
    e.deadline = clock_type::now() + shed_wait;
    incoming_.push_back(std::move(e));
  }
  [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
}

void shedder::run() {
  std::vector<entry> live;
  std::vector<pollfd> fds;
  char scratch[4096];
  // Writes what the socket takes now, and a close_notify after it on TLS.
  auto send_last = [](entry& e, const std::string& text) {
    if (!e.ssl) {
      send_now(e.fd, text);
      return;
    }
    ERR_clear_error();
    size_t n = 0;
    for (size_t done = 0; done < text.size(); done += n)
      if (SSL_write_ex(e.ssl.get(), text.data() + done, text.size() - done,
                       &n) != 1)
        break;
    SSL_shutdown(e.ssl.get());
    ERR_clear_error();
  };
  // Advances the handshake and reads what arrived over TLS; false when the
  // connection closed or failed.
  auto receive_tls = [&](entry& e) {
    ERR_clear_error();
    if (!e.handshaken) {
      auto r = tls_result(e.ssl.get(), SSL_accept(e.ssl.get()));
      if (r == io::want_read || r == io::want_write) {
        e.wait = r;
        return true;
      }
      if (r != io::done) {
        CQRS_LOG(debug, "http",
                 "closing a connection past the bound: TLS handshake failed: "
                     << (r == io::closed ? "the client closed the connection"
                                         : openssl_errors()));
        ERR_clear_error();
        return false;
      }
      e.handshaken = true;
    }
    for (;;) {
      size_t n = 0;
      auto r = tls_result(
          e.ssl.get(), SSL_read_ex(e.ssl.get(), scratch, sizeof(scratch), &n));
      if (r == io::done) {
        if (e.head.size() < shed_head_bytes)
          e.head.append(scratch, n);
        continue;
      }
      ERR_clear_error();
      if (r == io::want_read || r == io::want_write) {
        e.wait = r;
        return true;
      }
      return false;
    }
  };
  auto answer = [&](entry& e) {
    std::string method;
    std::string path;
    if (auto eol = e.head.find("\r\n"); eol != std::string::npos) {
      auto line = std::string_view{e.head}.substr(0, eol);
      auto sp1 = line.find(' ');
      auto sp2 = line.find(' ', sp1 == line.npos ? line.npos : sp1 + 1);
      if (sp1 != line.npos && sp2 != line.npos) {
        method = line.substr(0, sp1);
        auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        path = target.substr(0, target.find('?'));
      }
    }
    std::optional<probe_answer> probe;
    if (!method.empty() && !e.stopping && probe_)
      probe = probe_(method, path);
    if (probe) {
      send_last(e, raw_answer(probe->status, probe->content_type, probe->body,
                              probe->status == 503));
    } else if (e.stopping) {
      send_last(e, raw_error(503, "unavailable",
                             "the server is shutting down; retry later"));
    } else {
      auto n = counters_.shed_connections.fetch_add(1) + 1;
      send_last(e,
                raw_error(503, to_string(ec::overloaded),
                          "the server is at capacity: every worker thread is "
                          "busy and http.max_queued_connections connections "
                          "are waiting; retry later"));
      if (counters_.warning_due())
        CQRS_LOG(warning, "http",
                 "overloaded: answered 503 to "
                     << n << " connections and "
                     << counters_.shed_requests.load() << " requests so far ("
                     << counters_.connections.load() << " connections served, "
                     << counters_.queued_connections.load() << " queued)");
    }
    ::shutdown(e.fd, SHUT_WR);
    e.answer = false;
    e.deadline = clock_type::now() + shed_wait;
  };
  for (;;) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      for (auto& e : incoming_) {
        if (stop_ || live.size() >= max_sockets_)
          close_socket(e.fd);
        else
          live.push_back(std::move(e));
      }
      incoming_.clear();
      if (stop_) {
        for (auto& e : live)
          close_socket(e.fd);
        return;
      }
    }
    fds.assign(1, pollfd{wake_[0], POLLIN, 0});
    auto now = clock_type::now();
    auto next = now + std::chrono::seconds{10};
    for (auto& e : live) {
      bool out = e.answer && e.ssl && e.wait == io::want_write;
      fds.push_back(
          pollfd{e.fd, static_cast<short>(out ? POLLOUT : POLLIN), 0});
      next = std::min(next, e.deadline);
    }
    ::poll(fds.data(), fds.size(), poll_ms(next - now));
    while (::read(wake_[0], scratch, sizeof(scratch)) > 0) {
      // Drained.
    }
    now = clock_type::now();
    size_t kept = 0;
    for (size_t i = 0; i < live.size(); ++i) {
      auto& e = live[i];
      bool readable =
          (fds[i + 1].revents & (POLLIN | POLLOUT | POLLHUP | POLLERR)) != 0;
      bool closed = false;
      if (readable && e.answer && e.ssl) {
        closed = !receive_tls(e);
      } else if (readable) {
        // Reads what is there: the head to answer, or the rest to discard.
        for (;;) {
          auto n = ::recv(e.fd, scratch, sizeof(scratch), MSG_DONTWAIT);
          if (n > 0) {
            if (e.answer && e.head.size() < shed_head_bytes)
              e.head.append(scratch, static_cast<size_t>(n));
            continue;
          }
          closed = n == 0 ||
                   (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
          break;
        }
      }
      // Without a TLS session there is nobody to answer: the connection
      // is closed when its time is up.
      bool answerable = !e.ssl || e.handshaken;
      if (e.answer && answerable &&
          (closed || now >= e.deadline ||
           e.head.find("\r\n\r\n") != std::string::npos ||
           e.head.size() >= shed_head_bytes))
        answer(e);
      if (closed || now >= e.deadline) {
        ::close(e.fd);
        continue;
      }
      if (kept != i)
        live[kept] = std::move(e);
      ++kept;
    }
    live.resize(kept);
  }
}

// -- connection_queue ---------------------------------------------------------

connection_queue::connection_queue(size_t threads, size_t max_queued,
                                   overload_counters& counters)
    : max_queued_(max_queued), counters_(counters) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { work(); });
}

connection_queue::~connection_queue() {
  shutdown();
}

void connection_queue::enqueue(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    // Idle workers take a connection at once; `max_queued_` more may wait.
    if (!stop_ && jobs_.size() < idle_ + max_queued_) {
      jobs_.push_back(std::move(fn));
      counters_.queued_connections.store(jobs_.size(),
                                         std::memory_order_relaxed);
      cv_.notify_one();
      return;
    }
  }
  // Past the bound. The task only hands its socket to the shedder (see
  // admission_server), so running it here does not block accepting.
  shedding_task = true;
  fn();
  shedding_task = false;
}

void connection_queue::shutdown() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stop_ && threads_.empty())
      return;
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
  threads_.clear();
}

void connection_queue::work() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> guard{mtx_};
      ++idle_;
      cv_.wait(guard, [this] { return stop_ || !jobs_.empty(); });
      --idle_;
      // Connections still queued at shutdown are answered by the shedder.
      if (jobs_.empty())
        return;
      fn = std::move(jobs_.front());
      jobs_.pop_front();
      counters_.queued_connections.store(jobs_.size(),
                                         std::memory_order_relaxed);
    }
    fn();
  }
}

// -- admission_server ---------------------------------------------------------

admission_server::admission_server(const connection_limits& limits,
                                   overload_counters& counters,
                                   probe_function probe, tls_context tls)
    : limits_(limits), counters_(counters), tls_(tls),
      shedder_(counters, std::move(probe), std::move(tls)) {}

admission_server::~admission_server() = default;

httplib::TaskQueue* admission_server::make_queue(size_t threads,
                                                 size_t max_queued) {
  return new connection_queue(threads, max_queued, counters_);
}

bool admission_server::process_and_close_socket(socket_t sock) {
  if (shedding_task || stopping()) {
    shedder_.shed(sock, stopping());
    return true;
  }
  serve(sock);
  return true;
}

void admission_server::serve(socket_t sock) {
  counters_.connections.fetch_add(1, std::memory_order_relaxed);
  bool graceful = false;
  if (!tls_) {
    tcp_transport conn{sock};
    request_stream strm{sock, conn, limits_};
    graceful = serve_requests(strm);
  } else {
    set_nonblocking(sock);
    ERR_clear_error();
    ssl_ptr ssl{SSL_new(tls_.get())};
    if (!ssl || SSL_set_fd(ssl.get(), sock) != 1) {
      CQRS_LOG(warning, "http",
               "closing a connection: cannot start TLS: " << openssl_errors());
    } else if (tls_handshake(ssl.get(), sock)) {
      tls_transport conn{ssl.get()};
      request_stream strm{sock, conn, limits_};
      graceful = serve_requests(strm);
      // Sends close_notify; the client's own is not waited for.
      if (!strm.broken()) {
        ERR_clear_error();
        SSL_shutdown(ssl.get());
        ERR_clear_error();
      }
    }
  }
  counters_.connections.fetch_sub(1, std::memory_order_relaxed);
  if (graceful)
    // The client may still be sending: close gracefully on the shedder, so
    // that it reads the answer instead of a reset.
    shedder_.linger(sock);
  else
    close_socket(sock);
}

bool admission_server::tls_handshake(SSL* ssl, socket_t sock) {
  auto deadline = clock_type::now() + limits_.read_timeout;
  for (;;) {
    ERR_clear_error();
    auto r = tls_result(ssl, SSL_accept(ssl));
    if (r == io::done)
      return true;
    if (r != io::want_read && r != io::want_write) {
      CQRS_LOG(debug, "http",
               "closing a connection: TLS handshake failed: "
                   << (r == io::closed ? "the client closed the connection"
                                       : openssl_errors()));
      ERR_clear_error();
      return false;
    }
    if (stopping())
      return false;
    auto left = deadline - clock_type::now();
    if (left <= clock_type::duration::zero()) {
      counters_.read_timeouts.fetch_add(1, std::memory_order_relaxed);
      CQRS_LOG(debug, "http",
               "closing a connection: the TLS handshake did not finish within "
               "http.read_timeout_ms ("
                   << limits_.read_timeout.count() << " ms)");
      return false;
    }
    await(sock, r, std::min<clock_type::duration>(left, stop_check));
  }
}

bool admission_server::serve_requests(request_stream& strm) {
  current_stream = &strm;
  bool first = true;
  for (;;) {
    auto wait = first ? limits_.read_timeout : limits_.keep_alive_timeout;
    if (!strm.wait_for_request(wait, [this] { return stopping(); }))
      break;
    strm.begin_request();
    close_requested = false;
    bool closed = false;
    bool ok = process_request(strm, stopping(), closed, nullptr);
    if (auto why = strm.failure(); why != read_failure::none) {
      // cpp-httplib's own answer (a 400, or none) was swallowed.
      if (why == read_failure::timed_out) {
        counters_.read_timeouts.fetch_add(1, std::memory_order_relaxed);
        strm.send_raw(
            raw_error(408, "request_timeout", strm.failure_message()));
      } else if (why == read_failure::body_too_large) {
        strm.send_raw(
            raw_error(413, "payload_too_large", strm.failure_message()));
      } else {
        counters_.header_too_large.fetch_add(1, std::memory_order_relaxed);
        auto status = why == read_failure::request_line_too_long ? 414 : 431;
        strm.send_raw(raw_error(
            status, status == 414 ? "uri_too_long" : "header_too_large",
            strm.failure_message()));
      }
      CQRS_LOG(debug, "http",
               "closing a connection: " << strm.failure_message());
      current_stream = nullptr;
      return true;
    }
    if (!ok || closed || close_requested || strm.broken() || stopping())
      break;
    first = false;
  }
  current_stream = nullptr;
  return false;
}

} // namespace cqrs::http
