// What both supervisors share: the restart budget, its settings, and what
// happens when it runs out.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/timespan.hpp>

#include "actors/restart_budget.hpp"
#include "common/logging.hpp"

namespace cqrs {

/// Called once when a supervisor gives up, with a sentence saying why.
using give_up_handler = std::function<void(const std::string&)>;

struct supervision_config {
  /// Restarts tolerated within `window`.
  uint32_t max_restarts = 10;
  caf::timespan window = std::chrono::seconds{10};
  /// The settings that set the budget, named when the supervisor gives up,
  /// e.g. "query.max_restarts, query.restart_window_ms".
  std::string settings;
  give_up_handler on_give_up;
};

/// Whether an actor that went down with `reason` was stopped on purpose.
inline bool is_shutdown(const caf::error& reason) {
  return reason == caf::exit_reason::user_shutdown ||
         reason == caf::exit_reason::normal;
}

/// Runs when a supervisor's budget is spent: logs, tells the node, quits.
template <class Self>
void give_up(Self* self, const supervision_config& cfg, const std::string& what,
             const caf::error& reason) {
  auto window_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(cfg.window).count();
  auto msg = std::string{what} + " died too often: past the restart limit of " +
             std::to_string(cfg.max_restarts) + " restarts within " +
             std::to_string(window_ms) + " ms (" + cfg.settings +
             "); last reason: " + caf::to_string(reason);
  CQRS_LOG(error, self->name(), msg);
  if (cfg.on_give_up)
    cfg.on_give_up(msg);
  self->quit(reason);
}

/// A fresh restart budget of `cfg`.
inline restart_budget make_budget(const supervision_config& cfg) {
  return restart_budget{cfg.max_restarts, cfg.window};
}

} // namespace cqrs
