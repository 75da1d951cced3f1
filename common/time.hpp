// Timestamps as text: the one format of log lines and stored times.
#pragma once

#include <chrono>
#include <string>

namespace cqrs {

/// Appends `t` in ISO 8601 UTC with milliseconds, e.g.
/// "2026-11-28T04:30:00.123Z". Such texts sort in time order.
void append_utc_text(std::string& out, std::chrono::system_clock::time_point t);

/// Returns `t` as `append_utc_text` writes it.
std::string utc_text(std::chrono::system_clock::time_point t);

} // namespace cqrs
