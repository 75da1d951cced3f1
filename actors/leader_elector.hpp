// Command node failover. Command-capable nodes on one PostgreSQL database
// compete for the leader lock (db/leadership.hpp), held on the write session
// itself. The holder leads: it runs the command node and publishes it. The
// others are standbys: they serve reads, forward writes to the leader through
// their link, and keep trying the lock.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/expected.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/command_actor.hpp"
#include "actors/command_route.hpp"
#include "actors/counters.hpp"
#include "actors/interfaces.hpp"
#include "actors/supervision.hpp"
#include "config/settings.hpp"
#include "db/write_store.hpp"

namespace soci {
class session;
} // namespace soci

namespace cqrs {

/// What the elector of a command-capable node needs.
struct leader_elector_config {
  /// The command actor's settings; the elector sets `open_store` and
  /// `leader_lease`.
  command_actor_config command;
  supervision_config supervision;
  /// The command node's heartbeat to the hubs.
  caf::timespan heartbeat_interval{0};
  /// `cluster.leader_lease_ms`.
  std::chrono::milliseconds lease{5000};
  /// Where the leader publishes its command node (`cluster.listen`).
  std::string listen;
  std::string listen_host;
  uint16_t listen_port = 0;
  bool tls = false;
  /// False only in a testing build's fault (see `write_store::open_leader`).
  bool fenced = true;
  /// Where the node's writes go, and the node's link, told when this node
  /// takes or loses the lead.
  std::shared_ptr<command_route> route;
  link_actor link;
};

struct leader_elector_state {
  static inline constexpr const char* name = "leader_elector";

  leader_elector_state();
  ~leader_elector_state();

  leader_elector_config cfg;
  /// A standby's session, on which it tries the lock; null while leading.
  std::unique_ptr<soci::session> session;
  /// The command node while this node leads.
  command_node_actor command;
  /// Whether the database was unreachable at the last attempt (a warning
  /// is logged once per outage).
  bool unreachable = false;
};

/// Takes no messages but its own timer.
using leader_elector_actor = caf::typed_actor<
    // Tries the leader lock (the elector sends this to itself).
    caf::reacts_to<atom::tick>>;

using leader_elector_ptr =
    leader_elector_actor::stateful_pointer<leader_elector_state>;

/// One attempt to lead: tries the leader lock on `session` (opening it
/// first when null). Returns the leader's write store, which now owns the
/// session, when this node took the lock; null, keeping `session` for the
/// next attempt, when another node holds it. Blocks on the database.
caf::expected<std::unique_ptr<write_store>>
try_to_lead(const command_actor_config& cfg, std::chrono::milliseconds lease,
            bool fenced, std::unique_ptr<soci::session>& session);

/// One attempt to lead on a session of its own, closed unless this node
/// took the lock.
caf::expected<std::unique_ptr<write_store>>
try_to_lead(const command_actor_config& cfg, std::chrono::milliseconds lease,
            bool fenced);

/// Spawnable behaviour of the elector: leads with the store in `first`
/// (from `try_to_lead` in `node::start`) when there is one, else stands by
/// and tries the lock every `lease / 4` (at most every 500 ms). A leader
/// that loses the lock steps down: it unpublishes, and its link looks for
/// the new leader. Spawn it detached: it blocks on the database and on
/// publishing.
leader_elector_actor::behavior_type
leader_elector_impl(leader_elector_ptr self, leader_elector_config cfg,
                    store_slot first);

} // namespace cqrs
