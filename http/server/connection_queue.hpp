// The HTTP server's worker threads and their bounded queue of accepted
// connections; internal to http/server/.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

#include "http/metrics.hpp"

namespace cqrs::http {

/// A cpp-httplib task queue with `threads` workers and room for
/// `max_queued` connections waiting for one. A connection past that is not
/// queued: it goes to the shedder at once (see `admission_server`).
class connection_queue : public httplib::TaskQueue {
public:
  connection_queue(size_t threads, size_t max_queued,
                   overload_counters& counters);

  ~connection_queue() override;

  void enqueue(std::function<void()> fn) override;

  void shutdown() override;

private:
  void work();

  size_t max_queued_;
  overload_counters& counters_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  size_t idle_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

/// Whether the calling thread runs a task that a `connection_queue` had no
/// room for: such a task must not get a worker, and hands its connection
/// to the shedder.
bool running_past_bound() noexcept;

} // namespace cqrs::http
