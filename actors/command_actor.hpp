// The command actor: the single writer. It groups queued commands into one
// transaction, numbers commits and publishes invalidations after each commit.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/counters.hpp"
#include "actors/fault_hooks.hpp"
#include "actors/interfaces.hpp"
#include "config/settings.hpp"
#include "db/write_store.hpp"
#include "model/domain.hpp"

namespace cqrs {

/// Opens the command actor's write store.
using store_opener =
    std::function<caf::expected<std::unique_ptr<write_store>>()>;

/// A write store handed from one owner to the next; taken once.
using store_slot = std::shared_ptr<std::unique_ptr<write_store>>;

struct command_actor_config {
  database_settings database;
  /// The `node.name` of this node, which other nodes show as the leader.
  std::string node_name;
  /// Opens the write store; empty: `write_store::open` on `database`. The
  /// leader of command node failover opens its locked store here
  /// (actors/leader_elector.hpp).
  store_opener open_store;
  /// Non-zero on the leader of command node failover: the lease of its
  /// session (`cluster.leader_lease_ms`). The actor keeps the session alive
  /// four times a lease, and stops with `ec::not_leader` once it has lost
  /// the lock.
  std::chrono::milliseconds leader_lease{0};
  /// Where a stopping actor leaves its store, unless it lost the lock, for
  /// `open_store` to give its successor: the leader's write session, and so
  /// the lock, outlives a restart of the command actor. Null: the store
  /// closes with the actor.
  store_slot handover;
  /// The domain whose resources the commands write.
  std::shared_ptr<const domain> dom;
  /// Most commands in one transaction.
  uint32_t max_batch = 256;
  /// How long idempotency keys are kept and honoured.
  std::chrono::seconds idempotency_ttl = write_store::default_idempotency_ttl;
  std::shared_ptr<node_counters> counters;
  /// Makes the actor's fault in a testing build; null in the product.
  fault_injector_ptr faults;
};

struct command_actor_state {
  static inline constexpr const char* name = "command_actor";

  using promise_type = caf::typed_response_promise<write_result>;

  command_actor_config cfg;
  std::unique_ptr<write_store> store;
  /// Where committed batches go: the command node, which relays them to
  /// every subscribed hub.
  command_node_actor publisher;
  /// Commands waiting for the next group commit, with their requesters.
  std::vector<command> batch;
  std::vector<promise_type> promises;
  /// Asked about each command; null unless a testing build injects a fault.
  std::unique_ptr<command_fault> fault;

  /// When expired idempotency keys are pruned next.
  std::chrono::steady_clock::time_point next_prune;

  /// Commits the batch, publishes its invalidation, then answers.
  void flush();

  /// Deletes expired idempotency keys, at most once per `prune_interval`
  /// unless `force`d. A failure is logged and left for the next time.
  void prune_idempotency_keys(bool force);

  /// How often expired idempotency keys are pruned while writes arrive.
  static inline constexpr std::chrono::minutes prune_interval{1};

  /// Fails the requests of a batch that never committed.
  ~command_actor_state();
};

using command_actor_ptr = command_actor::stateful_pointer<command_actor_state>;

/// Spawnable behaviour of the command actor. It blocks on the database; the
/// command node spawns it on the scheduler, which has a worker to spare for
/// it (see `command_supervisor_impl`). It opens the write store (seeding the
/// seq from `max(commit_log.seq)`) and quits with the error if it cannot.
/// Committed batches go to `publisher`.
command_actor::behavior_type command_actor_impl(command_actor_ptr self,
                                                command_actor_config cfg,
                                                command_node_actor publisher);

} // namespace cqrs
