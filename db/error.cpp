// Reading the code and the message back out of a caf::error.
#include "db/error.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>

namespace cqrs {

namespace {

bool is_cqrs(const caf::error& err) {
  return err.category() == caf::atom("cqrs");
}

} // namespace

std::string error_message(const caf::error& err) {
  if (!err)
    return "no error";
  if (is_cqrs(err)) {
    const auto& ctx = err.context();
    if (ctx.size() > 0 && ctx.match_element<std::string>(0))
      return ctx.get_as<std::string>(0);
    return to_string(static_cast<ec>(err.code()));
  }
  return caf::to_string(err);
}

std::string explain_database_failure(const std::string& driver_message) {
  auto has = [&](const char* words) {
    return driver_message.find(words) != std::string::npos;
  };
  if (has("database is locked") || has("database is busy") ||
      has("database table is locked"))
    return "the database is locked by another connection "
           "(waited database.busy_timeout_ms)";
  if (has("lock timeout"))
    return "a lock held by another transaction was not released within "
           "database.lock_timeout_ms";
  if (has("statement timeout"))
    return "the statement ran longer than database.statement_timeout_ms";
  if (has("not connected") || has("server closed the connection") ||
      has("terminating connection") || has("no connection to the server") ||
      has("could not connect") || has("Connection refused") ||
      has("connection to server") || has("shutting down") || has("starting up"))
    return "the database server cannot be reached; cqrsd reconnects on the "
           "next request";
  return {};
}

ec error_code(const caf::error& err) {
  if (!err)
    return ec::none;
  if (is_cqrs(err))
    return static_cast<ec>(err.code());
  return ec::internal;
}

} // namespace cqrs
