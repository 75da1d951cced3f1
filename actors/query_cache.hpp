// A bounded LRU cache of read answers with a reverse index from row keys to
// the cached entries that depend on them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
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
  /// was read at, the row keys it depends on and the read that filled it.
  struct entry {
    bool found = false;
    body_ptr body;
    seq_t read_seq = 0;
    std::vector<std::string> dependencies;
    /// What to read again when a write evicts the entry (see
    /// `shared_query_cache`, "refresh").
    query q;
  };

  /// Creates a cache holding at most `max_entries` entries.
  explicit query_cache(size_t max_entries);

  /// Returns the entry for `key` and marks it most recently used and read,
  /// or null.
  const entry* find(const std::string& key);

  /// Inserts or replaces the entry for `key`, evicting the least recently
  /// used entries beyond the bound. Returns how many were evicted.
  size_t insert(const std::string& key, entry value);

  /// Evicts every entry depending on one of `row_keys`, or on the table-wide
  /// key of one of them ("category:7" also hits entries on "category:*").
  /// Returns how many were evicted.
  size_t invalidate(const std::vector<std::string>& row_keys);

  /// Evicts every entry depending on one of `keys` exactly, without adding
  /// table-wide keys: `keys` come from `eviction_keys`. Returns how many
  /// were evicted. With `read_again` given, appends to it the query of each
  /// evicted entry that `find` returned since it was inserted.
  size_t evict_dependents_of(const std::vector<std::string>& keys,
                             std::vector<query>* read_again = nullptr);

  /// Drops every entry.
  void clear();

  size_t size() const noexcept { return entries_.size(); }

  size_t max_entries() const noexcept { return max_entries_; }

private:
  struct slot {
    entry value;
    std::list<std::string>::iterator lru_pos;
    /// `find` returned it since it was inserted.
    bool read = false;
  };

  void erase(std::unordered_map<std::string, slot>::iterator i);

  void evict_dependents(const std::string& row_key, size_t& evicted,
                        std::vector<query>* read_again);

  size_t max_entries_;
  /// Most recently used at the front.
  std::list<std::string> lru_;
  std::unordered_map<std::string, slot> entries_;
  /// Row key -> cache keys of the entries that depend on it.
  std::unordered_map<std::string, std::unordered_set<std::string>> dependents_;
};

/// One commit batch as the hub applies it to every cache of the node. It is
/// built once per batch and shared: caches with fills in flight remember it
/// without copying its keys.
struct cache_invalidation {
  seq_t to_seq = 0;
  /// The changed row keys, as committed.
  std::vector<std::string> changed;
  /// What to evict by: `changed` and the table-wide key of each, once each.
  std::vector<std::string> eviction_keys;

  /// Builds the shared form of `inv`.
  static std::shared_ptr<const cache_invalidation> of(const invalidation& inv);
};

using cache_invalidation_ptr = std::shared_ptr<const cache_invalidation>;

/// A query actor's cache, shared with the HTTP threads, which answer hits
/// without a message round trip to the actor, and with the node's
/// invalidation hub, which applies every commit batch to it directly.
///
/// Who changes what:
/// - the owning actor inserts fills (`start_fill`, `finish_fill`) and closes
///   the cache when it stops;
/// - the hub applies batches (`apply`), advances `applied_seq` and switches
///   caching on and off;
/// - HTTP threads only look up, which reorders the LRU list.
///
/// One mutex guards it all; each critical section is a hash lookup, an LRU
/// splice, one batch or one fill's check, so contention stays low.
/// `applied_seq` changes in the same critical section as the evictions it
/// stands for, so a hit is consistent with the seq it reports.
///
/// A fill reads the database outside the lock, so a batch can be applied
/// between its snapshot and its insert. The cache therefore remembers the
/// batches applied while fills are in flight, and `finish_fill` refuses a
/// result that one of them touched, under the same lock as the insert: no
/// batch can slip in between the check and the insert.
///
/// Refresh (`query.refresh_on_invalidation`, off by default): when a batch
/// evicts an entry that was read since it was filled, the cache keeps its
/// query for the owning actor, which reads it again at once
/// (`take_refreshes`). The next read then finds it cached, or joins that
/// fill, instead of missing after every write. Such a read again is an
/// ordinary fill: it starts after the batch was applied, and `finish_fill`
/// refuses it as any other if a later batch overtakes it. An entry not read
/// since its fill is only evicted, so the reads again never outnumber the
/// reads that came before them.
class shared_query_cache {
public:
  /// Most queries kept for reading again at once; past that, evicted
  /// entries are only evicted until the actor takes them.
  static constexpr size_t max_refreshes = 1024;

  /// What a fill saw of the cache when it started; `finish_fill` needs it.
  struct fill_ticket {
    /// Log position of the first batch applied after the fill started.
    uint64_t log_pos = 0;
    /// `applied_seq` when the fill started.
    seq_t applied_at_start = 0;
    /// The caching epoch: it changes whenever caching stops.
    uint64_t epoch = 0;
    /// Whether the cache served when the fill started.
    bool serving_at_start = false;
  };

  /// What became of a fill's result.
  enum class fill_outcome {
    /// It was cached.
    cached,
    /// A batch applied since the fill's snapshot touched it, or caching
    /// stopped meanwhile: answered, but not cached.
    refused,
    /// The cache does not serve (disabled, bypassed or closed).
    not_caching,
  };

  /// Creates a closed cache that does not serve until `set_caching(true)`.
  /// A cache created with `enabled = false` never serves (the node runs
  /// with `query.cache_enabled: false`). With `refresh`, evicted entries
  /// that were read are kept for reading again (see above).
  explicit shared_query_cache(size_t max_entries, bool enabled = true,
                              bool refresh = false);

  /// Answers `key` from the cache when the cache serves and has applied
  /// `min_seq`; otherwise returns nothing and the read goes to the actor.
  std::optional<read_answer> hit(const std::string& key, seq_t min_seq = 0);

  /// Registers a fill that is about to read the database. Every ticket must
  /// end in `finish_fill` or `abandon_fill`.
  fill_ticket start_fill();

  /// Ends the fill of `ticket` and caches `value` under `key` unless a batch
  /// applied since its start touched it, or caching stopped meanwhile.
  /// `evicted` receives how many entries the insert evicted for room.
  fill_outcome finish_fill(const fill_ticket& ticket, const std::string& key,
                           query_cache::entry value, size_t& evicted);

  /// Ends the fill of `ticket` without a result (it failed).
  void abandon_fill(const fill_ticket& ticket);

  /// Evicts every entry touched by `batch` and advances `applied_seq` to its
  /// `to_seq`. Returns how many entries were evicted. `refresh_due`, when
  /// given, is set when this batch left the first queries to read again
  /// since the last `take_refreshes`: the owner should be told once.
  size_t apply(const cache_invalidation_ptr& batch,
               bool* refresh_due = nullptr);

  /// Takes the queries of the evicted entries to read again (see above).
  std::vector<query> take_refreshes();

  /// Advances `applied_seq` to `seq` (when the actor subscribed).
  void advance(seq_t seq);

  /// Starts serving again (`on`), or stops and drops every entry.
  void set_caching(bool on);

  /// Stops serving for good: the owning actor stopped.
  void close();

  /// The number of cached entries.
  size_t size() const;

  /// The last seq whose invalidations this cache applied.
  seq_t applied_seq() const;

  /// The batches remembered for fills in flight (for tests).
  size_t remembered_batches() const;

private:
  /// A batch applied while fills were in flight.
  struct logged_batch {
    uint64_t pos = 0;
    cache_invalidation_ptr batch;
  };

  bool cacheable(const fill_ticket& ticket,
                 const query_cache::entry& value) const;

  /// Ends the fill of `ticket` and forgets the batches no fill still needs.
  void end_fill(const fill_ticket& ticket);

  mutable std::mutex mtx_;
  query_cache cache_;
  seq_t applied_seq_ = 0;
  const bool enabled_;
  const bool refresh_;
  /// Queries of evicted entries that were read, for the owner to read again.
  std::vector<query> refreshes_;
  bool serving_ = false;
  bool closed_ = false;
  uint64_t epoch_ = 0;
  /// Batches applied while fills were in flight, oldest first.
  std::deque<logged_batch> log_;
  uint64_t next_log_pos_ = 0;
  /// Fills in flight, by their `log_pos`: the oldest bounds `log_`.
  std::map<uint64_t, size_t> open_fills_;
};

/// The keys that evict the entries a change to `changed` touches: each row
/// key and its table-wide key ("category:7" and "category:*"), once each.
std::vector<std::string> eviction_keys(const std::vector<std::string>& changed);

/// Returns whether any of `changed` (row keys) hits any of `dependencies`,
/// directly or through a table-wide dependency such as "category:*".
bool touches(const std::vector<std::string>& changed,
             const std::vector<std::string>& dependencies);

} // namespace cqrs
