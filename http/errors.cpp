// Mapping of errors to HTTP statuses and codes.
#include "http/errors.hpp"

#include <caf/sec.hpp>

namespace cqrs::http {

api_error to_api_error(const caf::error& err) {
  if (is_cqrs_error(err))
    return make_api_error(static_cast<ec>(err.code()), error_message(err));
  if (err == caf::sec::request_timeout)
    return make_api_error(ec::actor_unavailable,
                          "the request timed out inside the server");
  return make_api_error(ec::actor_unavailable,
                        "the actor serving the request is unavailable (" +
                            caf::to_string(err) + ")");
}

api_error make_api_error(ec code, std::string message) {
  return {http_status(code), to_string(code), std::move(message)};
}

api_error library_error(int status, std::string message) {
  // The statuses cpp-httplib answers by itself (0.11: 400, 404, 413, 414,
  // 415, 416 and 500).
  auto code = ec::other;
  switch (status) {
  case 400:
    code = ec::bad_request;
    break;
  case 404:
    code = ec::not_found;
    break;
  case 413:
    code = ec::payload_too_large;
    break;
  case 414:
    code = ec::uri_too_long;
    break;
  case 415:
    code = ec::unsupported_media_type;
    break;
  default:
    break;
  }
  return {status, to_string(code), std::move(message)};
}

} // namespace cqrs::http
