// Supervisors of the query actors and of the command actor.
#include "actors/supervisors.hpp"

#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/spawn_options.hpp>

#include "common/error.hpp"
#include "common/logging.hpp"

namespace cqrs {

namespace {

bool is_shutdown(const caf::error& reason) {
  return reason == caf::exit_reason::user_shutdown ||
         reason == caf::exit_reason::normal;
}

// Runs when a supervisor's budget is spent: logs, tells the node, quits.
template <class Self>
void give_up(Self* self, const supervision_config& cfg, const std::string& what,
             const caf::error& reason) {
  auto window_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(cfg.window).count();
  auto msg = std::string{what} + " died too often: past the restart limit of " +
             std::to_string(cfg.max_restarts) + " restarts within " +
             std::to_string(window_ms) + " ms (" + cfg.settings +
             "); last reason: " + caf::to_string(reason);
  CQRS_LOG(error, self->name(), msg);
  if (cfg.on_give_up)
    cfg.on_give_up(msg);
  self->quit(reason);
}

restart_budget make_budget(const supervision_config& cfg) {
  return restart_budget{cfg.max_restarts, cfg.window};
}

} // namespace

// -- query supervisor ---------------------------------------------------------

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
        actor_cfg.cache_max_entries, actor_cfg.cache_enabled);
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

// -- command supervisor -------------------------------------------------------

command_supervisor_state::command_supervisor_state() : budget(0, {}) {
  // nop
}

command_node_actor::behavior_type
command_supervisor_impl(command_supervisor_ptr self, command_actor_config cfg,
                        supervision_config supervision, seq_t last_seq,
                        caf::timespan heartbeat_interval) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.supervision = std::move(supervision);
  st.heartbeat_interval = heartbeat_interval;
  st.budget = make_budget(st.supervision);
  st.last_seq = last_seq;
  auto spawn_actor = [self] {
    auto& st = self->state;
    // On the scheduler, not detached, although it blocks on the database.
    // In CAF 0.17 a detached actor's thread ends only once the actor object
    // is destroyed, and ~actor_system waits for that thread. A command node
    // that answered remote nodes sometimes still held a strong reference to
    // its terminated command actor at shutdown, and never exited. A
    // scheduled actor that outlives its termination costs nothing at exit.
    // The node gives the scheduler one worker more for it (app/main.cpp).
    st.current = self->spawn<caf::monitored>(
        command_actor_impl, st.cfg, caf::actor_cast<command_node_actor>(self));
  };
  spawn_actor();
  self->set_down_handler([self, spawn_actor](const caf::down_msg& msg) {
    auto& st = self->state;
    auto& hubs = st.hubs;
    auto is_source = [&](const hub_actor& h) {
      return h.address() == msg.source;
    };
    if (std::any_of(hubs.begin(), hubs.end(), is_source)) {
      CQRS_LOG(info, "command_supervisor",
               "hub " << caf::to_string(msg.source) << " unsubscribed");
      hubs.erase(std::remove_if(hubs.begin(), hubs.end(), is_source),
                 hubs.end());
      return;
    }
    if (msg.source != st.current.address() || is_shutdown(msg.reason))
      return;
    if (!st.budget.try_restart()) {
      give_up(self, st.supervision, "command actor", msg.reason);
      return;
    }
    CQRS_LOG(warning, "command_supervisor",
             "command actor died (" << caf::to_string(msg.reason)
                                    << "); respawning it");
    node_counters::add(st.cfg.counters->command_actor_restarts);
    spawn_actor();
  });
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    self->send_exit(self->state.current, msg.reason);
    self->quit(msg.reason);
  });
  if (heartbeat_interval.count() > 0)
    self->delayed_send(self, heartbeat_interval, atom::heartbeat_v);
  return {
      [self](atom::apply a, command& cmd) -> caf::delegated<write_result> {
        return self->delegate(self->state.current, a, std::move(cmd));
      },
      [self](atom::subscribe, hub_actor& hub,
             const std::string& digest) -> caf::result<seq_t> {
        auto& st = self->state;
        const auto& ours = st.cfg.dom->digest;
        if (digest != ours) {
          CQRS_LOG(warning, "command_supervisor",
                   "refused hub " << caf::to_string(hub.address())
                                  << ": it serves another domain (digest "
                                  << digest << ", this command node serves '"
                                  << st.cfg.dom->name << "', digest " << ours
                                  << ")");
          return make_cqrs_error(ec::domain_mismatch,
                                 "the command node serves domain '" +
                                     st.cfg.dom->name + "' with digest " +
                                     ours + ", this node one with digest " +
                                     digest);
        }
        CQRS_LOG(info, "command_supervisor",
                 "hub " << caf::to_string(hub.address())
                        << " subscribed at seq " << st.last_seq);
        self->monitor(hub);
        st.hubs.push_back(std::move(hub));
        return st.last_seq;
      },
      [self](atom::invalidate, invalidation& inv) {
        auto& st = self->state;
        st.last_seq = std::max(st.last_seq, inv.to_seq);
        for (auto& hub : st.hubs)
          self->send(hub, atom::invalidate_v, inv);
      },
      [self](atom::heartbeat) {
        auto& st = self->state;
        for (auto& hub : st.hubs)
          self->send(hub, atom::heartbeat_v, st.last_seq);
        self->delayed_send(self, st.heartbeat_interval, atom::heartbeat_v);
      },
  };
}

} // namespace cqrs
