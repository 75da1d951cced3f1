// The invalidation hub: applies commit batches in seq order, repairs gaps
// from commit_log and fans out to the node's query actors.
#pragma once

#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/counters.hpp"
#include "actors/fault_hooks.hpp"
#include "actors/interfaces.hpp"
#include "actors/query_cache.hpp"

namespace cqrs {

struct invalidation_hub_config {
  /// The seq the node starts from (every earlier commit is in the database
  /// the query actors read).
  seq_t initial_seq = 0;
  /// How long a `sync` may wait for its seq before it is dropped.
  caf::timespan sync_timeout = std::chrono::seconds{10};
  /// Pause between two commit_log reads while a `sync` waits.
  caf::timespan retry_interval = std::chrono::milliseconds{5};
  /// How long the hub keeps caches without a heartbeat from the command node
  /// (0: forever, for tests without heartbeats).
  caf::timespan heartbeat_timeout{0};
  /// Makes the hub's fault in a testing build; null in the product.
  fault_injector_ptr faults;
  std::shared_ptr<node_counters> counters;
};

struct invalidation_hub_state {
  static inline constexpr const char* name = "invalidation_hub";

  /// A `sync` waiting for its seq.
  struct pending_sync {
    seq_t seq = 0;
    caf::typed_response_promise<seq_t> promise;
    caf::actor_clock::time_point deadline;
  };

  invalidation_hub_config cfg;
  reader_actor reader;
  /// Asked about each batch from the command node; null unless a testing
  /// build injects a fault.
  std::unique_ptr<batch_fault> fault;
  /// Every commit up to here was fanned out.
  seq_t applied_seq = 0;
  /// A local query actor and its cache.
  struct subscriber {
    query_actor actor;
    query_cache_ptr cache;
  };
  /// The local query actors, by address: a dying actor leaves in O(1), which
  /// matters when a pool of many actors stops at once.
  std::unordered_map<caf::actor_addr, subscriber> subscribers;
  /// Batches that arrived while a catch-up was running, in order.
  std::deque<invalidation> queued;
  bool catching_up = false;
  bool retry_scheduled = false;
  std::vector<pending_sync> syncs;
  /// Subscribed at the command node, as far as the link knows.
  bool linked = false;
  /// The command node's latest seq, from the link or a heartbeat.
  seq_t command_seq = 0;
  caf::actor_clock::time_point last_heartbeat;
  /// Whether the query actors' caches may serve.
  bool caching = false;

  /// Lets every query actor's cache serve, or flushes them all and has reads
  /// bypass them.
  void set_caching(bool on, const char* why);

  /// Applies `inv` to every subscriber's cache and advances `applied_seq`;
  /// answers the syncs it satisfies.
  void fan_out(const invalidation& inv);

  /// Merges commit_log entries that continue `applied_seq` into one batch;
  /// empty when they do not start at `applied_seq + 1`.
  invalidation merge(const std::vector<commit_entry>& entries) const;

  /// The highest seq a waiting sync asks for (0 if none).
  seq_t wanted_seq() const;
};

using invalidation_hub_ptr =
    hub_actor::stateful_pointer<invalidation_hub_state>;

/// Spawnable behaviour of the hub. It reads missing commits through `reader`.
hub_actor::behavior_type invalidation_hub_impl(invalidation_hub_ptr self,
                                               invalidation_hub_config cfg,
                                               reader_actor reader);

} // namespace cqrs
