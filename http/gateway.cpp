// The HTTP gateway.
#include "http/gateway.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string_view>
#include <thread>

#include <sys/socket.h>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/node.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "http/actor_bridge.hpp"
#include "http/api.hpp"
#include "http/errors.hpp"
#include "http/replies.hpp"
#include "http/server/admission_server.hpp"
#include "model/openapi.hpp"

namespace cqrs::http {

namespace {

/// The methods the gateway registers handlers for (HEAD goes to GET's).
bool is_routed_method(const std::string& method) {
  for (const char* m :
       {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
    if (method == m)
      return true;
  return false;
}

/// Whether `s` is a method token (RFC 9110 §9.1: a `token`).
bool is_method_token(const std::string& s) {
  constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           extra.find(c) != std::string_view::npos;
  });
}

} // namespace

gateway::gateway(caf::actor_system& sys, node& n, const settings& cfg)
    : sys_(sys), node_(n), cfg_(cfg),
      bridge_(std::make_unique<actor_bridge>(sys)), routes_(n.served_domain()),
      openapi_json_(openapi_document(n.served_domain()).dump()),
      assets_(asset_folder::load(cfg.http.assets_dir.empty()
                                     ? installed_assets_dir()
                                     : cfg.http.assets_dir)),
      requests_(routes_.size()) {
  if (assets_.problem().empty())
    CQRS_LOG(info, "http",
             "serving /docs and /console from '"
                 << assets_.dir() << "' (" << assets_.files() << " files, "
                 << assets_.bytes() << " bytes)");
  else
    CQRS_LOG(warning, "http",
             "web pages: " << assets_.problem()
                           << "; a page without its files answers 404");
  // Connections beyond the worker threads and http.max_queued_connections
  // are answered 503 at once; see http/server/admission_server.hpp.
  // HTTPS goes through the same admission server, under the same limits.
  const auto& h = cfg_.http;
  connection_limits limits;
  limits.read_timeout = std::chrono::milliseconds{h.read_timeout_ms};
  limits.write_timeout = std::chrono::milliseconds{h.write_timeout_ms};
  limits.keep_alive_timeout =
      std::chrono::milliseconds{h.keep_alive_timeout_ms};
  limits.max_header_bytes = h.max_header_bytes;
  limits.max_body_bytes = h.max_body_bytes;
  tls_context tls;
  if (h.tls.enabled()) {
    // A certificate or key that OpenSSL rejects: `bind` reports why.
    tls_files files;
    files.cert_file = h.tls.cert_file;
    files.key_file = h.tls.key_file;
    tls_error error;
    tls = make_tls_context(files, error);
    tls_error_ = error.reason;
  }
  auto admitted = std::make_unique<admission_server>(
      limits, overload_,
      [this](const std::string& method, const std::string& path) {
        return probe(method, path);
      },
      std::move(tls));
  admitted->new_task_queue = [svr = admitted.get(), threads = h.threads,
                              queued = h.max_queued_connections] {
    return svr->make_queue(threads, queued);
  };
  server_ = std::move(admitted);
  auto& svr = *server_;
  // Without TCP_NODELAY, keep-alive requests stall on delayed ACKs.
  svr.set_tcp_nodelay(true);
  // cpp-httplib's default sets SO_REUSEPORT, which lets a second process
  // bind the same port and silently take half of its connections. Reuse
  // only the address (for a quick restart), so that a taken port is an
  // error at start-up.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // The connection_queue's workers enforce the timeouts; these only shape
  // the Keep-Alive header cpp-httplib writes (whole seconds, rounded up).
  svr.set_keep_alive_timeout((h.keep_alive_timeout_ms + 999) / 1000);
  svr.set_keep_alive_max_count(100000);
  svr.set_read_timeout(std::chrono::milliseconds{h.read_timeout_ms});
  svr.set_write_timeout(std::chrono::milliseconds{h.write_timeout_ms});
  svr.set_payload_max_length(cfg_.http.max_body_bytes);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    handle(req, res);
  };
  for (auto add : {&httplib::Server::Get, &httplib::Server::Post,
                   &httplib::Server::Put, &httplib::Server::Delete,
                   &httplib::Server::Patch, &httplib::Server::Options}) {
    (svr.*add)(".*", handler);
  }
  // Errors that cpp-httplib answers itself (413, 414, bad request lines)
  // get a JSON body too.
  // A POST, PUT or PATCH without Content-Length or Transfer-Encoding has no
  // body (RFC 9112), but cpp-httplib would wait for one until the client
  // closes: answer such requests before any body is read.
  svr.set_pre_routing_handler([this](const httplib::Request& req,
                                     httplib::Response& res) {
    using handled = httplib::Server::HandlerResponse;
    // cpp-httplib parses TRACE and CONNECT but routes neither: it would
    // answer 400. They are methods this server does not support.
    if (!is_routed_method(req.method)) {
      // A body they announce is not read: what follows is not a request.
      if (req.has_header("Content-Length") ||
          req.has_header("Transfer-Encoding")) {
        res.set_header("Connection", "close");
        close_connection_after_answer();
      }
      reply_unsupported_method(req.method, req.path, res);
      return handled::Handled;
    }
    bool takes_body =
        req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (!takes_body || req.has_header("Content-Length") ||
        req.has_header("Transfer-Encoding"))
      return handled::Unhandled;
    auto m = routes_.match(req.path);
    if (m.kind == route_kind::unknown) {
      reply_error(res, ec::not_found, "no route for '" + req.path + "'");
    } else if (!routes_.allows(m.index, req.method)) {
      reply_not_allowed(m, req.method, res);
    } else {
      reply_error(res, ec::bad_request,
                  "a " + req.method +
                      " request needs a body with Content-Length or chunked "
                      "transfer encoding");
    }
    requests_.count(m.index, res.status);
    return handled::Handled;
  });
  svr.set_error_handler([this](const httplib::Request& req,
                               httplib::Response& res) {
    // A request that was not read whole (timed out, headers too large)
    // is answered by the admission server itself.
    if (current_read_failure() != read_failure::none)
      return;
    if (!res.body.empty())
      return;
    // cpp-httplib's own errors (a request line or headers it cannot
    // parse, a body over the limit left unread) leave the connection
    // out of step: what follows is not a request. Close it.
    res.set_header("Connection", "close");
    close_connection_after_answer();
    // A method cpp-httplib does not know fails its request-line parser
    // (a 400), with the method and the target already read.
    if (res.status == 400 && is_method_token(req.method) &&
        !is_routed_method(req.method) &&
        (req.version == "HTTP/1.1" || req.version == "HTTP/1.0")) {
      reply_unsupported_method(req.method,
                               req.target.substr(0, req.target.find('?')), res);
      return;
    }
    auto m = routes_.match(req.path);
    if (res.status == 413)
      reply_error(res, ec::payload_too_large,
                  "request body exceeds http.max_body_bytes (" +
                      std::to_string(cfg_.http.max_body_bytes) + " bytes)");
    else
      reply_error(
          res, library_error(res.status, "the request could not be processed"));
    requests_.count(m.index, res.status);
  });
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        reply_error(res, ec::internal, "internal error");
      });
}

gateway::~gateway() {
  stop();
  // Ends the shedder's thread while the counters it uses still exist.
  server_.reset();
}

caf::expected<uint16_t> gateway::bind() {
  const auto& h = cfg_.http;
  if (!tls_error_.empty())
    return make_cqrs_error(ec::internal,
                           "cannot serve HTTPS with http.tls.cert_file '" +
                               h.tls.cert_file + "' and http.tls.key_file '" +
                               h.tls.key_file + "': " + tls_error_);
  int port = h.port == 0
                 ? server_->bind_to_any_port(h.host)
                 : (server_->bind_to_port(h.host, h.port) ? h.port : -1);
  if (port < 0)
    return make_cqrs_error(ec::internal,
                           "cannot listen on " + h.listen +
                               " (address in use or not available)");
  return static_cast<uint16_t>(port);
}

void gateway::serve() {
  {
    std::lock_guard<std::mutex> guard{serve_mtx_};
    if (stop_requested_)
      return;
    serving_ = true;
  }
  ready_ = true;
  server_->listen_after_bind();
  ready_ = false;
  served_ = true;
}

void gateway::stop() {
  ready_ = false;
  {
    std::lock_guard<std::mutex> guard{serve_mtx_};
    stop_requested_ = true;
    if (!serving_)
      return; // serve() has not begun, and now will not
  }
  // serve() has begun: wait until httplib listens (it says so first thing),
  // or gave up, since its stop() does nothing to a server not yet running.
  while (!server_->is_running() && !served_)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  server_->stop();
}

void gateway::handle(const httplib::Request& req, httplib::Response& res) {
  auto started = std::chrono::steady_clock::now();
  auto m = routes_.match(req.path);
  // Bounds the requests in flight; probes stay answerable past the bound.
  struct in_flight_guard {
    std::atomic<uint64_t>* n;
    ~in_flight_guard() {
      if (n != nullptr)
        n->fetch_sub(1, std::memory_order_relaxed);
    }
  } guard{nullptr};
  if (!m.is_probe()) {
    auto limit = cfg_.http.max_in_flight != 0 ? cfg_.http.max_in_flight
                                              : cfg_.http.threads;
    guard.n = &overload_.in_flight;
    if (overload_.in_flight.fetch_add(1, std::memory_order_relaxed) >= limit) {
      auto shed = overload_.shed_requests.fetch_add(1) + 1;
      if (overload_.warning_due())
        CQRS_LOG(warning, "http",
                 "overloaded: answered 503 to "
                     << shed << " requests past http.max_in_flight (" << limit
                     << ") and " << overload_.shed_connections.load()
                     << " connections so far");
      reply_error(res, ec::overloaded,
                  "the server is at capacity: " + std::to_string(limit) +
                      " requests are in flight (http.max_in_flight); "
                      "retry later");
      requests_.count(m.index, res.status);
      return;
    }
  }
  // cpp-httplib checks http.max_body_bytes against Content-Length only; a
  // chunked body is checked here once decoded (the admission server bounds
  // what it reads on the wire).
  if (req.body.size() > cfg_.http.max_body_bytes) {
    reply_error(res, ec::payload_too_large,
                "request body exceeds http.max_body_bytes (" +
                    std::to_string(cfg_.http.max_body_bytes) + " bytes)");
    requests_.count(m.index, res.status);
    return;
  }
  try {
    dispatch(m, req, res);
  } catch (const std::exception& e) {
    CQRS_LOG(error, "http",
             req.method << ' ' << req.path << " failed: " << e.what());
    reply_error(res, ec::internal, "internal error");
  }
  requests_.count(m.index, res.status);
  requests_.observe(m.index, to_method(req.method),
                    std::chrono::steady_clock::now() - started);
}

void gateway::reply_not_allowed(const route_match& m, const std::string& method,
                                httplib::Response& res) const {
  res.set_header("Allow", std::string{routes_.allowed_methods(m.index)});
  reply_error(res, ec::method_not_allowed,
              method + " is not allowed on " +
                  std::string{routes_.pattern(m.index)});
}

void gateway::reply_unsupported_method(const std::string& method,
                                       const std::string& path,
                                       httplib::Response& res) {
  auto m = routes_.match(path);
  if (m.kind == route_kind::unknown)
    reply_error(res, ec::not_found, "no route for '" + path + "'");
  else
    reply_not_allowed(m, method, res);
  requests_.count(m.index, res.status);
}

bool gateway::answer_probe(route_kind r, httplib::Response& res) {
  switch (r) {
  case route_kind::healthz:
    reply(res, 200, R"({"status":"ok"})");
    return true;
  case route_kind::readyz: {
    auto body = link_state(node_);
    bool other_domain =
        node_counters::get(node_.counters().domain_mismatch) != 0;
    if (ready_ && !other_domain) {
      body["status"] = "ready";
      reply(res, 200, body.dump());
    } else if (other_domain) {
      reply_error(res, ec::domain_mismatch,
                  "not ready: the command node serves another domain "
                  "than this node's '" +
                      node_.served_domain().name + "' (digest " +
                      node_.served_domain().digest + ") and refused to link");
    } else {
      reply_error(res, ec::unavailable, "not serving");
    }
    return true;
  }
  case route_kind::metrics:
    res.status = 200;
    res.set_content(render_metrics(node_.served_domain(), node_.counters(),
                                   routes_, requests_, overload_),
                    "text/plain; version=0.0.4");
    return true;
  default:
    return false;
  }
}

std::optional<probe_answer> gateway::probe(const std::string& method,
                                           const std::string& path) {
  if (method != "GET")
    return std::nullopt;
  auto m = routes_.match(path);
  httplib::Response res;
  if (!m.is_probe() || !answer_probe(m.kind, res))
    return std::nullopt;
  requests_.count(m.index, res.status);
  return probe_answer{res.status, res.get_header_value("Content-Type"),
                      std::move(res.body)};
}

void gateway::dispatch(const route_match& m, const httplib::Request& req,
                       httplib::Response& res) {
  if (m.kind == route_kind::unknown) {
    reply_error(res, ec::not_found, "no route for '" + req.path + "'");
    return;
  }
  if (!routes_.allows(m.index, req.method)) {
    reply_not_allowed(m, req.method, res);
    return;
  }
  bool is_get = req.method == "GET" || req.method == "HEAD";
  // The web pages hold no data: they ask for the token and send it along
  // with their own requests. Their query strings are theirs to use.
  if (m.kind == route_kind::asset) {
    answer_asset(assets_, req, res);
    return;
  }
  // With a read token, data, /status and /openapi.json need a token too;
  // the probes and /metrics stay open. The write token also reads.
  const auto& read_token = cfg_.http.read_token;
  if (is_get && !read_token.empty() && !m.is_probe() &&
      !bearer_matches(req, {&read_token, &cfg_.http.write_token})) {
    reply_unauthorized(res, "reads need 'Authorization: Bearer <token>'");
    return;
  }
  if (m.bad_id) {
    reply_error(res, ec::bad_request,
                "'" + req.path.substr(req.path.rfind('/') + 1) +
                    "' is not a valid id");
    return;
  }
  exchange x{*bridge_, node_, cfg_, req, res};
  if (cfg_.query.session == session_consistency::connection)
    x.session = current_session();
  switch (m.kind) {
  case route_kind::healthz:
  case route_kind::readyz:
  case route_kind::metrics:
    if (check_params(req, res, {}))
      answer_probe(m.kind, res);
    return;
  case route_kind::status:
    if (check_params(req, res, {}))
      status(x);
    return;
  case route_kind::openapi:
    if (check_params(req, res, {}))
      reply(res, 200, openapi_json_);
    return;
  case route_kind::commits:
    commits(x);
    return;
  case route_kind::collection:
    if (is_get)
      read_list(x, m);
    else
      write(x, m);
    return;
  case route_kind::item:
    if (is_get)
      read_item(x, m);
    else
      write(x, m);
    return;
  case route_kind::asset:
  case route_kind::unknown:
    break;
  }
}

} // namespace cqrs::http
