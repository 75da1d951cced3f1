// The query supervisor: it spawns the query actors, keeps the routing table
// and respawns each query actor that dies.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/interfaces.hpp"
#include "actors/query_actor.hpp"
#include "actors/query_routes.hpp"
#include "actors/restart_budget.hpp"
#include "actors/supervision.hpp"

namespace cqrs {

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

} // namespace cqrs
