// The HTTP gateway: validates requests, sends commands to the command actor
// and spreads reads over the query actors.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "config/settings.hpp"
#include "http/metrics.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
} // namespace httplib

namespace cqrs {

class node;

namespace http {

class actor_bridge;

/// Serves the API of one node over HTTP.
class gateway {
public:
  gateway(caf::actor_system& sys, node& n, const settings& cfg);

  ~gateway();

  /// Binds `http.listen`; returns the bound port (useful with port 0).
  caf::expected<uint16_t> bind();

  /// Serves until `stop`; blocks the calling thread.
  void serve();

  /// Stops accepting connections. Requests in flight finish, then `serve`
  /// returns. Safe to call from any thread, more than once.
  void stop();

  /// The counters of answered requests.
  const request_counters& requests() const noexcept { return requests_; }

private:
  void handle(const httplib::Request& req, httplib::Response& res);

  void dispatch(const route_match& m, const httplib::Request& req,
                httplib::Response& res);

  caf::actor_system& sys_;
  node& node_;
  settings cfg_;
  std::unique_ptr<actor_bridge> bridge_;
  std::unique_ptr<httplib::Server> server_;
  /// Why OpenSSL rejected `http.tls`, when it did.
  std::string tls_error_;
  request_counters requests_;
  std::atomic<bool> ready_{false};
};

} // namespace http
} // namespace cqrs
