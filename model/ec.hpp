// Error codes shared by every layer of cqrsd, free of any framework.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace cqrs {

/// Everything that can go wrong in cqrsd, from bad input to a lost database.
/// The HTTP gateway maps each value to one status in `http/errors.cpp`.
enum class ec : uint8_t {
  /// Not an error (CAF reserves code 0 for "no error").
  none = 0,
  /// The request is malformed: bad JSON, wrong type, bad id, bad header.
  bad_request,
  /// The addressed row does not exist.
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
};

/// Returns the stable snake_case name of `x`, used as the JSON error code.
std::string to_string(ec x);

/// Prints the name of `x`.
inline std::ostream& operator<<(std::ostream& out, ec x) {
  return out << to_string(x);
}

} // namespace cqrs
