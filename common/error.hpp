// Error codes of cqrsd, the one table of how the API answers each, and their
// registration as a CAF error category.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace cqrs {

/// Everything that can go wrong in cqrsd, from bad input to a lost database.
/// Each value has one JSON code and one HTTP status, in the table in
/// `common/error.cpp`. The numbers travel between nodes inside `caf::error`:
/// append new values, never renumber.
enum class ec : uint8_t {
  /// Not an error (CAF reserves code 0 for "no error").
  none = 0,
  /// The request is malformed: bad JSON, wrong type, bad id, bad header.
  bad_request,
  /// The addressed row does not exist, or no route has this path.
  not_found,
  /// The row cannot be deleted because other rows still reference it.
  still_referenced,
  /// The command references a row that does not exist.
  missing_reference,
  /// The database cannot be reached or refused the operation.
  database_unavailable,
  /// An actor needed for the request is gone or restarting.
  actor_unavailable,
  /// A read could not reach the requested `X-Min-Seq` in time.
  min_seq_timeout,
  /// The node is over its bound of requests in flight.
  overloaded,
  /// An internal invariant failed; a bug.
  internal,
  /// An `Idempotency-Key` was reused for a different request (another
  /// method, path or body).
  idempotency_key_reused,
  /// A `unique` column would hold the same value twice.
  duplicate_value,
  /// The database's tables do not match the domain's declaration.
  schema_mismatch,
  /// A query node serves another domain than its command node.
  domain_mismatch,
  /// The request lacks the bearer token its route needs.
  unauthorized,
  /// The route does not take the request's method.
  method_not_allowed,
  /// The request did not arrive within `http.read_timeout_ms`.
  request_timeout,
  /// The request body is over `http.max_body_bytes`.
  payload_too_large,
  /// The request target is too long.
  uri_too_long,
  /// The request body is not JSON.
  unsupported_media_type,
  /// The request's headers are over `http.max_header_bytes`.
  header_too_large,
  /// The node is not serving: starting, shutting down or not accepting.
  unavailable,
  /// cpp-httplib refused the request itself with a status that no other
  /// code names (e.g. 416 for a bad Range header).
  other,
  /// A query node lost its command node while a write it forwarded was in
  /// flight: the write may or may not have been applied.
  command_node_lost,
  /// This command node lost the leader lock to another one (command node
  /// failover): it no longer writes, and the write was not applied here.
  not_leader,
};

/// How many values `ec` has; they run from 0 to `ec_count - 1`.
inline constexpr size_t ec_count = static_cast<size_t>(ec::not_leader) + 1;

/// Returns the stable snake_case name of `x`, the code of the JSON error
/// body; "unknown" for a value outside the enum.
std::string to_string(ec x);

/// Returns the HTTP status the API answers `x` with; 500 for a value outside
/// the enum.
int http_status(ec x);

/// Prints the name of `x`.
inline std::ostream& operator<<(std::ostream& out, ec x) {
  return out << to_string(x);
}

} // namespace cqrs

CAF_ERROR_CODE_ENUM(cqrs::ec, "cqrs")

namespace cqrs {

/// Returns an error of code `code` carrying a human-readable `message`.
inline caf::error make_cqrs_error(ec code, std::string message) {
  return caf::make_error(code, std::move(message));
}

/// Returns the human-readable message stored in `err`, or a rendering of the
/// error itself when it has none.
std::string error_message(const caf::error& err);

/// Returns the cqrs code of `err`, or `ec::internal` when `err` is not from
/// our category (e.g. a CAF system error).
ec error_code(const caf::error& err);

/// Whether `err` belongs to the cqrs category.
bool is_cqrs_error(const caf::error& err);

} // namespace cqrs
