// A sliding-window limit on how often a supervisor may restart children.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>

namespace cqrs {

/// Allows at most `max_restarts` restarts within any `window`.
class restart_budget {
public:
  using clock = std::chrono::steady_clock;

  restart_budget(size_t max_restarts, clock::duration window)
      : max_restarts_(max_restarts), window_(window) {
    // nop
  }

  /// Records a restart at `now`; returns false when it exceeds the budget.
  bool try_restart(clock::time_point now = clock::now()) {
    while (!recent_.empty() && now - recent_.front() >= window_)
      recent_.pop_front();
    if (recent_.size() >= max_restarts_)
      return false;
    recent_.push_back(now);
    return true;
  }

private:
  size_t max_restarts_;
  clock::duration window_;
  std::deque<clock::time_point> recent_;
};

} // namespace cqrs
