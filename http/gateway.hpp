// The HTTP gateway: validates requests, sends commands to the command actor
// and spreads reads over the query actors.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "config/settings.hpp"
#include "http/assets.hpp"
#include "http/metrics.hpp"
#include "http/routes.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
} // namespace httplib

namespace cqrs {

class node;

namespace http {

class actor_bridge;
struct probe_answer;

/// Serves the API of one node over HTTP.
class gateway {
public:
  gateway(caf::actor_system& sys, node& n, const settings& cfg);

  ~gateway();

  /// Binds `http.listen`; returns the bound port (useful with port 0).
  caf::expected<uint16_t> bind();

  /// Serves until `stop`; blocks the calling thread. Returns at once when
  /// `stop` came first.
  void serve();

  /// Stops accepting connections. Requests in flight finish, then `serve`
  /// returns. Safe to call from any thread, more than once, and before
  /// `serve` (which then does not start).
  void stop();

  /// The counters of answered requests.
  const request_counters& requests() const noexcept { return requests_; }

  /// What the overload protection did.
  const overload_counters& overload() const noexcept { return overload_; }

private:
  void handle(const httplib::Request& req, httplib::Response& res);

  /// Answers /healthz, /readyz and /metrics; false for any other route.
  bool answer_probe(route_kind r, httplib::Response& res);

  /// Answers a method that no route takes (TRACE, CONNECT, or one
  /// cpp-httplib does not know): 405 with `Allow` on a known path, else 404.
  void reply_unsupported_method(const std::string& method,
                                const std::string& path,
                                httplib::Response& res);

  /// Answers 405 with the route's `Allow` header.
  void reply_not_allowed(const route_match& m, const std::string& method,
                         httplib::Response& res) const;

  /// Answers a probe for the shedder, which serves probes while every
  /// worker thread is busy.
  std::optional<probe_answer> probe(const std::string& method,
                                    const std::string& path);

  void dispatch(const route_match& m, const httplib::Request& req,
                httplib::Response& res);

  caf::actor_system& sys_;
  node& node_;
  settings cfg_;
  std::unique_ptr<actor_bridge> bridge_;
  /// The routes of the served domain, and its OpenAPI document.
  route_table routes_;
  std::string openapi_json_;
  /// The web pages, /docs and /console.
  asset_folder assets_;
  /// Why OpenSSL rejected `http.tls`, when it did.
  std::string tls_error_;
  // Declared before server_, whose threads use them until it is destroyed.
  request_counters requests_;
  overload_counters overload_;
  std::unique_ptr<httplib::Server> server_;
  std::atomic<bool> ready_{false};
  /// Orders `serve` and `stop`: a stop that comes before the server runs
  /// must keep it from starting, since httplib's stop() only stops a
  /// server that already listens.
  std::mutex serve_mtx_;
  bool stop_requested_ = false;
  bool serving_ = false;
  std::atomic<bool> served_{false};
};

} // namespace http
} // namespace cqrs
