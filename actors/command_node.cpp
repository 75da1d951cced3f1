// The command node.
#include "actors/command_node.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/spawn_options.hpp>

#include "common/error.hpp"
#include "common/logging.hpp"

namespace cqrs {

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
    if (msg.reason == ec::not_leader) {
      // Another node leads: a successor could not write either. The node
      // steps down (actors/leader_elector.hpp).
      CQRS_LOG(warning, "command_supervisor",
               "the command actor lost the leader lock; stopping the "
               "command node");
      self->quit(msg.reason);
      return;
    }
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
             const std::string& digest) -> caf::result<seq_t, std::string> {
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
        return caf::result<seq_t, std::string>{st.last_seq, st.cfg.node_name};
      },
      [self](atom::ping) { return self->state.last_seq; },
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
