// The table of error codes: each code's JSON name and HTTP status.
#include "common/error.hpp"

#include <array>
#include <cstddef>

#include <caf/atom.hpp>
#include <caf/message.hpp>

namespace cqrs {

namespace {

/// How the API answers one error code.
struct ec_answer {
  ec code;
  /// The `code` of the JSON error body.
  const char* name;
  /// The HTTP status.
  int status;
};

/// Every error code, in the order of the enum, with its name and status.
constexpr ec_answer answers[] = {
    {ec::none, "none", 200},
    {ec::bad_request, "bad_request", 400},
    {ec::not_found, "not_found", 404},
    {ec::still_referenced, "still_referenced", 409},
    {ec::missing_reference, "missing_reference", 422},
    {ec::database_unavailable, "database_unavailable", 503},
    {ec::actor_unavailable, "actor_unavailable", 503},
    {ec::min_seq_timeout, "min_seq_timeout", 504},
    {ec::overloaded, "overloaded", 503},
    {ec::internal, "internal", 500},
    {ec::idempotency_key_reused, "idempotency_key_reused", 422},
    {ec::duplicate_value, "duplicate_value", 409},
    {ec::schema_mismatch, "schema_mismatch", 500},
    {ec::domain_mismatch, "domain_mismatch", 503},
    {ec::unauthorized, "unauthorized", 401},
    {ec::method_not_allowed, "method_not_allowed", 405},
    {ec::request_timeout, "request_timeout", 408},
    {ec::payload_too_large, "payload_too_large", 413},
    {ec::uri_too_long, "uri_too_long", 414},
    {ec::unsupported_media_type, "unsupported_media_type", 415},
    {ec::header_too_large, "header_too_large", 431},
    {ec::unavailable, "unavailable", 503},
    {ec::other, "error", 500},
    {ec::command_node_lost, "command_node_lost", 503},
    {ec::not_leader, "not_leader", 503},
};

constexpr bool in_enum_order() {
  for (size_t i = 0; i < std::size(answers); ++i)
    if (static_cast<size_t>(answers[i].code) != i)
      return false;
  return std::size(answers) == ec_count;
}

static_assert(in_enum_order(), "one row per ec, in the order of the enum");

/// The row of `x`, or nullptr for a value outside the enum.
const ec_answer* answer_of(ec x) {
  auto i = static_cast<size_t>(x);
  return i < std::size(answers) ? &answers[i] : nullptr;
}

} // namespace

std::string to_string(ec x) {
  auto row = answer_of(x);
  return row != nullptr ? row->name : "unknown";
}

int http_status(ec x) {
  auto row = answer_of(x);
  return row != nullptr ? row->status : 500;
}

bool is_cqrs_error(const caf::error& err) {
  return err.category() == caf::atom("cqrs");
}

std::string error_message(const caf::error& err) {
  if (!err)
    return "no error";
  if (is_cqrs_error(err)) {
    const auto& ctx = err.context();
    if (ctx.size() > 0 && ctx.match_element<std::string>(0))
      return ctx.get_as<std::string>(0);
    return to_string(static_cast<ec>(err.code()));
  }
  return caf::to_string(err);
}

ec error_code(const caf::error& err) {
  if (!err)
    return ec::none;
  if (is_cqrs_error(err))
    return static_cast<ec>(err.code());
  return ec::internal;
}

} // namespace cqrs
