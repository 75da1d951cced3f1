// The link of a node to its command node: local, or remote over the CAF
// middleman with reconnects.
#pragma once

#include <memory>
#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/command_route.hpp"
#include "actors/counters.hpp"
#include "actors/interfaces.hpp"

namespace cqrs {

struct cluster_link_config {
  /// The command node when it runs in this process; otherwise invalid and
  /// `host`/`port` say where to connect.
  command_node_actor local;
  std::string host;
  uint16_t port = 0;
  /// Connect over TLS through CAF's OpenSSL module (`cluster.tls`).
  bool tls = false;
  /// The digest of the domain this node serves; the command node refuses a
  /// link from a node serving another domain.
  std::string domain_digest;
  /// Where the link reports a refused domain (`domain_mismatch`).
  std::shared_ptr<node_counters> counters;
  /// Reconnect backoff: first delay, doubled up to `max_backoff`.
  caf::timespan initial_backoff = std::chrono::milliseconds{100};
  caf::timespan max_backoff = std::chrono::seconds{5};
};

struct cluster_link_state {
  static inline constexpr const char* name = "cluster_link";

  cluster_link_config cfg;
  hub_actor hub;
  std::shared_ptr<command_route> route;
  /// The command node while the link is up.
  command_node_actor current;
  caf::timespan backoff{0};
  bool connecting = false;
};

using cluster_link_ptr = link_actor::stateful_pointer<cluster_link_state>;

/// Spawnable behaviour of the link. It subscribes `hub` at the command node,
/// routes writes there through `route`, tells the hub `connected` and
/// `disconnect`, and reconnects with backoff after losing the node.
link_actor::behavior_type
cluster_link_impl(cluster_link_ptr self, cluster_link_config cfg, hub_actor hub,
                  std::shared_ptr<command_route> route);

} // namespace cqrs
