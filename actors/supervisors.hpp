// Supervisors: the query supervisor respawns dead query actors and keeps the
// routing table; the command supervisor respawns the command actor.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/command_actor.hpp"
#include "actors/interfaces.hpp"
#include "actors/query_actor.hpp"
#include "actors/query_routes.hpp"
#include "actors/restart_budget.hpp"

namespace cqrs {

/// Called once when a supervisor gives up, with a sentence saying why.
using give_up_handler = std::function<void(const std::string&)>;

struct supervision_config {
  /// Restarts tolerated within `window`.
  uint32_t max_restarts = 10;
  caf::timespan window = std::chrono::seconds{10};
  /// The settings that set the budget, named when the supervisor gives up,
  /// e.g. "query.max_restarts, query.restart_window_ms".
  std::string settings;
  give_up_handler on_give_up;
};

// -- query supervisor ---------------------------------------------------------

struct query_supervisor_config {
  uint32_t actors = 8;
  /// Template for each query actor; `index` is set per actor.
  query_actor_config actor;
  supervision_config supervision;
};

struct query_supervisor_state {
  static inline constexpr const char* name = "query_supervisor";

  query_supervisor_state();

  query_supervisor_config cfg;
  reader_actor reader;
  hub_actor hub;
  std::shared_ptr<query_routes> routes;
  std::vector<query_actor> actors;
  restart_budget budget;
};

using query_supervisor_ptr = caf::stateful_actor<query_supervisor_state>*;

/// Spawnable behaviour of the query supervisor. It spawns `cfg.actors` query
/// actors, publishes them in `routes` and respawns each one that dies, with
/// an empty cache, until the restart budget runs out; then it calls
/// `on_give_up` and quits. Exiting, it takes its actors down with it.
caf::behavior query_supervisor_impl(query_supervisor_ptr self,
                                    query_supervisor_config cfg,
                                    reader_actor reader, hub_actor hub,
                                    std::shared_ptr<query_routes> routes);

// -- command supervisor -------------------------------------------------------

struct command_supervisor_state {
  static inline constexpr const char* name = "command_supervisor";

  command_supervisor_state();

  command_actor_config cfg;
  supervision_config supervision;
  /// Pause between two heartbeats to the hubs.
  caf::timespan heartbeat_interval;
  command_actor current;
  restart_budget budget;
  /// Every subscribed invalidation hub, local and remote.
  std::vector<hub_actor> hubs;
  /// The last committed seq published.
  seq_t last_seq = 0;
};

using command_supervisor_ptr =
    command_node_actor::stateful_pointer<command_supervisor_state>;

/// Spawnable behaviour of the command node: it spawns the command actor
/// (on the scheduler, not detached) and respawns it when it dies (re-reading
/// `max(seq)`), forwards writes to it, and relays its committed batches and a
/// heartbeat with the latest seq to every subscribed hub. Requests pending on a
/// dying command actor fail; later ones reach its successor.
command_node_actor::behavior_type
command_supervisor_impl(command_supervisor_ptr self, command_actor_config cfg,
                        supervision_config supervision, seq_t last_seq,
                        caf::timespan heartbeat_interval);

} // namespace cqrs
