// The one place where errors become HTTP statuses and JSON error bodies.
#pragma once

#include <string>

#include <caf/error.hpp>

#include "common/error.hpp"

namespace cqrs::http {

/// An error as the API answers it.
struct api_error {
  int status = 500;
  /// Stable machine-readable code, e.g. "missing_reference".
  std::string code;
  std::string message;
};

/// Maps an error from the actors or the store to what the client sees.
/// Errors outside the cqrs category (a dead actor, a timeout) become 503.
api_error to_api_error(const caf::error& err);

/// Builds the API error of `code`, with the status and JSON code that the
/// table of error codes gives it.
api_error make_api_error(ec code, std::string message);

/// Builds the API error for a request that cpp-httplib refused by itself
/// with `status` (one it could not parse, read or decode): the code that
/// names that status, or `ec::other` ("error") when none does. The status
/// stays `status`.
api_error library_error(int status, std::string message);

} // namespace cqrs::http
