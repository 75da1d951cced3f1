// The routing table the gateway uses to pick a query actor for a read.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/query_cache.hpp"
#include "config/settings.hpp"

namespace cqrs {

/// A copy-on-write table of query actors and their caches, read by HTTP
/// threads and written by the query supervisor when it spawns or respawns an
/// actor.
class query_routes {
public:
  /// Where a read goes: the query actor, and its cache, from which the HTTP
  /// thread answers hits itself.
  struct route {
    query_actor actor;
    std::shared_ptr<shared_query_cache> cache;

    explicit operator bool() const noexcept { return static_cast<bool>(actor); }
  };

  using table = std::vector<route>;

  explicit query_routes(routing_policy policy) : policy_(policy) {
    std::atomic_store(&table_, std::make_shared<const table>());
  }

  /// Replaces the actor at `index` and its cache, growing the table as
  /// needed.
  void set(size_t index, query_actor actor,
           std::shared_ptr<shared_query_cache> cache) {
    auto next = std::make_shared<table>(*snapshot());
    if (next->size() <= index)
      next->resize(index + 1);
    (*next)[index] = route{std::move(actor), std::move(cache)};
    std::atomic_store(&table_, std::shared_ptr<const table>{std::move(next)});
  }

  /// Replaces the whole table.
  void assign(table routes) {
    std::atomic_store(&table_, std::shared_ptr<const table>{
                                   std::make_shared<table>(std::move(routes))});
  }

  /// Empties the table (at shutdown).
  void clear() { std::atomic_store(&table_, std::make_shared<const table>()); }

  /// Returns the route that serves `key`: the same actor for the same key
  /// under key_affinity, the next one under round_robin. Returns an empty
  /// route when the table is empty.
  route pick(const std::string& key) {
    auto t = snapshot();
    if (t->empty())
      return {};
    size_t i = policy_ == routing_policy::key_affinity
                   ? std::hash<std::string>{}(key)
                   : next_.fetch_add(1, std::memory_order_relaxed);
    return (*t)[i % t->size()];
  }

  /// Returns the current table.
  std::shared_ptr<const table> snapshot() const {
    return std::atomic_load(&table_);
  }

private:
  routing_policy policy_;
  std::shared_ptr<const table> table_;
  std::atomic<size_t> next_{0};
};

} // namespace cqrs
