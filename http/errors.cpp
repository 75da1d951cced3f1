// Mapping of errors to HTTP statuses and codes.
#include "http/errors.hpp"

#include <caf/sec.hpp>

#include "db/error.hpp"

namespace cqrs::http {

int status_of(ec code) {
  switch (code) {
  case ec::none:
    return 200;
  case ec::bad_request:
    return 400;
  case ec::not_found:
    return 404;
  case ec::still_referenced:
  case ec::duplicate_value:
    return 409;
  case ec::missing_reference:
  case ec::idempotency_key_reused:
    return 422;
  case ec::database_unavailable:
  case ec::actor_unavailable:
  case ec::overloaded:
  case ec::domain_mismatch:
    return 503;
  case ec::min_seq_timeout:
    return 504;
  case ec::schema_mismatch:
  case ec::internal:
    break;
  }
  return 500;
}

api_error to_api_error(const caf::error& err) {
  if (err.category() == caf::atom("cqrs")) {
    auto code = static_cast<ec>(err.code());
    return {status_of(code), to_string(code), error_message(err)};
  }
  if (err == caf::sec::request_timeout)
    return {503, to_string(ec::actor_unavailable),
            "the request timed out inside the server"};
  return {503, to_string(ec::actor_unavailable),
          "the actor serving the request is unavailable (" +
              caf::to_string(err) + ")"};
}

api_error make_api_error(int status, std::string message) {
  const char* code = "error";
  switch (status) {
  case 400:
    code = "bad_request";
    break;
  case 401:
    code = "unauthorized";
    break;
  case 404:
    code = "not_found";
    break;
  case 405:
    code = "method_not_allowed";
    break;
  case 409:
    code = "still_referenced";
    break;
  case 413:
    code = "payload_too_large";
    break;
  case 414:
    code = "uri_too_long";
    break;
  case 415:
    code = "unsupported_media_type";
    break;
  case 422:
    code = "missing_reference";
    break;
  case 503:
    code = "unavailable";
    break;
  case 504:
    code = "min_seq_timeout";
    break;
  default:
    break;
  }
  return {status, code, std::move(message)};
}

} // namespace cqrs::http
