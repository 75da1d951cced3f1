// The handle of the command node that the gateway sends writes to.
#pragma once

#include <atomic>
#include <memory>

#include "actors/interfaces.hpp"

namespace cqrs {

/// Where writes go: the local command node, or the remote one while the link
/// to it is up. Read lock-free by HTTP threads.
class command_route {
public:
  command_route() { clear(); }

  /// Routes writes to `target`.
  void set(command_node_actor target) {
    std::atomic_store(&target_, std::make_shared<const command_node_actor>(
                                    std::move(target)));
  }

  /// No command node is reachable: writes fail until `set`.
  void clear() {
    std::atomic_store(&target_, std::make_shared<const command_node_actor>());
  }

  /// Returns the current command node; an invalid handle when unreachable.
  command_node_actor get() const { return *std::atomic_load(&target_); }

private:
  std::shared_ptr<const command_node_actor> target_;
};

} // namespace cqrs
