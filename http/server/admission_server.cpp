// The gateway's HTTP server under overload protection.
#include "http/server/admission_server.hpp"

#include <algorithm>

#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/logging.hpp"
#include "http/server/connection_queue.hpp"
#include "http/server/raw_answer.hpp"
#include "http/server/request_stream.hpp"
#include "http/server/transport.hpp"

namespace cqrs::http {

namespace {

// The stream of the connection the calling worker thread serves.
thread_local const request_stream* current_stream = nullptr;

// Whether that connection closes after the current answer.
thread_local bool close_requested = false;

// What that connection has been answered.
thread_local connection_session* session = nullptr;

} // namespace

connection_session* current_session() noexcept {
  return session;
}

void close_connection_after_answer() noexcept {
  close_requested = true;
}

read_failure current_read_failure() noexcept {
  return current_stream != nullptr ? current_stream->failure()
                                   : read_failure::none;
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
  if (running_past_bound() || stopping()) {
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
  // Both belong to this connection; `serve_requests` is not reentered.
  connection_session this_session;
  struct reset_on_exit {
    ~reset_on_exit() {
      current_stream = nullptr;
      session = nullptr;
    }
  } reset;
  current_stream = &strm;
  session = &this_session;
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
        strm.send_raw(raw_error(ec::request_timeout, strm.failure_message()));
      } else if (why == read_failure::body_too_large) {
        strm.send_raw(raw_error(ec::payload_too_large, strm.failure_message()));
      } else if (why == read_failure::malformed_head) {
        strm.send_raw(raw_error(ec::bad_request, strm.failure_message()));
      } else {
        counters_.header_too_large.fetch_add(1, std::memory_order_relaxed);
        strm.send_raw(raw_error(why == read_failure::request_line_too_long
                                    ? ec::uri_too_long
                                    : ec::header_too_large,
                                strm.failure_message()));
      }
      CQRS_LOG(debug, "http",
               "closing a connection: " << strm.failure_message());
      return true;
    }
    if (!ok || closed || close_requested || strm.broken() || stopping())
      break;
    first = false;
  }
  return false;
}

} // namespace cqrs::http
