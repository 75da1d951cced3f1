// A bounded LRU cache of read answers with a reverse index from row keys to
// the cached entries that depend on them.
#pragma once

#include <cstddef>
#include <list>
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

/// Returns whether any of `changed` (row keys) hits any of `dependencies`,
/// directly or through a table-wide dependency such as "category:*".
bool touches(const std::vector<std::string>& changed,
             const std::vector<std::string>& dependencies);

} // namespace cqrs
