// The HTTP server's worker threads and their bounded queue of accepted
// connections.
#include "http/server/connection_queue.hpp"

namespace cqrs::http {

namespace {

// Set while a connection_queue runs a task that must not get a worker.
thread_local bool shedding_task = false;

} // namespace

bool running_past_bound() noexcept {
  return shedding_task;
}

connection_queue::connection_queue(size_t threads, size_t max_queued,
                                   overload_counters& counters)
    : max_queued_(max_queued), counters_(counters) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { work(); });
}

connection_queue::~connection_queue() {
  shutdown();
}

void connection_queue::enqueue(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    // Idle workers take a connection at once; `max_queued_` more may wait.
    if (!stop_ && jobs_.size() < idle_ + max_queued_) {
      jobs_.push_back(std::move(fn));
      counters_.queued_connections.store(jobs_.size(),
                                         std::memory_order_relaxed);
      cv_.notify_one();
      return;
    }
  }
  // Past the bound. The task only hands its socket to the shedder (see
  // admission_server), so running it here does not block accepting.
  shedding_task = true;
  fn();
  shedding_task = false;
}

void connection_queue::shutdown() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stop_ && threads_.empty())
      return;
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
  threads_.clear();
}

void connection_queue::work() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> guard{mtx_};
      ++idle_;
      cv_.wait(guard, [this] { return stop_ || !jobs_.empty(); });
      --idle_;
      // Connections still queued at shutdown are answered by the shedder.
      if (jobs_.empty())
        return;
      fn = std::move(jobs_.front());
      jobs_.pop_front();
      counters_.queued_connections.store(jobs_.size(),
                                         std::memory_order_relaxed);
    }
    fn();
  }
}

} // namespace cqrs::http
