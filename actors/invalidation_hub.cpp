// The invalidation hub.
#include "actors/invalidation_hub.hpp"

#include <algorithm>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "common/error.hpp"
#include "common/logging.hpp"

namespace cqrs {

void invalidation_hub_state::fan_out(const invalidation& inv) {
  // Applied to each cache directly, under its own lock: no message, mailbox
  // element or wake-up per query actor, which is what made a batch cost
  // about 1.5 µs per actor. The batch and its eviction keys are built once.
  auto batch = cache_invalidation::of(inv);
  size_t evicted = 0;
  for (auto& [addr, sub] : subscribers) {
    // A message only to an actor with entries to read again, once until it
    // takes them (actors/query_cache.hpp, "Refresh").
    bool refresh_due = false;
    evicted += sub.cache->apply(batch, &refresh_due);
    if (refresh_due)
      caf::anon_send(sub.actor, atom::refresh_v);
  }
  node_counters::add(cfg.counters->invalidations_applied, subscribers.size());
  if (evicted > 0)
    node_counters::add(cfg.counters->invalidation_evictions, evicted);
  if (inv.committed_at_ns != 0 && !subscribers.empty())
    cfg.counters->invalidation_lag.observe(
        std::chrono::nanoseconds{wall_clock_ns() - inv.committed_at_ns});
  applied_seq = std::max(applied_seq, inv.to_seq);
  node_counters::set(cfg.counters->applied_seq, applied_seq);
  node_counters::raise(cfg.counters->current_seq, applied_seq);
  auto done = [this](pending_sync& s) {
    if (s.seq > applied_seq)
      return false;
    s.promise.deliver(applied_seq);
    return true;
  };
  syncs.erase(std::remove_if(syncs.begin(), syncs.end(), done), syncs.end());
}

invalidation
invalidation_hub_state::merge(const std::vector<commit_entry>& entries) const {
  invalidation inv;
  auto next = applied_seq + 1;
  for (const auto& e : entries) {
    if (e.seq < next)
      continue;
    if (e.seq > next)
      break; // A hole in commit_log: not committed yet, read again later.
    if (inv.from_seq == 0)
      inv.from_seq = e.seq;
    inv.to_seq = e.seq;
    inv.keys.insert(inv.keys.end(), e.changed.begin(), e.changed.end());
    ++next;
  }
  return inv;
}

void invalidation_hub_state::set_caching(bool on, const char* why) {
  if (caching == on)
    return;
  caching = on;
  node_counters::set(cfg.counters->caches_in_use, on ? 1 : 0);
  if (on) {
    CQRS_LOG(info, "invalidation_hub",
             "caches in use again at seq " << applied_seq << " (" << why
                                           << ")");
  } else {
    node_counters::add(cfg.counters->cache_flushes);
    CQRS_LOG(warning, "invalidation_hub",
             "caches flushed, reads go to the database (" << why << ")");
  }
  for (auto& [addr, sub] : subscribers)
    sub.cache->set_caching(on);
}

seq_t invalidation_hub_state::wanted_seq() const {
  seq_t result = 0;
  for (const auto& s : syncs)
    result = std::max(result, s.seq);
  return result;
}

namespace {

void process(invalidation_hub_ptr self, invalidation inv);

void catch_up(invalidation_hub_ptr self, seq_t up_to);

// The seq the hub must reach: what syncs wait for, what the command node
// reported while linked, and what the first queued batch continues from.
seq_t target_seq(const invalidation_hub_state& st) {
  auto result =
      std::max(st.wanted_seq(), st.linked ? st.command_seq : seq_t{0});
  if (!st.queued.empty())
    result = std::max(result, st.queued.front().from_seq - 1);
  return result;
}

void schedule_retry(invalidation_hub_ptr self) {
  auto& st = self->state;
  if (st.retry_scheduled)
    return;
  st.retry_scheduled = true;
  self->delayed_send(self, st.cfg.retry_interval, atom::retry_v);
}

// Whether heartbeats arrive often enough to trust that no batch is lost.
bool heartbeat_fresh(invalidation_hub_ptr self) {
  auto& st = self->state;
  return st.cfg.heartbeat_timeout.count() == 0 ||
         self->clock().now() - st.last_heartbeat <= st.cfg.heartbeat_timeout;
}

// Turns caching on once the hub is linked, hears heartbeats and has caught
// up with the command node; catches up first when it lags.
void resume(invalidation_hub_ptr self, const char* why) {
  auto& st = self->state;
  if (!st.linked || !heartbeat_fresh(self))
    return;
  if (st.applied_seq < st.command_seq) {
    if (!st.catching_up && !st.retry_scheduled)
      catch_up(self, st.command_seq);
    return;
  }
  if (!st.catching_up)
    st.set_caching(true, why);
}

// Reads commits after applied_seq up to `up_to` from commit_log, applies
// them, then replays the batches that queued up meanwhile.
void catch_up(invalidation_hub_ptr self, seq_t up_to) {
  auto& st = self->state;
  st.catching_up = true;
  node_counters::add(st.cfg.counters->catch_ups);
  self->request(st.reader, st.cfg.sync_timeout, atom::commits_v, st.applied_seq,
                up_to)
      .then(
          [self](std::vector<commit_entry>& entries) {
            auto& st = self->state;
            auto inv = st.merge(entries);
            st.catching_up = false;
            if (inv.to_seq == 0 && !st.queued.empty()) {
              // The gap is not readable yet (e.g. a lagging replica): keep
              // the batches queued and read again after a pause.
              schedule_retry(self);
              return;
            }
            if (inv.to_seq != 0)
              st.fan_out(inv);
            auto queued = std::move(st.queued);
            st.queued.clear();
            for (auto& batch : queued)
              process(self, std::move(batch));
            if (st.catching_up)
              return;
            // Still behind (the commits are not readable yet, e.g. on a
            // lagging replica): read again after a pause, not in a loop.
            if (st.applied_seq < target_seq(st))
              schedule_retry(self);
            else
              resume(self, "caught up");
          },
          [self](caf::error& err) {
            auto& st = self->state;
            CQRS_LOG(warning, "invalidation_hub",
                     "reading commit_log failed: " << error_message(err));
            st.catching_up = false;
            // Batches cannot be applied in order now: stop trusting caches.
            st.set_caching(false, "commit_log unreadable");
            schedule_retry(self);
          });
}

// Applies a batch from the command actor, or queues it behind a catch-up.
void process(invalidation_hub_ptr self, invalidation inv) {
  auto& st = self->state;
  // Behind a catch-up or a gap waiting for its retry: keep the order.
  if (st.catching_up || !st.queued.empty()) {
    st.queued.push_back(std::move(inv));
    return;
  }
  if (inv.to_seq <= st.applied_seq)
    return; // Already applied through commit_log.
  if (inv.from_seq > st.applied_seq + 1) {
    CQRS_LOG(info, "invalidation_hub",
             "gap: applied " << st.applied_seq << ", batch starts at "
                             << inv.from_seq << "; reading commit_log");
    st.queued.push_back(std::move(inv));
    catch_up(self, st.queued.back().from_seq - 1);
    return;
  }
  st.fan_out(inv);
}

} // namespace

hub_actor::behavior_type invalidation_hub_impl(invalidation_hub_ptr self,
                                               invalidation_hub_config cfg,
                                               reader_actor reader) {
  auto& st = self->state;
  st.cfg = cfg;
  st.reader = std::move(reader);
  st.applied_seq = cfg.initial_seq;
  if (cfg.faults)
    st.fault = cfg.faults->hub();
  node_counters::set(cfg.counters->applied_seq, st.applied_seq);
  st.last_heartbeat = self->clock().now();
  if (cfg.heartbeat_timeout.count() > 0)
    self->delayed_send(self, cfg.heartbeat_timeout, atom::tick_v);
  self->set_down_handler([self](const caf::down_msg& msg) {
    self->state.subscribers.erase(msg.source);
  });
  return {
      [self](atom::invalidate, invalidation& inv) {
        auto& st = self->state;
        // The seq the command node reached, even for a batch that waits.
        node_counters::raise(st.cfg.counters->current_seq, inv.to_seq);
        if (st.fault && st.fault->drop(inv))
          return; // A testing build's fault: the batch is lost.
        process(self, std::move(inv));
      },
      [self](atom::subscribe, query_actor& sub, query_cache_ptr& cache) {
        auto& st = self->state;
        // A query actor that died already is reported down at once.
        self->monitor(sub);
        cache->advance(st.applied_seq);
        cache->set_caching(st.caching);
        auto addr = sub.address();
        st.subscribers.emplace(std::move(addr),
                               invalidation_hub_state::subscriber{
                                   std::move(sub), std::move(cache)});
      },
      [self](atom::sync, seq_t seq) -> caf::result<seq_t> {
        auto& st = self->state;
        if (seq <= st.applied_seq)
          return st.applied_seq;
        auto rp = self->make_response_promise<seq_t>();
        st.syncs.push_back(
            {seq, rp, self->clock().now() + st.cfg.sync_timeout});
        if (!st.catching_up)
          catch_up(self, st.wanted_seq());
        return rp;
      },
      [self](atom::heartbeat, seq_t seq) {
        auto& st = self->state;
        st.last_heartbeat = self->clock().now();
        node_counters::raise(st.cfg.counters->current_seq, seq);
        if (seq > st.applied_seq && seq > st.command_seq)
          CQRS_LOG(info, "invalidation_hub",
                   "heartbeat reports seq " << seq << ", applied only "
                                            << st.applied_seq
                                            << "; reading commit_log");
        st.command_seq = std::max(st.command_seq, seq);
        resume(self, "heartbeat");
      },
      [self](atom::connected, seq_t seq) {
        auto& st = self->state;
        st.linked = true;
        node_counters::set(st.cfg.counters->command_node_linked, 1);
        st.last_heartbeat = self->clock().now();
        st.command_seq = std::max(st.command_seq, seq);
        node_counters::raise(st.cfg.counters->current_seq, seq);
        resume(self, "linked to the command node");
      },
      [self](atom::disconnect) {
        auto& st = self->state;
        st.linked = false;
        node_counters::set(st.cfg.counters->command_node_linked, 0);
        st.set_caching(false, "lost the command node");
      },
      [self](atom::tick) {
        auto& st = self->state;
        if (st.linked && !heartbeat_fresh(self))
          st.set_caching(false, "no heartbeat from the command node");
        self->delayed_send(self, st.cfg.heartbeat_timeout, atom::tick_v);
      },
      [self](atom::retry) {
        auto& st = self->state;
        st.retry_scheduled = false;
        auto now = self->clock().now();
        auto expired = [&](invalidation_hub_state::pending_sync& s) {
          if (s.deadline > now)
            return false;
          s.promise.deliver(make_cqrs_error(ec::min_seq_timeout,
                                            "seq " + std::to_string(s.seq) +
                                                " is not in commit_log"));
          return true;
        };
        st.syncs.erase(
            std::remove_if(st.syncs.begin(), st.syncs.end(), expired),
            st.syncs.end());
        if (!st.catching_up && target_seq(st) > st.applied_seq)
          catch_up(self, target_seq(st));
        else if (!st.catching_up)
          resume(self, "caught up");
      },
  };
}

} // namespace cqrs
