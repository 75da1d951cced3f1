// Registers cqrs::ec as a CAF error category and builds errors with context.
#pragma once

#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include "model/ec.hpp"

CAF_ERROR_CODE_ENUM(cqrs::ec, "cqrs")

namespace cqrs {

/// Returns an error of code `code` carrying a human-readable `message`.
inline caf::error make_cqrs_error(ec code, std::string message) {
  return caf::make_error(code, std::move(message));
}

/// Returns the human-readable message stored in `err`, or a rendering of the
/// error itself when it has none.
std::string error_message(const caf::error& err);

/// Says in plain words what a database driver's message `driver_message`
/// means for a client when it is a known transient failure (locked or busy,
/// a lock or statement timeout, a lost connection), naming the setting that
/// bounds the wait; returns "" for any other message.
std::string explain_database_failure(const std::string& driver_message);

/// Returns the cqrs code of `err`, or `ec::internal` when `err` is not from
/// our category (e.g. a CAF system error).
ec error_code(const caf::error& err);

} // namespace cqrs
