// Private to db/: how driver failures map onto cqrs errors.
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include <soci/soci.h>

#include "common/error.hpp"

namespace cqrs::detail {

/// Says in plain words what a database driver's message `driver_message`
/// means for a client when it is a known transient failure (locked or busy,
/// a lock or statement timeout, a lost connection), naming the setting that
/// bounds the wait; returns "" for any other message.
std::string explain_database_failure(const std::string& driver_message);

/// Returns the driver's own message for `e`, without SOCI's context (the
/// statement text and the bound values, which may carry user input).
inline std::string driver_message(const std::exception& e) {
  if (auto soci_err = dynamic_cast<const soci::soci_error*>(&e))
    return soci_err->get_error_message();
  return e.what();
}

/// Turns a failure of the database into `ec::database_unavailable`, naming
/// what was being attempted.
inline caf::error database_error(std::string_view what,
                                 const std::exception& e) {
  std::string message{what};
  auto driver = driver_message(e);
  if (auto plain = explain_database_failure(driver); !plain.empty()) {
    message += ": ";
    message += plain;
  }
  message += ": ";
  message += driver;
  return make_cqrs_error(ec::database_unavailable, std::move(message));
}

/// Runs `sql` and swallows any failure; used to leave a failed transaction.
inline void execute_quietly(soci::session& sql, const char* text) noexcept {
  try {
    sql << text;
  } catch (...) {
    // The transaction is already gone or the connection is lost; either way
    // there is nothing left to undo.
  }
}

} // namespace cqrs::detail
