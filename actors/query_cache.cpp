// A bounded LRU cache of read answers with a reverse index.
#include "actors/query_cache.hpp"

#include <algorithm>
#include <utility>

#include "model/row_key.hpp"

namespace cqrs {

query_cache::query_cache(size_t max_entries)
    : max_entries_(std::max<size_t>(max_entries, 1)) {
  // nop
}

const query_cache::entry* query_cache::find(const std::string& key) {
  auto i = entries_.find(key);
  if (i == entries_.end())
    return nullptr;
  if (i->second.lru_pos != lru_.begin())
    lru_.splice(lru_.begin(), lru_, i->second.lru_pos);
  i->second.read = true;
  return &i->second.value;
}

size_t query_cache::insert(const std::string& key, entry value) {
  if (auto i = entries_.find(key); i != entries_.end())
    erase(i);
  size_t evicted = 0;
  while (entries_.size() >= max_entries_) {
    erase(entries_.find(lru_.back()));
    ++evicted;
  }
  lru_.push_front(key);
  for (const auto& dep : value.dependencies)
    dependents_[dep].insert(key);
  entries_.emplace(key, slot{std::move(value), lru_.begin()});
  return evicted;
}

size_t query_cache::invalidate(const std::vector<std::string>& row_keys) {
  return evict_dependents_of(eviction_keys(row_keys));
}

size_t query_cache::evict_dependents_of(const std::vector<std::string>& keys,
                                        std::vector<query>* read_again) {
  size_t evicted = 0;
  // Most caches of a large pool are empty: skip the hashing then.
  if (entries_.empty())
    return evicted;
  for (const auto& key : keys)
    evict_dependents(key, evicted, read_again);
  return evicted;
}

void query_cache::clear() {
  entries_.clear();
  lru_.clear();
  dependents_.clear();
}

void query_cache::erase(std::unordered_map<std::string, slot>::iterator i) {
  for (const auto& dep : i->second.value.dependencies) {
    auto d = dependents_.find(dep);
    if (d == dependents_.end())
      continue;
    d->second.erase(i->first);
    if (d->second.empty())
      dependents_.erase(d);
  }
  lru_.erase(i->second.lru_pos);
  entries_.erase(i);
}

void query_cache::evict_dependents(const std::string& row_key, size_t& evicted,
                                   std::vector<query>* read_again) {
  auto d = dependents_.find(row_key);
  if (d == dependents_.end())
    return;
  // Move the set out: erase() edits dependents_ while we iterate.
  auto keys = std::move(d->second);
  dependents_.erase(d);
  for (const auto& key : keys) {
    if (auto i = entries_.find(key); i != entries_.end()) {
      if (read_again != nullptr && i->second.read)
        read_again->push_back(std::move(i->second.value.q));
      erase(i);
      ++evicted;
    }
  }
}

// -- cache_invalidation -------------------------------------------------------

cache_invalidation_ptr cache_invalidation::of(const invalidation& inv) {
  auto result = std::make_shared<cache_invalidation>();
  result->to_seq = inv.to_seq;
  result->changed = inv.keys;
  result->eviction_keys = cqrs::eviction_keys(inv.keys);
  return result;
}

// -- shared_query_cache -------------------------------------------------------

shared_query_cache::shared_query_cache(size_t max_entries, bool enabled,
                                       bool refresh)
    : cache_(max_entries), enabled_(enabled), refresh_(refresh) {
  // nop
}

std::optional<read_answer> shared_query_cache::hit(const std::string& key,
                                                   seq_t min_seq) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!serving_ || min_seq > applied_seq_)
    return std::nullopt;
  auto e = cache_.find(key);
  if (!e)
    return std::nullopt;
  // The entry survived every invalidation up to applied_seq, so it is
  // consistent with the database at that seq.
  return read_answer{e->found, e->body, std::max(applied_seq_, e->read_seq)};
}

shared_query_cache::fill_ticket shared_query_cache::start_fill() {
  std::lock_guard<std::mutex> guard{mtx_};
  ++open_fills_[next_log_pos_];
  return fill_ticket{next_log_pos_, applied_seq_, epoch_, serving_};
}

shared_query_cache::fill_outcome
shared_query_cache::finish_fill(const fill_ticket& ticket,
                                const std::string& key,
                                query_cache::entry value, size_t& evicted) {
  evicted = 0;
  std::lock_guard<std::mutex> guard{mtx_};
  auto outcome = fill_outcome::not_caching;
  if (serving_) {
    if (cacheable(ticket, value)) {
      evicted = cache_.insert(key, std::move(value));
      outcome = fill_outcome::cached;
    } else {
      outcome = fill_outcome::refused;
    }
  }
  end_fill(ticket);
  return outcome;
}

void shared_query_cache::abandon_fill(const fill_ticket& ticket) {
  std::lock_guard<std::mutex> guard{mtx_};
  end_fill(ticket);
}

bool shared_query_cache::cacheable(const fill_ticket& ticket,
                                   const query_cache::entry& value) const {
  // Caching stopped since the fill started (or it had not started yet):
  // batches may have been missed altogether.
  if (!ticket.serving_at_start || ticket.epoch != epoch_)
    return false;
  // The snapshot predates batches applied before the fill started (a
  // lagging replica); those are no longer remembered.
  if (value.read_seq < ticket.applied_at_start)
    return false;
  // The log is ordered by position; it starts at or before the ticket's.
  for (auto i = log_.rbegin(); i != log_.rend() && i->pos >= ticket.log_pos;
       ++i)
    if (i->batch->to_seq > value.read_seq &&
        touches(i->batch->changed, value.dependencies))
      return false;
  return true;
}

void shared_query_cache::end_fill(const fill_ticket& ticket) {
  if (auto i = open_fills_.find(ticket.log_pos); i != open_fills_.end())
    if (--i->second == 0)
      open_fills_.erase(i);
  if (open_fills_.empty()) {
    log_.clear();
    return;
  }
  auto oldest = open_fills_.begin()->first;
  while (!log_.empty() && log_.front().pos < oldest)
    log_.pop_front();
}

size_t shared_query_cache::apply(const cache_invalidation_ptr& batch,
                                 bool* refresh_due) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto had_refreshes = !refreshes_.empty();
  auto keep = refresh_ && serving_ && refreshes_.size() < max_refreshes;
  auto evicted = cache_.evict_dependents_of(batch->eviction_keys,
                                            keep ? &refreshes_ : nullptr);
  if (refreshes_.size() > max_refreshes)
    refreshes_.resize(max_refreshes);
  if (refresh_due != nullptr)
    *refresh_due = !had_refreshes && !refreshes_.empty();
  applied_seq_ = std::max(applied_seq_, batch->to_seq);
  if (!open_fills_.empty() && !closed_)
    log_.push_back(logged_batch{next_log_pos_++, batch});
  return evicted;
}

std::vector<query> shared_query_cache::take_refreshes() {
  std::lock_guard<std::mutex> guard{mtx_};
  return std::exchange(refreshes_, {});
}

seq_t shared_query_cache::applied_seq() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return applied_seq_;
}

void shared_query_cache::advance(seq_t seq) {
  std::lock_guard<std::mutex> guard{mtx_};
  applied_seq_ = std::max(applied_seq_, seq);
}

void shared_query_cache::set_caching(bool on) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto serving = on && enabled_ && !closed_;
  if (serving_ && !serving)
    ++epoch_;
  serving_ = serving;
  if (!serving_) {
    cache_.clear();
    refreshes_.clear();
  }
}

void shared_query_cache::close() {
  std::lock_guard<std::mutex> guard{mtx_};
  closed_ = true;
  if (serving_)
    ++epoch_;
  serving_ = false;
  cache_.clear();
  refreshes_.clear();
  // Fills still in flight can no longer be cached: nothing to remember.
  log_.clear();
  open_fills_.clear();
}

size_t shared_query_cache::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return cache_.size();
}

size_t shared_query_cache::remembered_batches() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return log_.size();
}

// -- free functions -----------------------------------------------------------

std::vector<std::string>
eviction_keys(const std::vector<std::string>& changed) {
  // A batch may change one row many times, and every cache of the node
  // looks up each key: keep each once.
  std::vector<std::string> result;
  result.reserve(changed.size() + 4);
  std::unordered_set<std::string> seen;
  auto add = [&](std::string key) {
    if (!key.empty() && seen.insert(key).second)
      result.push_back(std::move(key));
  };
  for (const auto& key : changed) {
    add(key);
    add(table_key_of(key));
  }
  return result;
}

bool touches(const std::vector<std::string>& changed,
             const std::vector<std::string>& dependencies) {
  for (const auto& key : changed) {
    auto whole_table = table_key_of(key);
    for (const auto& dep : dependencies)
      if (dep == key || dep == whole_table)
        return true;
  }
  return false;
}

} // namespace cqrs
