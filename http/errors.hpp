// The one place where errors become HTTP statuses and JSON error bodies.
#pragma once

#include <string>

#include <caf/error.hpp>

#include "model/ec.hpp"

namespace cqrs::http {

/// An error as the API answers it.
struct api_error {
  int status = 500;
  /// Stable machine-readable code, e.g. "missing_reference".
  std::string code;
  std::string message;
};

/// Returns the HTTP status for `code`.
int status_of(ec code);

/// Maps an error from the actors or the store to what the client sees.
/// Errors outside the cqrs category (a dead actor, a timeout) become 503.
api_error to_api_error(const caf::error& err);

/// Builds an API error for `status`, with the code that status always has.
api_error make_api_error(int status, std::string message);

} // namespace cqrs::http
