// The invalidation hub.
#include "actors/invalidation_hub.hpp"

#include <algorithm>

#include <caf/event_based_actor.hpp>

#include "config/logging.hpp"
#include "db/error.hpp"

namespace cqrs {

void invalidation_hub_state::fan_out(caf::local_actor* self,
                                     const invalidation& inv) {
  for (auto& sub : subscribers)
    caf::anon_send(sub, atom::invalidate_v, inv);
  applied_seq = std::max(applied_seq, inv.to_seq);
  node_counters::set(cfg.counters->applied_seq, applied_seq);
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

seq_t invalidation_hub_state::wanted_seq() const {
  seq_t result = 0;
  for (const auto& s : syncs)
    result = std::max(result, s.seq);
  return result;
}

namespace {

void process(invalidation_hub_ptr self, invalidation inv);

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
            if (inv.to_seq != 0)
              st.fan_out(self, inv);
            st.catching_up = false;
            auto queued = std::move(st.queued);
            st.queued.clear();
            for (auto& batch : queued)
              process(self, std::move(batch));
            if (!st.catching_up && st.wanted_seq() > st.applied_seq &&
                !st.retry_scheduled) {
              st.retry_scheduled = true;
              self->delayed_send(self, st.cfg.retry_interval, atom::retry_v);
            }
          },
          [self](caf::error& err) {
            auto& st = self->state;
            CQRS_LOG(warning, "invalidation_hub",
                     "reading commit_log failed: " << error_message(err));
            st.catching_up = false;
            if (!st.retry_scheduled) {
              st.retry_scheduled = true;
              self->delayed_send(self, st.cfg.retry_interval, atom::retry_v);
            }
          });
}

// Applies a batch from the command actor, or queues it behind a catch-up.
void process(invalidation_hub_ptr self, invalidation inv) {
  auto& st = self->state;
  if (st.catching_up) {
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
  st.fan_out(self, inv);
}

} // namespace

hub_actor::behavior_type invalidation_hub_impl(invalidation_hub_ptr self,
                                               invalidation_hub_config cfg,
                                               reader_actor reader) {
  auto& st = self->state;
  st.cfg = cfg;
  st.reader = std::move(reader);
  st.applied_seq = cfg.initial_seq;
  node_counters::set(cfg.counters->applied_seq, st.applied_seq);
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const query_actor& sub) {
                                return sub.address() == msg.source;
                              }),
               subs.end());
  });
  return {
      [self](atom::invalidate, invalidation& inv) {
        process(self, std::move(inv));
      },
      [self](atom::subscribe, query_actor& sub) {
        self->monitor(sub);
        self->state.subscribers.push_back(std::move(sub));
        return self->state.applied_seq;
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
      [self](atom::status) { return self->state.applied_seq; },
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
        if (!st.catching_up && st.wanted_seq() > st.applied_seq)
          catch_up(self, st.wanted_seq());
      },
  };
}

} // namespace cqrs
