// Blocking actor handles that HTTP threads borrow to talk to actors, reused
// across requests so a request does not pay for spawning one.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/duration.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

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

  /// Sends `xs` to `dest` from `self` as a request without a CAF request
  /// timeout; wait for its answer with `receive_within`.
  ///
  /// Why not `request(dest, timeout, ...)`: CAF 0.17 never cancels a request
  /// timeout. Each one wakes the clock thread when it is set, and fires when
  /// it expires even if the answer came long before. A blocking actor skips
  /// that late `request_timeout` error (it answers a request it no longer
  /// waits for) and keeps it in its mailbox for good, so every pooled actor
  /// collected one message per request it made more than a timeout ago, and
  /// each later receive walked all of them.
  template <class Handle, class... Ts>
  static auto request(caf::blocking_actor* self, const Handle& dest,
                      Ts&&... xs) {
    return self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
  }

  /// Waits on `self`'s mailbox for the answer `id` (a response handle's
  /// `id()`) for at most `timeout`: calls `on_value` with the answer, or
  /// `on_error` with its error or with `caf::sec::request_timeout`. After a
  /// timeout the late answer may still come: discard the lease.
  template <class Rep, class Period, class OnValue, class OnError>
  static void receive_within(caf::blocking_actor* self, caf::message_id id,
                             std::chrono::duration<Rep, Period> timeout,
                             OnValue on_value, OnError on_error) {
    caf::blocking_actor::accept_one_cond done;
    self->varargs_receive(
        done, id, std::move(on_value),
        [&on_error](caf::error& err) { on_error(err); },
        caf::after(timeout) >>
            [&on_error] {
              caf::error err = caf::sec::request_timeout;
              on_error(err);
            });
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
