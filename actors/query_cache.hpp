// A bounded LRU cache of read answers with a reverse index from row keys to
// the cached entries that depend on them.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "actors/messages.hpp"

namespace cqrs {

/// The cache of one query actor. Not thread-safe: one actor owns it.
class query_cache {
public:
  /// A cached answer: found or not (negative caching), its body, the seq it
  /// was read at and the row keys it depends on.
  struct entry {
    bool found = false;
    body_ptr body;
    seq_t read_seq = 0;
    std::vector<std::string> dependencies;
  };

  /// Creates a cache holding at most `max_entries` entries.
  explicit query_cache(size_t max_entries);

  /// Returns the entry for `key` and marks it most recently used, or null.
  const entry* find(const std::string& key);

  /// Inserts or replaces the entry for `key`, evicting the least recently
  /// used entries beyond the bound. Returns how many were evicted.
  size_t insert(const std::string& key, entry value);

  /// Evicts every entry depending on one of `row_keys`, or on the table-wide
  /// key of one of them ("category:7" also hits entries on "category:*").
  /// Returns how many were evicted.
  size_t invalidate(const std::vector<std::string>& row_keys);

  /// Drops every entry.
  void clear();

  size_t size() const noexcept { return entries_.size(); }

  size_t max_entries() const noexcept { return max_entries_; }

private:
  struct slot {
    entry value;
    std::list<std::string>::iterator lru_pos;
  };

  void erase(std::unordered_map<std::string, slot>::iterator i);

  void evict_dependents(const std::string& row_key, size_t& evicted);

  size_t max_entries_;
  /// Most recently used at the front.
  std::list<std::string> lru_;
  std::unordered_map<std::string, slot> entries_;
  /// Row key -> cache keys of the entries that depend on it.
  std::unordered_map<std::string, std::unordered_set<std::string>> dependents_;
};

/// A query actor's cache, shared with the HTTP threads so that they answer
/// hits without a message round trip to the actor.
///
/// Only the owning actor changes what is cached: it inserts fills, applies
/// invalidations, switches caching on and off and closes the cache when it
/// stops. HTTP threads only look up (which reorders the LRU list). One mutex
/// guards it all; each critical section is a hash lookup, an LRU splice or
/// one invalidation, so contention stays low. `applied_seq` is kept here in
/// the same critical section as the evictions it stands for, so a hit is
/// consistent with the seq it reports.
class shared_query_cache {
public:
  /// Creates a closed cache that does not serve until `set_caching(true)`.
  explicit shared_query_cache(size_t max_entries);

  /// Answers `key` from the cache when the cache serves and has applied
  /// `min_seq`; otherwise returns nothing and the read goes to the actor.
  std::optional<read_answer> hit(const std::string& key, seq_t min_seq = 0);

  /// Caches an entry; returns how many entries it evicted for room. Ignored
  /// unless the cache serves.
  size_t insert(const std::string& key, query_cache::entry value);

  /// Evicts every entry touched by `row_keys` and advances `applied_seq` to
  /// `to_seq`. Returns how many entries were evicted.
  size_t invalidate(const std::vector<std::string>& row_keys, seq_t to_seq);

  /// Advances `applied_seq` to `seq` (when the actor subscribed).
  void advance(seq_t seq);

  /// Starts serving again (`on`), or stops and drops every entry.
  void set_caching(bool on);

  /// Stops serving for good: the owning actor stopped and no longer sees
  /// invalidations.
  void close();

  /// The number of cached entries.
  size_t size() const;

  /// The last seq whose invalidations the owning actor applied.
  seq_t applied_seq() const;

private:
  mutable std::mutex mtx_;
  query_cache cache_;
  seq_t applied_seq_ = 0;
  bool serving_ = false;
  bool closed_ = false;
};

/// Returns whether any of `changed` (row keys) hits any of `dependencies`,
/// directly or through a table-wide dependency such as "category:*".
bool touches(const std::vector<std::string>& changed,
             const std::vector<std::string>& dependencies);

} // namespace cqrs
