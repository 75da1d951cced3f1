// The command node: the command actor's supervisor, which forwards writes to
// it and relays its committed batches and a heartbeat to every subscribed
// invalidation hub, local and remote.
#pragma once

#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/command_actor.hpp"
#include "actors/interfaces.hpp"
#include "actors/restart_budget.hpp"
#include "actors/supervision.hpp"

namespace cqrs {

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
