// The API's handlers: reads through the query actors, writes through the
// command node, and /status; the gateway routes requests to them.
#pragma once

#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "http/routes.hpp"

namespace httplib {
struct Request;
struct Response;
} // namespace httplib

namespace cqrs {

class node;

namespace http {

class actor_bridge;
struct connection_session;

/// Everything a handler needs.
struct exchange {
  actor_bridge& bridge;
  node& n;
  const settings& cfg;
  const httplib::Request& req;
  httplib::Response& res;
  /// The connection's session when `query.session_consistency` is
  /// `connection`; null otherwise.
  connection_session* session = nullptr;
};

/// GET `/<view>/{id}`.
void read_item(exchange& x, const route_match& m);

/// GET `/<view>?filters&after&limit`.
void read_list(exchange& x, const route_match& m);

/// POST `/<resource>`, PUT and DELETE `/<resource>/{id}`.
void write(exchange& x, const route_match& m);

/// GET /status.
void status(exchange& x);

/// GET `/commits?after&limit`: the commit log, a page at a time; without
/// `after`, the last `limit` commits.
void commits(exchange& x);

/// The state of the node's link to its command node, for /readyz and
/// /status: `command_node` (linked, unreachable or another_domain) and
/// `caches` (in_use or bypassed).
nlohmann::json link_state(node& n);

} // namespace http
} // namespace cqrs
