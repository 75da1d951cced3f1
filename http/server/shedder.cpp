// The shedder: answers the connections that no worker thread takes.
#include "http/server/shedder.hpp"

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/error.hpp"
#include "common/logging.hpp"
#include "http/server/raw_answer.hpp"
#include "http/server/transport.hpp"

namespace cqrs::http {

namespace {

/// How long the shedder waits for a request head before answering anyway,
/// and how long it drains a closing connection.
constexpr auto shed_wait = std::chrono::seconds{1};

/// Largest request head the shedder reads before it answers.
constexpr size_t shed_head_bytes = 16384;

/// The method and the path (without the query) of the request line at the
/// start of `head`; both empty when there is no whole request line.
std::pair<std::string, std::string> request_line(const std::string& head) {
  std::string method;
  std::string path;
  if (auto eol = head.find("\r\n"); eol != std::string::npos) {
    auto line = std::string_view{head}.substr(0, eol);
    auto sp1 = line.find(' ');
    auto sp2 = line.find(' ', sp1 == line.npos ? line.npos : sp1 + 1);
    if (sp1 != line.npos && sp2 != line.npos) {
      method = line.substr(0, sp1);
      auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      path = target.substr(0, target.find('?'));
    }
  }
  return {std::move(method), std::move(path)};
}

} // namespace

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

// -- the shedder's thread -----------------------------------------------------

void shedder::run() {
  while (take_incoming()) {
    wait_for_events();
    auto now = clock_type::now();
    size_t kept = 0;
    for (size_t i = 0; i < live_.size(); ++i) {
      if (!advance(live_[i], fds_[i + 1].revents, now))
        continue;
      if (kept != i)
        live_[kept] = std::move(live_[i]);
      ++kept;
    }
    live_.resize(kept);
  }
}

bool shedder::take_incoming() {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& e : incoming_) {
    if (stop_ || live_.size() >= max_sockets_)
      close_socket(e.fd);
    else
      live_.push_back(std::move(e));
  }
  incoming_.clear();
  if (stop_) {
    for (auto& e : live_)
      close_socket(e.fd);
    live_.clear();
    return false;
  }
  return true;
}

void shedder::wait_for_events() {
  fds_.assign(1, pollfd{wake_[0], POLLIN, 0});
  auto now = clock_type::now();
  auto next = now + std::chrono::seconds{10};
  for (auto& e : live_) {
    bool out = e.answer && e.ssl && e.wait == io::want_write;
    fds_.push_back(pollfd{e.fd, static_cast<short>(out ? POLLOUT : POLLIN), 0});
    next = std::min(next, e.deadline);
  }
  ::poll(fds_.data(), fds_.size(), poll_ms(next - now));
  while (::read(wake_[0], scratch_, sizeof(scratch_)) > 0) {
    // Drained.
  }
}

bool shedder::advance(entry& e, short revents, time_point now) {
  bool readable = (revents & (POLLIN | POLLOUT | POLLHUP | POLLERR)) != 0;
  bool closed = false;
  if (readable && e.answer && e.ssl)
    closed = !receive_tls(e);
  else if (readable)
    closed = !receive_plain(e);
  if (answer_due(e, closed, now))
    answer(e);
  if (closed || now >= e.deadline) {
    ::close(e.fd);
    return false;
  }
  return true;
}

bool shedder::receive_plain(entry& e) {
  for (;;) {
    auto n = ::recv(e.fd, scratch_, sizeof(scratch_), MSG_DONTWAIT);
    if (n > 0) {
      if (e.answer && e.head.size() < shed_head_bytes)
        e.head.append(scratch_, static_cast<size_t>(n));
      continue;
    }
    bool closed =
        n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    return !closed;
  }
}

bool shedder::receive_tls(entry& e) {
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
        e.ssl.get(), SSL_read_ex(e.ssl.get(), scratch_, sizeof(scratch_), &n));
    if (r == io::done) {
      if (e.head.size() < shed_head_bytes)
        e.head.append(scratch_, n);
      continue;
    }
    ERR_clear_error();
    if (r == io::want_read || r == io::want_write) {
      e.wait = r;
      return true;
    }
    return false;
  }
}

bool shedder::answer_due(const entry& e, bool closed, time_point now) {
  // Without a TLS session there is nobody to answer: the connection
  // is closed when its time is up.
  bool answerable = !e.ssl || e.handshaken;
  return e.answer && answerable &&
         (closed || now >= e.deadline ||
          e.head.find("\r\n\r\n") != std::string::npos ||
          e.head.size() >= shed_head_bytes);
}

void shedder::answer(entry& e) {
  auto [method, path] = request_line(e.head);
  std::optional<probe_answer> probe;
  if (!method.empty() && !e.stopping && probe_)
    probe = probe_(method, path);
  if (probe)
    send_last(e, raw_answer(probe->status, probe->content_type, probe->body,
                            probe->status == 503));
  else if (e.stopping)
    send_last(e, raw_error(ec::unavailable,
                           "the server is shutting down; retry later"));
  else
    answer_overloaded(e);
  ::shutdown(e.fd, SHUT_WR);
  e.answer = false;
  e.deadline = clock_type::now() + shed_wait;
}

void shedder::answer_overloaded(entry& e) {
  auto n = counters_.shed_connections.fetch_add(1) + 1;
  send_last(e, raw_error(ec::overloaded,
                         "the server is at capacity: every worker thread is "
                         "busy and http.max_queued_connections connections "
                         "are waiting; retry later"));
  if (counters_.warning_due())
    CQRS_LOG(warning, "http",
             "overloaded: answered 503 to "
                 << n << " connections and " << counters_.shed_requests.load()
                 << " requests so far (" << counters_.connections.load()
                 << " connections served, "
                 << counters_.queued_connections.load() << " queued)");
}

void shedder::send_last(entry& e, const std::string& text) {
  if (!e.ssl) {
    send_now(e.fd, text);
    return;
  }
  ERR_clear_error();
  size_t n = 0;
  for (size_t done = 0; done < text.size(); done += n)
    if (SSL_write_ex(e.ssl.get(), text.data() + done, text.size() - done, &n) !=
        1)
      break;
  SSL_shutdown(e.ssl.get());
  ERR_clear_error();
}

} // namespace cqrs::http
