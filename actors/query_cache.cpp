// A bounded LRU cache of read answers with a reverse index.
#include "actors/query_cache.hpp"

#include <algorithm>

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
  size_t evicted = 0;
  for (const auto& key : row_keys) {
    evict_dependents(key, evicted);
    auto whole_table = table_key_of(key);
    if (!whole_table.empty() && whole_table != key)
      evict_dependents(whole_table, evicted);
  }
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

void query_cache::evict_dependents(const std::string& row_key,
                                   size_t& evicted) {
  auto d = dependents_.find(row_key);
  if (d == dependents_.end())
    return;
  // Move the set out: erase() edits dependents_ while we iterate.
  auto keys = std::move(d->second);
  dependents_.erase(d);
  for (const auto& key : keys) {
    if (auto i = entries_.find(key); i != entries_.end()) {
      erase(i);
      ++evicted;
    }
  }
}

// -- shared_query_cache -------------------------------------------------------

shared_query_cache::shared_query_cache(size_t max_entries)
    : cache_(max_entries) {
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

size_t shared_query_cache::insert(const std::string& key,
                                  query_cache::entry value) {
  std::lock_guard<std::mutex> guard{mtx_};
  return serving_ ? cache_.insert(key, std::move(value)) : 0;
}

size_t shared_query_cache::invalidate(const std::vector<std::string>& row_keys,
                                      seq_t to_seq) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto evicted = cache_.invalidate(row_keys);
  applied_seq_ = std::max(applied_seq_, to_seq);
  return evicted;
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
  serving_ = on && !closed_;
  if (!serving_)
    cache_.clear();
}

void shared_query_cache::close() {
  std::lock_guard<std::mutex> guard{mtx_};
  closed_ = true;
  serving_ = false;
  cache_.clear();
}

size_t shared_query_cache::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return cache_.size();
}

// -- free functions -----------------------------------------------------------

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
