// The command actor.
#include "actors/command_actor.hpp"

#include <caf/event_based_actor.hpp>

#include "common/error.hpp"
#include "common/logging.hpp"

namespace cqrs {

command_actor_state::~command_actor_state() {
  for (auto& rp : promises)
    rp.deliver(make_cqrs_error(ec::actor_unavailable,
                               "the command actor stopped before the commit"));
  if (cfg.handover && store && !store->deposed())
    *cfg.handover = std::move(store);
}

void command_actor_state::prune_idempotency_keys(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now < next_prune)
    return;
  next_prune = now + prune_interval;
  auto pruned = store->prune_idempotency_keys();
  if (!pruned)
    CQRS_LOG(warning, "command_actor",
             "cannot prune expired idempotency keys: "
                 << error_message(pruned.error()));
  else if (*pruned > 0)
    CQRS_LOG(info, "command_actor",
             "pruned " << *pruned << " idempotency keys older than "
                       << store->idempotency_ttl().count() << " s");
}

void command_actor_state::flush() {
  if (batch.empty())
    return;
  prune_idempotency_keys(false);
  auto results = store->apply(batch);
  invalidation inv;
  size_t replays = 0;
  for (auto& r : results) {
    if (!r)
      continue;
    // A replay changed nothing: its seq is the first commit's.
    if (r->replayed) {
      ++replays;
      continue;
    }
    if (inv.from_seq == 0)
      inv.from_seq = r->seq;
    inv.to_seq = r->seq;
    inv.keys.insert(inv.keys.end(), r->changed.begin(), r->changed.end());
  }
  if (replays > 0)
    CQRS_LOG(debug, "command_actor",
             replays << " of " << results.size()
                     << " writes answered from their Idempotency-Key");
  if (inv.to_seq != 0) {
    inv.committed_at_ns = wall_clock_ns();
    node_counters::add(cfg.counters->commits, inv.to_seq - inv.from_seq + 1);
    node_counters::add(cfg.counters->write_transactions);
    node_counters::set(cfg.counters->current_seq, inv.to_seq);
    // Publish before answering, so the batch is on its way to the hubs
    // before a client can ask for it with X-Min-Seq.
    caf::anon_send(publisher, atom::invalidate_v, std::move(inv));
  }
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i])
      promises[i].deliver(std::move(*results[i]));
    else
      promises[i].deliver(std::move(results[i].error()));
  }
  batch.clear();
  promises.clear();
}

namespace {

// The leader's write store lost the lock: stop, and let the node step down.
void step_down(command_actor_ptr self) {
  CQRS_LOG(warning, "command_actor",
           "the write session lost the leader lock; this node no longer "
           "writes");
  self->quit(make_cqrs_error(ec::not_leader,
                             "the command actor lost the leader lock"));
}

} // namespace

command_actor::behavior_type command_actor_impl(command_actor_ptr self,
                                                command_actor_config cfg,
                                                command_node_actor publisher) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.publisher = std::move(publisher);
  auto store = st.cfg.open_store
                   ? st.cfg.open_store()
                   : write_store::open(st.cfg.database, st.cfg.dom,
                                       st.cfg.idempotency_ttl);
  if (!store) {
    if (store.error() == ec::not_leader)
      CQRS_LOG(warning, "command_actor", error_message(store.error()));
    else
      CQRS_LOG(error, "command_actor",
               "cannot open write store: " << error_message(store.error()));
    self->quit(store.error());
    return command_actor::behavior_type::make_empty_behavior();
  }
  st.store = std::move(*store);
  node_counters::set(st.cfg.counters->current_seq, st.store->last_seq());
  CQRS_LOG(info, "command_actor",
           "write store open, last seq " << st.store->last_seq());
  st.prune_idempotency_keys(true);
  if (st.cfg.faults)
    st.fault = st.cfg.faults->command_actor();
  auto keep_alive_interval = st.cfg.leader_lease / 4;
  if (keep_alive_interval.count() > 0)
    self->delayed_send(self, keep_alive_interval, atom::tick_v);
  return {
      [self](atom::apply, command& cmd) {
        auto& st = self->state;
        auto rp = self->make_response_promise<write_result>();
        st.batch.push_back(std::move(cmd));
        st.promises.push_back(rp);
        if (st.fault) {
          if (auto err = st.fault->on_command(st.batch.size())) {
            // A testing build's fault: die with the batch queued and
            // uncommitted.
            self->quit(std::move(err));
            return rp;
          }
        }
        // Commands already in the mailbox join this batch: the flush message
        // queues up behind them.
        if (st.batch.size() == 1)
          self->send(self, atom::flush_v);
        else if (st.batch.size() >= st.cfg.max_batch)
          st.flush();
        return rp;
      },
      [self](atom::flush) {
        auto& st = self->state;
        st.flush();
        if (st.store->deposed())
          step_down(self);
      },
      [self, keep_alive_interval](atom::tick) {
        if (!self->state.store->keep_alive()) {
          step_down(self);
          return;
        }
        self->delayed_send(self, keep_alive_interval, atom::tick_v);
      },
  };
}

} // namespace cqrs
