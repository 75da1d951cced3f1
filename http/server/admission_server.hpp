// Overload protection for the gateway's HTTP server: a fixed set of worker
// threads with a bounded queue of accepted connections, per-request read
// deadlines and header limits, and a shedder that answers what does not fit.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "http/metrics.hpp"

struct ssl_ctx_st;
struct ssl_st;

namespace cqrs::http {

class request_stream;

/// An OpenSSL server context, shared by the worker threads and the shedder.
using tls_context = std::shared_ptr<ssl_ctx_st>;

/// Loads the PEM certificate chain `cert_file` and the (unencrypted) key
/// `key_file` for serving TLS 1.2 or later. On failure returns nullptr and
/// sets `error` to OpenSSL's reason.
tls_context make_tls_context(const std::string& cert_file,
                             const std::string& key_file, std::string& error);

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
};

/// The read failure of the request the calling thread serves; `none` on a
/// thread that serves no connection. The gateway's error handler uses it to
/// leave such requests to the admission server, which answers them itself.
read_failure current_read_failure() noexcept;

/// Asks the admission server to close the connection that the calling
/// worker thread serves once the current answer is written: after a request
/// that could not be parsed, the rest of the byte stream is not a request.
void close_connection_after_answer() noexcept;

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

/// A cpp-httplib task queue with `threads` workers and room for
/// `max_queued` connections waiting for one. A connection past that is not
/// queued: it goes to the shedder at once (see `admission_server`).
class connection_queue : public httplib::TaskQueue {
public:
  connection_queue(size_t threads, size_t max_queued,
                   overload_counters& counters);

  ~connection_queue() override;

  void enqueue(std::function<void()> fn) override;

  void shutdown() override;

private:
  void work();

  size_t max_queued_;
  overload_counters& counters_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  size_t idle_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

/// A cpp-httplib server whose connections are served under
/// `connection_limits` by the workers of a `connection_queue`, and whose
/// excess connections go to a `shedder`.
///
/// cpp-httplib 0.11's `TaskQueue::enqueue` returns nothing and hides the
/// socket inside the task, so a full queue cannot refuse the task, and
/// dropping it would leak the socket. The task does call the virtual
/// `process_and_close_socket(sock)`, though: this class overrides it, so a
/// task that the queue runs in shedding mode hands its socket to the
/// shedder instead of reading it on a worker. The shedder, not a worker,
/// then reads the request head and writes the 503, so shedding never waits
/// for a worker and a slow client cannot block it.
///
/// With a `tls` context the server speaks HTTPS only, under the same limits:
/// a worker runs the TLS handshake within `read_timeout`, then serves the
/// connection's requests over TLS exactly as it serves plain ones.
class admission_server : public httplib::Server {
public:
  admission_server(const connection_limits& limits, overload_counters& counters,
                   probe_function probe, tls_context tls = nullptr);

  ~admission_server() override;

  /// Makes a task queue for `listen_after_bind`.
  httplib::TaskQueue* make_queue(size_t threads, size_t max_queued);

private:
  bool process_and_close_socket(socket_t sock) override;

  /// Serves one connection on the calling worker thread and closes it.
  void serve(socket_t sock);

  /// Serves the requests of one connection over `strm`. Returns whether the
  /// connection ends with an error answer, to be closed gracefully.
  bool serve_requests(request_stream& strm);

  /// Runs the TLS handshake on `ssl` within `read_timeout`; false when it
  /// failed, timed out or the server stops.
  bool tls_handshake(ssl_st* ssl, socket_t sock);

  bool stopping() const { return svr_sock_ == INVALID_SOCKET; }

  connection_limits limits_;
  overload_counters& counters_;
  tls_context tls_;
  shedder shedder_;
};

} // namespace cqrs::http
