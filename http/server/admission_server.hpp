// The gateway's HTTP server under overload protection: a fixed set of worker
// threads with a bounded queue of accepted connections, per-request read
// deadlines and header limits, and a shedder that answers what does not fit.
#pragma once

#include <httplib.h>

#include "http/metrics.hpp"
#include "http/server/limits.hpp"
#include "http/server/shedder.hpp"
#include "http/server/tls.hpp"

struct ssl_st;

namespace cqrs::http {

class request_stream;

/// The read failure of the request the calling thread serves; `none` on a
/// thread that serves no connection. The gateway's error handler uses it to
/// leave such requests to the admission server, which answers them itself.
read_failure current_read_failure() noexcept;

/// What one keep-alive connection has been answered, for the session
/// guarantees of `query.session_consistency`.
struct connection_session {
  /// The highest seq answered on the connection: a write's `seq` or a
  /// read's `X-Seq`.
  uint64_t seq = 0;
};

/// The session of the connection that the calling worker thread serves;
/// null on a thread that serves none.
connection_session* current_session() noexcept;

/// Asks the admission server to close the connection that the calling
/// worker thread serves once the current answer is written: after a request
/// that could not be parsed, the rest of the byte stream is not a request.
void close_connection_after_answer() noexcept;

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
