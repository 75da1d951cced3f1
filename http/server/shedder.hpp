// The shedder: answers the connections that no worker thread takes, with a
// 503 or a probe's answer, and closes connections gracefully, on one thread.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/metrics.hpp"
#include "http/server/tls.hpp"

struct pollfd;

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
  using time_point = std::chrono::steady_clock::time_point;

  void adopt(int fd, bool answer, bool stopping);

  // -- the shedder's thread ---------------------------------------------------

  /// Polls the sockets and answers or closes each when it is due.
  void run();

  /// Moves adopted sockets into `live_`; false, with every socket closed,
  /// once the shedder stops.
  bool take_incoming();

  /// Waits until a socket or the wake-up pipe is ready, or a deadline passes.
  void wait_for_events();

  /// Serves `e` after a poll that returned `revents` for it at `now`; false
  /// when it is done, with its socket closed.
  bool advance(entry& e, short revents, time_point now);

  /// Reads what arrived on a plain socket: the head to answer, or the rest
  /// to discard. False when the connection closed or failed.
  bool receive_plain(entry& e);

  /// Advances the handshake and reads what arrived over TLS; false when the
  /// connection closed or failed.
  bool receive_tls(entry& e);

  /// Whether `e` is to be answered at `now` rather than read further.
  static bool answer_due(const entry& e, bool closed, time_point now);

  /// Sends `e` its answer: a probe's, or a 503, then stops sending.
  void answer(entry& e);

  /// Sends `e` the 503 for a server at capacity and counts it.
  void answer_overloaded(entry& e);

  /// Writes what the socket takes now, and a close_notify after it on TLS.
  static void send_last(entry& e, const std::string& text);

  overload_counters& counters_;
  probe_function probe_;
  tls_context tls_;
  size_t max_sockets_;
  std::mutex mtx_;
  std::vector<entry> incoming_;
  bool stop_ = false;
  int wake_[2] = {-1, -1};
  // Only the shedder's thread uses these.
  std::vector<entry> live_;
  std::vector<pollfd> fds_;
  char scratch_[4096];
  std::thread thread_;
};

} // namespace cqrs::http
