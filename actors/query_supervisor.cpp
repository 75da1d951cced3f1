// The query supervisor.
#include "actors/query_supervisor.hpp"

#include <algorithm>

#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/spawn_options.hpp>

#include "common/logging.hpp"

namespace cqrs {

query_supervisor_state::query_supervisor_state() : budget(0, {}) {
  // nop
}

caf::behavior query_supervisor_impl(query_supervisor_ptr self,
                                    query_supervisor_config cfg,
                                    reader_actor reader, hub_actor hub,
                                    std::shared_ptr<query_routes> routes) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.reader = std::move(reader);
  st.hub = std::move(hub);
  st.routes = std::move(routes);
  st.budget = make_budget(st.cfg.supervision);
  // Spawns the actor at `index` with a fresh cache and returns its route.
  auto spawn_actor = [self](uint32_t index) {
    auto& st = self->state;
    auto actor_cfg = st.cfg.actor;
    actor_cfg.index = index;
    // A fresh, empty cache for each incarnation: the routes must never pair
    // a new actor with a cache its predecessor left behind.
    actor_cfg.cache = std::make_shared<shared_query_cache>(
        actor_cfg.cache_max_entries, actor_cfg.cache_enabled,
        actor_cfg.refresh_on_invalidation);
    auto cache = actor_cfg.cache;
    auto actor = self->spawn<caf::monitored>(query_actor_impl, actor_cfg,
                                             st.reader, st.hub);
    st.actors[index] = actor;
    return query_routes::route{std::move(actor), std::move(cache)};
  };
  // One table for the whole pool: setting routes one by one would copy the
  // table once per actor, quadratic in `query.actors`.
  st.actors.resize(st.cfg.actors);
  query_routes::table initial;
  initial.reserve(st.cfg.actors);
  for (uint32_t i = 0; i < st.cfg.actors; ++i)
    initial.push_back(spawn_actor(i));
  st.routes->assign(std::move(initial));
  node_counters::set(st.cfg.actor.counters->query_actors, st.cfg.actors);
  self->set_down_handler([self, spawn_actor](const caf::down_msg& msg) {
    auto& st = self->state;
    // Before the search, which is linear in `query.actors`.
    if (is_shutdown(msg.reason))
      return;
    auto i = std::find_if(
        st.actors.begin(), st.actors.end(),
        [&](const query_actor& a) { return a.address() == msg.source; });
    if (i == st.actors.end())
      return;
    auto index = static_cast<uint32_t>(i - st.actors.begin());
    if (!st.budget.try_restart()) {
      give_up(self, st.cfg.supervision, "query actor", msg.reason);
      return;
    }
    CQRS_LOG(warning, "query_supervisor",
             "query actor " << index << " died (" << caf::to_string(msg.reason)
                            << "); respawning it with an empty cache");
    node_counters::add(st.cfg.actor.counters->query_actor_restarts);
    auto route = spawn_actor(index);
    st.routes->set(index, std::move(route.actor), std::move(route.cache));
  });
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    for (auto& a : self->state.actors)
      self->send_exit(a, msg.reason);
    self->state.routes->clear();
    self->quit(msg.reason);
  });
  // The supervisor takes no messages. A behavior that only waits, with no
  // timeout, keeps it alive for its down and exit handlers (an empty one
  // would end it at once).
  return {caf::after(caf::infinite) >> [] {
    // nop
  }};
}

} // namespace cqrs
