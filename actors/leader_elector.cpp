// Command node failover: the elector of a command-capable node.
#include "actors/leader_elector.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>

#include <soci/soci.h>

#include "actors/cluster_transport.hpp"
#include "actors/command_node.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "db/leadership.hpp"

namespace cqrs {

leader_elector_state::leader_elector_state() = default;

leader_elector_state::~leader_elector_state() = default;

caf::expected<std::unique_ptr<write_store>>
try_to_lead(const command_actor_config& cfg, std::chrono::milliseconds lease,
            bool fenced, std::unique_ptr<soci::session>& session) {
  if (session == nullptr) {
    auto opened = open_leader_session(cfg.database, lease);
    if (!opened)
      return std::move(opened.error());
    session = std::move(*opened);
  }
  auto taken = try_leader_lock(*session);
  if (!taken) {
    session.reset(); // A broken session: the next attempt opens another.
    return std::move(taken.error());
  }
  if (!*taken)
    return std::unique_ptr<write_store>{};
  // The store owns the locked session from here on; if it cannot open, the
  // session closes with it, and the lock is free again.
  return write_store::open_leader(cfg.database, cfg.dom, cfg.idempotency_ttl,
                                  std::move(session), fenced);
}

caf::expected<std::unique_ptr<write_store>>
try_to_lead(const command_actor_config& cfg, std::chrono::milliseconds lease,
            bool fenced) {
  std::unique_ptr<soci::session> session;
  return try_to_lead(cfg, lease, fenced, session);
}

namespace {

caf::timespan retry_interval(const leader_elector_config& cfg) {
  return std::min<caf::timespan>(cfg.lease / 4, std::chrono::milliseconds{500});
}

void schedule_attempt(leader_elector_ptr self) {
  self->delayed_send(self, retry_interval(self->state.cfg), atom::tick_v);
}

void set_state(leader_elector_state& st, bool leader) {
  auto& c = *st.cfg.command.counters;
  node_counters::set(c.leader, leader ? 1 : 0);
  node_counters::set(c.standby, leader ? 0 : 1);
}

// Opens the write store of a command actor: the one in `slot`, from
// `node::start`, the elector, or a predecessor that stopped (see
// `command_actor_config::handover`); else a new session has to take the
// lock again, which another node may hold by then.
store_opener leader_store_opener(const leader_elector_config& cfg,
                                 store_slot slot) {
  auto command = cfg.command;
  command.open_store = nullptr;
  auto lease = cfg.lease;
  auto fenced = cfg.fenced;
  return [command, lease, fenced,
          slot]() -> caf::expected<std::unique_ptr<write_store>> {
    if (*slot)
      return std::move(*slot);
    auto store = try_to_lead(command, lease, fenced);
    if (store && !*store)
      return make_cqrs_error(ec::not_leader,
                             "another command node took the leader lock "
                             "while the command actor restarted");
    return store;
  };
}

// Runs the command node on `store`, which holds the leader lock, and
// publishes it.
void lead(leader_elector_ptr self, std::unique_ptr<write_store> store) {
  auto& st = self->state;
  auto seq = store->last_seq();
  auto command = st.cfg.command;
  command.leader_lease = st.cfg.lease;
  command.handover =
      std::make_shared<std::unique_ptr<write_store>>(std::move(store));
  command.open_store = leader_store_opener(st.cfg, command.handover);
  st.command = self->spawn<caf::monitored>(command_supervisor_impl, command,
                                           st.cfg.supervision, seq,
                                           st.cfg.heartbeat_interval);
  auto port =
      publish_command_node(self->system(), st.command, st.cfg.listen_host,
                           st.cfg.listen_port, st.cfg.tls);
  if (!port) {
    auto why = "this node took the leader lock but cannot publish the "
               "command node on " +
               st.cfg.listen + ": " + caf::to_string(port.error());
    CQRS_LOG(error, "leader_elector", why);
    if (st.cfg.supervision.on_give_up)
      st.cfg.supervision.on_give_up(why);
    self->send_exit(st.command, caf::exit_reason::user_shutdown);
    return;
  }
  st.cfg.route->set(st.command, st.cfg.command.node_name);
  caf::anon_send(st.cfg.link, atom::local_v, st.command);
  set_state(st, true);
  node_counters::add(st.cfg.command.counters->takeovers);
  CQRS_LOG(info, "leader_elector",
           "took the lead at seq "
               << seq << ": this node holds the leader lock; command node "
               << "published on " << st.cfg.listen
               << published_transport(st.cfg.tls));
}

// The command node stopped while this node led: the lock is gone with its
// session (or the node is stopping).
void step_down(leader_elector_ptr self, const caf::error& reason) {
  auto& st = self->state;
  auto command = std::move(st.command);
  st.command = nullptr;
  // Closes the port, so that links find the new leader instead.
  unpublish_command_node(self->system(), command, st.cfg.listen_port,
                         st.cfg.tls);
  st.cfg.route->clear();
  caf::anon_send(st.cfg.link, atom::local_v, command_node_actor{});
  set_state(st, false);
  CQRS_LOG(warning, "leader_elector",
           "stepped down ("
               << (reason == ec::not_leader ? error_message(reason)
                                            : caf::to_string(reason))
               << "): this node is a standby and tries the "
                  "leader lock again");
  schedule_attempt(self);
}

void attempt(leader_elector_ptr self) {
  auto& st = self->state;
  if (st.command)
    return;
  auto store =
      try_to_lead(st.cfg.command, st.cfg.lease, st.cfg.fenced, st.session);
  if (!store) {
    if (!st.unreachable)
      CQRS_LOG(warning, "leader_elector",
               "cannot try the leader lock: "
                   << error_message(store.error()) << "; trying again every "
                   << std::chrono::duration_cast<std::chrono::milliseconds>(
                          retry_interval(st.cfg))
                          .count()
                   << " ms");
    st.unreachable = true;
    schedule_attempt(self);
    return;
  }
  if (st.unreachable)
    CQRS_LOG(info, "leader_elector", "the database answers again");
  st.unreachable = false;
  if (*store)
    lead(self, std::move(*store));
  else
    schedule_attempt(self);
}

} // namespace

leader_elector_actor::behavior_type
leader_elector_impl(leader_elector_ptr self, leader_elector_config cfg,
                    store_slot first) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& st = self->state;
    if (!st.command || msg.source != st.command.address())
      return;
    if (is_shutdown(msg.reason)) {
      st.command = nullptr;
      return;
    }
    step_down(self, msg.reason);
  });
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    auto& st = self->state;
    if (st.command)
      self->send_exit(st.command, msg.reason);
    self->quit(msg.reason);
  });
  if (first && *first) {
    lead(self, std::move(*first));
  } else {
    set_state(st, false);
    // The link looks for the leader among the remote command nodes.
    caf::anon_send(st.cfg.link, atom::local_v, command_node_actor{});
    CQRS_LOG(info, "leader_elector",
             "this node is a standby: another command node holds the "
             "leader lock. It serves reads, forwards writes to the leader "
             "and tries the lock every "
                 << std::chrono::duration_cast<std::chrono::milliseconds>(
                        retry_interval(st.cfg))
                        .count()
                 << " ms");
    schedule_attempt(self);
  }
  return {
      [self](atom::tick) { attempt(self); },
  };
}

} // namespace cqrs
