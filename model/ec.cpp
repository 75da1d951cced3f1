// Names of error codes.
#include "model/ec.hpp"

namespace cqrs {

std::string to_string(ec x) {
  switch (x) {
  case ec::none:
    return "none";
  case ec::bad_request:
    return "bad_request";
  case ec::not_found:
    return "not_found";
  case ec::still_referenced:
    return "still_referenced";
  case ec::missing_reference:
    return "missing_reference";
  case ec::database_unavailable:
    return "database_unavailable";
  case ec::actor_unavailable:
    return "actor_unavailable";
  case ec::min_seq_timeout:
    return "min_seq_timeout";
  case ec::overloaded:
    return "overloaded";
  case ec::idempotency_key_reused:
    return "idempotency_key_reused";
  case ec::duplicate_value:
    return "duplicate_value";
  case ec::schema_mismatch:
    return "schema_mismatch";
  case ec::domain_mismatch:
    return "domain_mismatch";
  case ec::internal:
    return "internal";
  }
  return "unknown";
}

} // namespace cqrs
