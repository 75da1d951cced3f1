// The handle of the command node that the gateway sends writes to.
#include "actors/command_route.hpp"

#include <utility>
#include <vector>

#include <caf/make_message.hpp>

#include "common/error.hpp"

namespace cqrs {

const char* const command_node_lost_message =
    "the link to the command node was lost while this write was in flight: "
    "it may or may not have been applied. Retrying with the same "
    "Idempotency-Key is safe: a write that was applied is answered from its "
    "key, not applied twice";

void command_route::set(command_node_actor node, std::string leader) {
  std::lock_guard<std::mutex> guard{mtx_};
  // The same node again (the link subscribing to the local command node):
  // writes registered under the current generation stay valid.
  if (node && current_->node == node) {
    if (!leader.empty() && current_->leader != leader)
      std::atomic_store(&current_, std::make_shared<const target>(target{
                                       node, std::move(leader), generation_}));
    return;
  }
  replace(std::move(node), std::move(leader));
}

void command_route::clear() {
  std::vector<waiter> lost;
  {
    // One critical section: a write that `track`s after it sees the new
    // generation and fails at once; one before it is in `lost`.
    std::lock_guard<std::mutex> guard{mtx_};
    if (!current_->node && waiters_.empty())
      return;
    replace(command_node_actor{}, {});
    lost.reserve(waiters_.size());
    for (auto& [ticket, w] : waiters_)
      lost.push_back(std::move(w));
    waiters_.clear();
  }
  // The answer each waiter awaits, delivered as CAF delivers a timeout: an
  // error under the request's response id.
  for (auto& w : lost)
    w.self->enqueue(nullptr, w.response_id,
                    caf::make_message(make_cqrs_error(
                        ec::command_node_lost, command_node_lost_message)),
                    nullptr);
}

uint64_t command_route::track(const target& t, caf::strong_actor_ptr self,
                              caf::message_id response_id) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (t.generation != generation_)
    return 0;
  auto ticket = next_ticket_++;
  waiters_.emplace(ticket, waiter{std::move(self), response_id});
  return ticket;
}

bool command_route::forget(uint64_t ticket) {
  std::lock_guard<std::mutex> guard{mtx_};
  return waiters_.erase(ticket) != 0;
}

void command_route::replace(command_node_actor node, std::string leader) {
  std::atomic_store(&current_,
                    std::make_shared<const target>(target{
                        std::move(node), std::move(leader), ++generation_}));
}

} // namespace cqrs
