// What known transient failures of the database drivers mean for a client.
#include "db/soci_mapping.hpp"

namespace cqrs::detail {

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

} // namespace cqrs::detail
