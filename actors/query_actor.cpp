// The query actor: answers reads from a private read-through cache.
#include "actors/query_actor.hpp"

#include <algorithm>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>

#include "common/error.hpp"
#include "common/logging.hpp"

namespace cqrs {

query_actor_state::query_actor_state() {
  // nop
}

query_actor_state::~query_actor_state() {
  if (cache)
    cache->close();
  auto gone = make_cqrs_error(ec::actor_unavailable,
                              "the query actor serving the read stopped");
  for (auto& [key, fill] : fills)
    for (auto& w : fill.waiters)
      w.promise.deliver(gone);
  for (auto& [ticket, p] : parked)
    p.second.deliver(gone);
  for (auto& [key, retry] : retries)
    for (auto& w : retry.second)
      w.promise.deliver(gone);
}

// -- reads --------------------------------------------------------------------

std::optional<std::string> query_actor_state::enqueue(const read_request& req,
                                                      waiter w) {
  if (cfg.cache_enabled) {
    if (auto i = fills.find(req.key); i != fills.end()) {
      node_counters::add(cfg.counters->single_flight_merges);
      i->second.waiters.push_back(std::move(w));
      return std::nullopt;
    }
  }
  // Without a cache, every read runs its own fill: what a user without cqrsd
  // would get. Such fills are keyed uniquely.
  auto key = cfg.cache_enabled
                 ? req.key
                 : req.key + "#" + std::to_string(next_uncached_fill++);
  add_fill(key, req.q).waiters.push_back(std::move(w));
  return key;
}

bool query_actor_state::enqueue_refresh(const std::string& key,
                                        const query& q) {
  if (fills.count(key) != 0)
    return false;
  add_fill(key, q);
  return true;
}

query_actor_state::fill_in_flight&
query_actor_state::add_fill(const std::string& key, const query& q) {
  fill_in_flight fill;
  fill.q = q;
  fill.ticket = cache->start_fill();
  return fills.emplace(key, std::move(fill)).first->second;
}

// -- fills --------------------------------------------------------------------

std::vector<query_actor_state::waiter>
query_actor_state::complete_fill(const std::string& key, fill_result& r) {
  auto i = fills.find(key);
  if (i == fills.end())
    return {};
  auto fill = std::move(i->second);
  fills.erase(i);
  size_t evicted = 0;
  auto outcome = cache->finish_fill(
      fill.ticket, key,
      query_cache::entry{r.found, r.body, r.read_seq, std::move(r.dependencies),
                         std::move(fill.q)},
      evicted);
  if (outcome == shared_query_cache::fill_outcome::cached && evicted > 0)
    node_counters::add(cfg.counters->capacity_evictions, evicted);
  else if (outcome == shared_query_cache::fill_outcome::refused)
    node_counters::add(cfg.counters->stale_fills_refused);
  read_answer ans{r.found, r.body, r.read_seq};
  std::vector<waiter> unsatisfied;
  for (auto& w : fill.waiters) {
    if (w.min_seq <= r.read_seq)
      w.promise.deliver(ans);
    else
      unsatisfied.push_back(std::move(w));
  }
  return unsatisfied;
}

void query_actor_state::fail_fill(const std::string& key,
                                  const caf::error& err) {
  auto i = fills.find(key);
  if (i == fills.end())
    return;
  auto fill = std::move(i->second);
  fills.erase(i);
  cache->abandon_fill(fill.ticket);
  auto reason =
      error_code(err) == ec::internal
          ? make_cqrs_error(ec::database_unavailable,
                            "cache fill failed: " + error_message(err))
          : err;
  for (auto& w : fill.waiters)
    w.promise.deliver(reason);
}

// -- behaviour ----------------------------------------------------------------

namespace {

/// Pause before reading again for a read whose snapshot was too old.
constexpr auto refill_pause = std::chrono::milliseconds{5};

// Runs a fill for `key` and completes it; waiters that need a newer snapshot
// get a fresh fill, until their `X-Min-Seq` deadline.
void start_fill(query_actor_ptr self, const std::string& key, query q) {
  auto& st = self->state;
  auto started = std::chrono::steady_clock::now();
  self->request(st.reader, st.cfg.fill_timeout, atom::fill_v, q)
      .then(
          [self, key, q, started](fill_result& r) {
            self->state.cfg.counters->fill_duration.observe_since(started);
            auto again = self->state.complete_fill(key, r);
            if (again.empty())
              return;
            // The snapshot is older than these reads need: read again after
            // a pause, until their deadline.
            auto& pending = self->state.retries[key];
            bool scheduled = !pending.second.empty();
            pending.first = q;
            auto now = self->clock().now();
            for (auto& w : again) {
              if (now >= w.deadline)
                w.promise.deliver(
                    make_cqrs_error(ec::min_seq_timeout,
                                    "the database did not show seq " +
                                        std::to_string(w.min_seq) +
                                        " within query.min_seq_timeout_ms"));
              else
                pending.second.push_back(std::move(w));
            }
            if (pending.second.empty())
              self->state.retries.erase(key);
            else if (!scheduled)
              self->delayed_send(self, refill_pause, atom::retry_v, key);
          },
          [self, key, started](caf::error& err) {
            self->state.cfg.counters->fill_duration.observe_since(started);
            CQRS_LOG(warning, "query_actor",
                     "fill of " << key << " failed: " << error_message(err));
            self->state.fail_fill(key, err);
          });
}

// Returns the cached answer to `req`, counting the hit, if there is one.
std::optional<read_answer> cached(query_actor_ptr self,
                                  const read_request& req) {
  auto& st = self->state;
  auto answer = st.cache->hit(req.key, req.min_seq);
  if (answer)
    st.cfg.counters->hit(req.q.view);
  return answer;
}

// Answers a read that missed the cache into `rp` through a fill.
void fill_for(query_actor_ptr self, const read_request& req,
              query_actor_state::promise_type rp) {
  auto& st = self->state;
  st.cfg.counters->miss(req.q.view);
  auto deadline = self->clock().now() + st.cfg.min_seq_timeout;
  if (auto fill_key = st.enqueue(req, {std::move(rp), req.min_seq, deadline}))
    start_fill(self, *fill_key, req.q);
}

// Answers `req` into `rp` from the cache, or through a fill.
void serve(query_actor_ptr self, const read_request& req,
           query_actor_state::promise_type rp) {
  if (auto answer = cached(self, req))
    rp.deliver(std::move(*answer));
  else
    fill_for(self, req, std::move(rp));
}

} // namespace

query_actor::behavior_type query_actor_impl(query_actor_ptr self,
                                            query_actor_config cfg,
                                            reader_actor reader,
                                            hub_actor hub) {
  auto& st = self->state;
  st.cfg = cfg;
  st.reader = std::move(reader);
  st.cache = cfg.cache ? cfg.cache
                       : std::make_shared<shared_query_cache>(
                             cfg.cache_max_entries, cfg.cache_enabled,
                             cfg.refresh_on_invalidation);
  if (cfg.faults)
    st.fault = cfg.faults->query_actor(cfg.index);
  // From here on the hub applies every batch to the cache itself.
  self->send(hub, atom::subscribe_v, caf::actor_cast<query_actor>(self),
             st.cache);
  return {
      [self, hub](atom::read, read_request& req) -> caf::result<read_answer> {
        auto& st = self->state;
        if (st.fault) {
          if (auto err = st.fault->on_read()) {
            // A testing build's fault: die with this read (and any other)
            // pending.
            auto rp = self->make_response_promise<read_answer>();
            fill_for(self, req, rp);
            self->quit(std::move(err));
            return rp;
          }
        }
        // Fast path: a hit answers without a promise.
        if (auto answer = cached(self, req))
          return std::move(*answer);
        if (req.min_seq <= st.cache->applied_seq()) {
          auto rp = self->make_response_promise<read_answer>();
          fill_for(self, req, rp);
          return rp;
        }
        // Lagging behind X-Min-Seq: ask the hub to bring us up to date. The
        // hub answers after applying every batch up to min_seq to our cache,
        // so by the time its answer arrives, the cache has them.
        auto rp = self->make_response_promise<read_answer>();
        auto ticket = st.next_ticket++;
        auto min_seq = req.min_seq;
        st.parked.emplace(ticket, std::make_pair(std::move(req), rp));
        auto resume = [self, ticket] {
          auto& st = self->state;
          auto i = st.parked.find(ticket);
          if (i == st.parked.end())
            return;
          auto [req, rp] = std::move(i->second);
          st.parked.erase(i);
          if (st.cache->applied_seq() >= req.min_seq)
            serve(self, req, std::move(rp));
          else
            rp.deliver(make_cqrs_error(ec::min_seq_timeout,
                                       "seq " + std::to_string(req.min_seq) +
                                           " was not reached within "
                                           "query.min_seq_timeout_ms"));
        };
        self->request(hub, st.cfg.min_seq_timeout, atom::sync_v, min_seq)
            .then([resume](seq_t) { resume(); },
                  [resume](caf::error&) { resume(); });
        return rp;
      },
      [self](atom::refresh) {
        auto& st = self->state;
        for (auto& q : st.cache->take_refreshes()) {
          auto key = cache_key(q);
          if (!st.enqueue_refresh(key, q))
            continue;
          node_counters::add(st.cfg.counters->cache_refreshes);
          start_fill(self, key, std::move(q));
        }
      },
      [self](atom::retry, const std::string& key) {
        auto& st = self->state;
        auto i = st.retries.find(key);
        if (i == st.retries.end())
          return;
        auto [q, waiters] = std::move(i->second);
        st.retries.erase(i);
        // Fills of a disabled cache carry a unique suffix after '#'.
        read_request req{q, key.substr(0, key.find('#')), 0};
        for (auto& w : waiters)
          if (auto fill_key = st.enqueue(req, std::move(w)))
            start_fill(self, *fill_key, q);
      },
  };
}

} // namespace cqrs
