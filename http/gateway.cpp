// The HTTP gateway.
#include "http/gateway.hpp"

#include <algorithm>
#include <thread>

#include <sys/socket.h>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/node.hpp"
#include "config/logging.hpp"
#include "db/error.hpp"
#include "http/actor_bridge.hpp"
#include "http/admission.hpp"
#include "http/errors.hpp"
#include "http/idempotency.hpp"
#include "http/request_values.hpp"
#include "http/routes.hpp"
#include "model/json.hpp"
#include "model/views.hpp"

namespace cqrs::http {

namespace {

constexpr const char* json_type = "application/json";

/// How long a fill may take, on top of the X-Min-Seq wait.
constexpr auto fill_timeout = std::chrono::seconds{30};

/// How often a read retries when its query actor died under it.
constexpr int read_attempts = 3;

void reply(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), json_type);
}

void reply_error(httplib::Response& res, const api_error& err) {
  // A 503 is temporary: tell clients when to try again.
  if (err.status == 503)
    res.set_header("Retry-After", "1");
  reply(res, err.status, error_json(err.code, err.message));
}

void reply_error(httplib::Response& res, int status, std::string message) {
  reply_error(res, make_api_error(status, std::move(message)));
}

// Whether `req` carries `Authorization: Bearer <t>` for one of `tokens`
// (empty tokens never match). Every token is compared, so the time taken
// does not tell which one, or where, the presented secret differs.
bool bearer_matches(const httplib::Request& req,
                    std::initializer_list<const std::string*> tokens) {
  auto auth = req.get_header_value("Authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (auth.size() < scheme.size() ||
      auth.compare(0, scheme.size(), scheme) != 0)
    return false;
  auto presented = std::string_view{auth}.substr(scheme.size());
  bool match = false;
  for (auto token : tokens)
    match |= !token->empty() && constant_time_equal(presented, *token);
  return match;
}

// Answers 401 with the challenge that tells clients which scheme to use.
void reply_unauthorized(httplib::Response& res, std::string message) {
  res.set_header("WWW-Authenticate", "Bearer");
  reply_error(res, 401, std::move(message));
}

const char* noun(query_kind kind) {
  switch (kind) {
  case query_kind::object:
  case query_kind::object_list:
    return "object";
  case query_kind::category:
    return "category";
  case query_kind::related_object:
    return "related object";
  }
  return "row";
}

// Rejects query parameters other than `allowed`, and repeated ones.
bool check_params(const httplib::Request& req, httplib::Response& res,
                  std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : req.params) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      reply_error(res, 400, "unknown query parameter '" + name + "'");
      return false;
    }
    if (req.params.count(name) > 1) {
      reply_error(res, 400, "query parameter '" + name + "' is repeated");
      return false;
    }
  }
  return true;
}

} // namespace

gateway::gateway(caf::actor_system& sys, node& n, const settings& cfg)
    : sys_(sys), node_(n), cfg_(cfg),
      bridge_(std::make_unique<actor_bridge>(sys)) {
  // Connections beyond the worker threads and http.max_queued_connections
  // are answered 503 at once; see admission.hpp.
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
    tls = make_tls_context(h.tls.cert_file, h.tls.key_file, tls_error_);
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
    bool takes_body =
        req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (!takes_body || req.has_header("Content-Length") ||
        req.has_header("Transfer-Encoding"))
      return handled::Unhandled;
    auto m = match(req.path);
    if (m.r == route::unknown) {
      reply_error(res, 404, "no route for '" + req.path + "'");
    } else if (!allows(m.r, req.method)) {
      res.set_header("Allow", std::string{allowed_methods(m.r)});
      reply_error(res, 405,
                  req.method + " is not allowed on " +
                      std::string{pattern(m.r)});
    } else {
      reply_error(res, 400,
                  "a " + req.method +
                      " request needs a body with Content-Length or chunked "
                      "transfer encoding");
    }
    requests_.count(m.r, res.status);
    return handled::Handled;
  });
  svr.set_error_handler(
      [this](const httplib::Request& req, httplib::Response& res) {
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
        auto m = match(req.path);
        if (res.status == 413)
          reply_error(res, 413,
                      "request body exceeds http.max_body_bytes (" +
                          std::to_string(cfg_.http.max_body_bytes) + " bytes)");
        else
          reply_error(res, res.status, "the request could not be processed");
        requests_.count(m.r, res.status);
      });
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        reply_error(res, {500, to_string(ec::internal), "internal error"});
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
  ready_ = true;
  server_->listen_after_bind();
  ready_ = false;
}

void gateway::stop() {
  ready_ = false;
  server_->stop();
}

namespace {

bool is_probe(route r) {
  return r == route::healthz || r == route::readyz || r == route::metrics;
}

} // namespace

void gateway::handle(const httplib::Request& req, httplib::Response& res) {
  auto started = std::chrono::steady_clock::now();
  auto m = match(req.path);
  // Bounds the requests in flight; probes stay answerable past the bound.
  struct in_flight_guard {
    std::atomic<uint64_t>* n;
    ~in_flight_guard() {
      if (n != nullptr)
        n->fetch_sub(1, std::memory_order_relaxed);
    }
  } guard{nullptr};
  if (!is_probe(m.r)) {
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
      reply_error(res,
                  to_api_error(make_cqrs_error(
                      ec::overloaded,
                      "the server is at capacity: " + std::to_string(limit) +
                          " requests are in flight (http.max_in_flight); "
                          "retry later")));
      requests_.count(m.r, res.status);
      return;
    }
  }
  // cpp-httplib checks http.max_body_bytes against Content-Length only; a
  // chunked body is checked here once decoded (the admission server bounds
  // what it reads on the wire).
  if (req.body.size() > cfg_.http.max_body_bytes) {
    reply_error(res, 413,
                "request body exceeds http.max_body_bytes (" +
                    std::to_string(cfg_.http.max_body_bytes) + " bytes)");
    requests_.count(m.r, res.status);
    return;
  }
  try {
    dispatch(m, req, res);
  } catch (const std::exception& e) {
    CQRS_LOG(error, "http",
             req.method << ' ' << req.path << " failed: " << e.what());
    reply_error(res, {500, to_string(ec::internal), "internal error"});
  }
  requests_.count(m.r, res.status);
  requests_.observe(m.r, to_method(req.method),
                    std::chrono::steady_clock::now() - started);
}

namespace {

/// Everything a route handler needs.
struct exchange {
  actor_bridge& bridge;
  node& n;
  const settings& cfg;
  const httplib::Request& req;
  httplib::Response& res;
};

// Answers a read through the query actor that `routes` picks.
void read(exchange& x, const query& q) {
  seq_t min_seq = 0;
  if (x.req.has_header("X-Min-Seq")) {
    auto parsed = parse_u64(x.req.get_header_value("X-Min-Seq"));
    if (!parsed) {
      reply_error(x.res, 400,
                  "header X-Min-Seq must be a non-negative integer");
      return;
    }
    min_seq = *parsed;
  }
  read_request rr{q, cache_key(q), min_seq};
  auto timeout =
      fill_timeout + std::chrono::milliseconds{x.cfg.query.min_seq_timeout_ms};
  auto answer = [&](const read_answer& a) {
    x.res.set_header("X-Seq", std::to_string(a.seq));
    if (a.found)
      reply(x.res, 200, *a.body);
    else
      reply_error(x.res, 404,
                  std::string{noun(q.kind)} + " " + std::to_string(q.id) +
                      " does not exist");
  };
  for (int attempt = 1; attempt <= read_attempts; ++attempt) {
    auto route = x.n.routes().pick(rr.key);
    if (!route) {
      reply_error(x.res,
                  to_api_error(make_cqrs_error(ec::actor_unavailable,
                                               "no query actor is running")));
      return;
    }
    // A hit is answered from the actor's cache on this thread, without a
    // message round trip. Misses, and reads ahead of the actor's applied
    // seq, go to the actor.
    if (auto hit = route.cache->hit(rr.key, rr.min_seq)) {
      node_counters::add(x.n.counters().cache_hits);
      answer(*hit);
      return;
    }
    auto self = x.bridge.acquire();
    bool retry = false;
    self->request(route.actor, timeout, atom::read_v, rr)
        .receive([&](read_answer& a) { answer(a); },
                 [&](caf::error& err) {
                   // The actor died under us: its successor takes over shortly.
                   retry = (err == caf::sec::request_receiver_down ||
                            err == ec::actor_unavailable) &&
                           attempt < read_attempts;
                   if (!retry)
                     reply_error(x.res, to_api_error(err));
                   if (err == caf::sec::request_timeout)
                     self.discard();
                 });
    if (!retry)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds{10 * attempt});
  }
}

// Sends a command to the command actor and answers its acknowledgement.
void write(exchange& x, operation op, entity target, row_id id) {
  const auto& token = x.cfg.http.write_token;
  if (!token.empty() && !bearer_matches(x.req, {&token})) {
    reply_unauthorized(x.res, "writes need 'Authorization: Bearer <token>'");
    return;
  }
  if (op != operation::remove && x.req.has_header("Content-Type") &&
      !is_json_media_type(x.req.get_header_value("Content-Type"))) {
    reply_error(x.res, 415,
                "request body must be application/json, got '" +
                    x.req.get_header_value("Content-Type") + "'");
    return;
  }
  if (!check_params(x.req, x.res, {}))
    return;
  // Idempotency-Key: a retry of a successful write answers the first answer.
  std::string idempotency_key;
  if (x.req.has_header("Idempotency-Key")) {
    if (x.req.get_header_value_count("Idempotency-Key") > 1) {
      reply_error(x.res, 400, "header Idempotency-Key is repeated");
      return;
    }
    idempotency_key = x.req.get_header_value("Idempotency-Key");
    if (auto why = check_idempotency_key(idempotency_key)) {
      reply_error(x.res, 400, *why);
      return;
    }
  }
  validation_error verr;
  auto cmd = parse_command(op, target, id, x.req.body, verr);
  if (!cmd) {
    reply_error(x.res, 400, verr.message);
    return;
  }
  if (!idempotency_key.empty()) {
    // DELETE ignores its body, so the body does not tell requests apart.
    cmd->request_hash =
        request_hash(x.req.method, x.req.path,
                     op == operation::remove ? std::string_view{}
                                             : std::string_view{x.req.body});
    cmd->idempotency_key = std::move(idempotency_key);
  }
  auto command_node = x.n.commands().get();
  if (!command_node) {
    reply_error(x.res, to_api_error(make_cqrs_error(
                           ec::actor_unavailable,
                           "the command node is unreachable; writes are "
                           "refused until the link is back")));
    return;
  }
  auto self = x.bridge.acquire();
  self->request(command_node,
                std::chrono::milliseconds{x.cfg.command.timeout_ms},
                atom::apply_v, std::move(*cmd))
      .receive(
          [&](write_result& r) {
            x.res.set_header("X-Seq", std::to_string(r.seq));
            if (r.replayed)
              x.res.set_header("Idempotent-Replayed", "true");
            reply(x.res, op == operation::create ? 201 : 200, to_json(r));
          },
          [&](caf::error& err) {
            reply_error(x.res, to_api_error(err));
            if (err == caf::sec::request_timeout)
              self.discard();
          });
}

// GET /objects?category_id=&limit=&after=
void list_objects(exchange& x) {
  if (!check_params(x.req, x.res, {"category_id", "limit", "after"}))
    return;
  query q;
  q.kind = query_kind::object_list;
  if (x.req.has_param("category_id")) {
    auto id = parse_row_id(x.req.get_param_value("category_id"));
    if (!id) {
      reply_error(x.res, 400, "category_id must be a positive integer id");
      return;
    }
    q.category_id = *id;
  }
  if (x.req.has_param("after")) {
    auto after = parse_u64(x.req.get_param_value("after"));
    if (!after || *after > static_cast<uint64_t>(INT64_MAX)) {
      reply_error(x.res, 400, "after must be a non-negative integer id");
      return;
    }
    q.after = static_cast<row_id>(*after);
  }
  if (x.req.has_param("limit")) {
    auto limit = parse_u64(x.req.get_param_value("limit"));
    if (!limit || *limit < 1 || *limit > max_page_size) {
      reply_error(x.res, 400,
                  "limit must be an integer in 1.." +
                      std::to_string(max_page_size));
      return;
    }
    q.limit = static_cast<int32_t>(*limit);
  }
  read(x, q);
}

// The state of the node's link to its command node, for /readyz and /status.
nlohmann::json link_state(node& n) {
  auto& c = n.counters();
  return {{"command_node", node_counters::get(c.command_node_linked) != 0
                               ? "linked"
                               : "unreachable"},
          {"caches",
           node_counters::get(c.caches_in_use) != 0 ? "in_use" : "bypassed"}};
}

// /status lists at most this many query actors (the first ones); the
// totals cover all of them.
constexpr size_t max_listed_query_actors = 1000;

void status(exchange& x) {
  using nlohmann::json;
  auto& c = x.n.counters();
  auto applied = node_counters::get(c.applied_seq);
  json body{{"node", x.cfg.node.name},
            {"role", to_string(x.cfg.node.role)},
            {"seq", std::max(node_counters::get(c.current_seq), applied)},
            {"applied_seq", applied}};
  body.update(link_state(x.n));
  // Straight from the routing table and the shared caches, without a
  // message to each query actor: /status stays cheap with 100,000 of them.
  auto routes = x.n.routes().snapshot();
  auto actors = json::array();
  uint64_t entries = 0;
  for (size_t i = 0; i < routes->size(); ++i) {
    const auto& cache = (*routes)[i].cache;
    if (!cache)
      continue;
    auto size = cache->size();
    entries += size;
    if (actors.size() < max_listed_query_actors)
      actors.push_back({{"index", i},
                        {"cache_entries", size},
                        {"applied_seq", cache->applied_seq()}});
  }
  body["query_actor_count"] = routes->size();
  body["cache_entries"] = entries;
  body["query_actors"] = std::move(actors);
  reply(x.res, 200, body.dump());
}

} // namespace

bool gateway::answer_probe(route r, httplib::Response& res) {
  switch (r) {
  case route::healthz:
    reply(res, 200, R"({"status":"ok"})");
    return true;
  case route::readyz:
    if (ready_) {
      auto body = link_state(node_);
      body["status"] = "ready";
      reply(res, 200, body.dump());
    } else
      reply_error(res, 503, "not serving");
    return true;
  case route::metrics:
    res.status = 200;
    res.set_content(render_metrics(node_.counters(), requests_, overload_),
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
  auto r = match(path).r;
  httplib::Response res;
  if (!is_probe(r) || !answer_probe(r, res))
    return std::nullopt;
  requests_.count(r, res.status);
  return probe_answer{res.status, res.get_header_value("Content-Type"),
                      std::move(res.body)};
}

void gateway::dispatch(const route_match& m, const httplib::Request& req,
                       httplib::Response& res) {
  if (m.r == route::unknown) {
    reply_error(res, 404, "no route for '" + req.path + "'");
    return;
  }
  if (!allows(m.r, req.method)) {
    res.set_header("Allow", std::string{allowed_methods(m.r)});
    reply_error(res, 405,
                req.method + " is not allowed on " + std::string{pattern(m.r)});
    return;
  }
  bool is_get = req.method == "GET" || req.method == "HEAD";
  // With a read token, data and /status need a token too; the probes and
  // /metrics stay open. The write token also reads.
  const auto& read_token = cfg_.http.read_token;
  if (is_get && !read_token.empty() && m.r != route::healthz &&
      m.r != route::readyz && m.r != route::metrics &&
      !bearer_matches(req, {&read_token, &cfg_.http.write_token})) {
    reply_unauthorized(res, "reads need 'Authorization: Bearer <token>'");
    return;
  }
  if (m.bad_id) {
    reply_error(res, 400,
                "'" + req.path.substr(req.path.rfind('/') + 1) +
                    "' is not a valid id");
    return;
  }
  // Writes check their parameters after the media type: cpp-httplib turns a
  // form-encoded body into parameters, and that deserves a 415.
  if (is_get && m.r != route::objects && !check_params(req, res, {}))
    return;
  exchange x{*bridge_, node_, cfg_, req, res};
  auto op = req.method == "POST"  ? operation::create
            : req.method == "PUT" ? operation::update
                                  : operation::remove;
  auto single = [&](query_kind kind) {
    query q;
    q.kind = kind;
    q.id = m.id;
    read(x, q);
  };
  switch (m.r) {
  case route::healthz:
  case route::readyz:
  case route::metrics:
    answer_probe(m.r, res);
    return;
  case route::status:
    status(x);
    return;
  case route::categories:
    write(x, operation::create, entity::category, 0);
    return;
  case route::related_objects:
    write(x, operation::create, entity::related_object, 0);
    return;
  case route::objects:
    if (is_get)
      list_objects(x);
    else
      write(x, operation::create, entity::object, 0);
    return;
  case route::category:
    if (is_get)
      single(query_kind::category);
    else
      write(x, op, entity::category, m.id);
    return;
  case route::related_object:
    if (is_get)
      single(query_kind::related_object);
    else
      write(x, op, entity::related_object, m.id);
    return;
  case route::object:
    if (is_get)
      single(query_kind::object);
    else
      write(x, op, entity::object, m.id);
    return;
  case route::unknown:
    break;
  }
}

} // namespace cqrs::http
