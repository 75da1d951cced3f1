// The link of a node to its command node: local, or remote over the CAF
// middleman with reconnects.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/command_route.hpp"
#include "actors/counters.hpp"
#include "actors/interfaces.hpp"
#include "config/settings.hpp"

namespace cqrs {

struct cluster_link_config {
  /// The command node when it runs in this process; otherwise invalid and
  /// the link looks for the leader among `remotes`. A node that takes or
  /// loses the lead changes it (`atom::local`).
  command_node_actor local;
  /// Every command-capable node (`cluster.command_node`). The link tries
  /// them all at once and links to the one that accepts its hub: only the
  /// leader publishes a command node.
  std::vector<cluster_endpoint> remotes;
  /// The link of a command-capable node on PostgreSQL waits for its leader
  /// elector to say whether the node leads (`atom::local`) before it
  /// connects anywhere.
  bool wait_for_local = false;
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
  /// Pause between two pings of a remote command node; 0 never pings.
  caf::timespan ping_interval{0};
  /// How long a ping may go unanswered before the link drops the command
  /// node and looks for the leader again: a frozen leader answers nothing,
  /// but its connection stays up.
  caf::timespan ping_timeout = std::chrono::seconds{2};
};

struct cluster_link_state {
  static inline constexpr const char* name = "cluster_link";

  cluster_link_config cfg;
  hub_actor hub;
  std::shared_ptr<command_route> route;
  /// The command node while the link is up, and where it is.
  command_node_actor current;
  std::string current_where;
  caf::timespan backoff{0};
  bool connecting = false;
  /// Waiting for the first `atom::local` (`wait_for_local`).
  bool idle = false;
  /// Numbers the rounds of connection attempts: answers to an older round
  /// are ignored.
  uint64_t round = 0;
  /// The attempts of this round that failed, and why.
  std::vector<std::string> round_errors;
};

using cluster_link_ptr = link_actor::stateful_pointer<cluster_link_state>;

/// Spawnable behaviour of the link. It subscribes `hub` at the command node
/// (the local one, or whichever remote one leads), routes writes there
/// through `route`, tells the hub `connected` and `disconnect`, and
/// reconnects with backoff after losing the node, or when a remote one
/// stops answering pings.
link_actor::behavior_type
cluster_link_impl(cluster_link_ptr self, cluster_link_config cfg, hub_actor hub,
                  std::shared_ptr<command_route> route);

} // namespace cqrs
