// Blocking actor handles that HTTP threads borrow to talk to actors, reused
// across requests so a request does not pay for spawning one.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

namespace cqrs::http {

/// A pool of `caf::scoped_actor`s. Destroy it before the actor system.
class actor_bridge {
public:
  explicit actor_bridge(caf::actor_system& sys) : sys_(sys) {
    // nop
  }

  /// A borrowed scoped actor; goes back to the pool when the lease ends,
  /// unless `discard` was called.
  class lease {
  public:
    lease(actor_bridge& pool, std::unique_ptr<caf::scoped_actor> self)
        : pool_(pool), self_(std::move(self)) {
      // nop
    }

    lease(lease&&) = default;

    ~lease() {
      if (self_ && !discarded_)
        pool_.release(std::move(self_));
    }

    caf::blocking_actor* operator->() const { return self_->ptr(); }

    caf::blocking_actor* get() const { return self_->ptr(); }

    /// Drops the actor when the lease ends instead of returning it: after a
    /// timed-out request a late answer may still arrive in its mailbox.
    void discard() { discarded_ = true; }

  private:
    actor_bridge& pool_;
    std::unique_ptr<caf::scoped_actor> self_;
    bool discarded_ = false;
  };

  /// Borrows a scoped actor, creating one when the pool is empty.
  lease acquire() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (!idle_.empty()) {
        auto self = std::move(idle_.back());
        idle_.pop_back();
        return lease{*this, std::move(self)};
      }
    }
    return lease{*this, std::make_unique<caf::scoped_actor>(sys_, true)};
  }

private:
  void release(std::unique_ptr<caf::scoped_actor> self) {
    std::lock_guard<std::mutex> guard{mtx_};
    idle_.push_back(std::move(self));
  }

  caf::actor_system& sys_;
  std::mutex mtx_;
  std::vector<std::unique_ptr<caf::scoped_actor>> idle_;
};

} // namespace cqrs::http
