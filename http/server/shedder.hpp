// The shedder: answers the connections that no worker thread takes, with a
// 503 or a probe's answer, and closes connections gracefully, on one thread.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/metrics.hpp"
#include "http/server/tls.hpp"

namespace cqrs::http {

/// An answer the shedder sends instead of a 503, for health probes.
struct probe_answer {
  int status = 200;
  std::string content_type;
  std::string body;
};

/// Answers a probe (`method`, `path`) without a worker thread, or nullopt
/// when the request is not a probe. Called on the shedder's thread.
using probe_function = std::function<std::optional<probe_answer>(
    const std::string& method, const std::string& path)>;

/// Answers connections without a worker thread: a 503 (or a probe answer)
/// to connections past the bound, and a graceful close after an error
/// answer. One thread polls every socket it holds, so a slow client here
/// delays nobody; each socket is held at most about a second and at most
/// `max_sockets` at once (beyond that a socket is closed at once).
///
/// With a `tls` context, the shedder speaks TLS on the connections it
/// answers: it runs the handshake without blocking in the same poll loop,
/// and closes a connection whose handshake does not finish in that second
/// without an answer.
class shedder {
public:
  shedder(overload_counters& counters, probe_function probe,
          tls_context tls = nullptr, size_t max_sockets = 1024);

  ~shedder();

  shedder(const shedder&) = delete;
  shedder& operator=(const shedder&) = delete;

  /// Reads the request head (briefly), answers 503 with `Retry-After: 1`
  /// and `Connection: close` (or the probe's answer), then closes `fd`.
  void shed(int fd, bool stopping);

  /// Stops sending on `fd`, reads what the client still sends (briefly) so
  /// the answer already written is not lost to a reset, then closes it.
  /// On TLS connections, the caller sends its close_notify first.
  void linger(int fd);

private:
  struct entry;

  void adopt(int fd, bool answer, bool stopping);

  void run();

  overload_counters& counters_;
  probe_function probe_;
  tls_context tls_;
  size_t max_sockets_;
  std::mutex mtx_;
  std::vector<entry> incoming_;
  bool stop_ = false;
  int wake_[2] = {-1, -1};
  std::thread thread_;
};

} // namespace cqrs::http
