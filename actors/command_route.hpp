// The handle of the command node that the gateway sends writes to, and the
// writes in flight to it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <caf/actor_control_block.hpp>
#include <caf/message_id.hpp>

#include "actors/interfaces.hpp"

namespace cqrs {

/// The message of `ec::command_node_lost`: the write may have been applied,
/// and a retry with the same Idempotency-Key is safe.
extern const char* const command_node_lost_message;

/// Where writes go: the local command node, or the remote one while the link
/// to it is up. Read lock-free by HTTP threads.
///
/// It also knows the writes in flight, so that losing the link answers them
/// at once: a request to a remote actor whose node is gone gets no answer
/// from CAF, and would wait out `command.timeout_ms`.
class command_route {
public:
  /// A command node and the incarnation of the route that led to it.
  struct target {
    command_node_actor node;
    /// The `node.name` of the command node; empty when unknown.
    std::string leader;
    /// Changes with every `clear`, and every `set` to another node.
    uint64_t generation = 0;
  };

  command_route() : current_(std::make_shared<const target>()) {}

  /// Routes writes to `node`, whose `node.name` is `leader`.
  void set(command_node_actor node, std::string leader = {});

  /// No command node is reachable: writes fail until `set`. Every write in
  /// flight gets `ec::command_node_lost` as its answer now.
  void clear();

  /// Returns the current command node (an invalid handle when unreachable)
  /// with the route's generation.
  std::shared_ptr<const target> current() const {
    return std::atomic_load(&current_);
  }

  /// Registers a write that the blocking actor `self` sent to `t` and whose
  /// answer it awaits as `response_id`. Returns a ticket for `forget`, or 0
  /// when the route changed since `t` was read: the write may have gone to
  /// a command node that is lost already.
  uint64_t track(const target& t, caf::strong_actor_ptr self,
                 caf::message_id response_id);

  /// The write of `ticket` got its answer. Returns false when `clear` took
  /// the ticket first: its error may then still be on the way to the actor.
  bool forget(uint64_t ticket);

private:
  struct waiter {
    caf::strong_actor_ptr self;
    caf::message_id response_id;
  };

  // Installs `node` as a new generation; the caller holds `mtx_`.
  void replace(command_node_actor node, std::string leader);

  std::shared_ptr<const target> current_;
  std::mutex mtx_;
  uint64_t generation_ = 0;
  uint64_t next_ticket_ = 1;
  std::unordered_map<uint64_t, waiter> waiters_;
};

} // namespace cqrs
