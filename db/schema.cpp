// Opening SQLite and PostgreSQL sessions and migrating the schema.
#include "db/schema.hpp"

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "common/error.hpp"
#include "db/soci_mapping.hpp"

// The PostgreSQL backend header includes <libpq-fe.h>, which lives outside
// the default include path; its factory entry point is all we need.
namespace soci {
extern "C" backend_factory const* factory_postgresql();
} // namespace soci

namespace cqrs {

namespace {

// -- SQLite -------------------------------------------------------------------

// SOCI's SQLite backend (4.0) splits its connection string at spaces and
// understands double-quoted values, so the path is always quoted.
std::string sqlite_connection_string(const database_settings& cfg,
                                     session_mode mode) {
  auto timeout_s = (cfg.busy_timeout_ms + 999) / 1000;
  std::string result = "db=\"" + cfg.sqlite_path + "\"";
  result += " timeout=" + std::to_string(timeout_s);
  if (mode == session_mode::read)
    result += " readonly=true";
  return result;
}

caf::expected<std::unique_ptr<soci::session>>
open_sqlite(const database_settings& cfg, session_mode mode) {
  if (cfg.sqlite_path.empty())
    return make_cqrs_error(ec::database_unavailable,
                           "database.sqlite_path is empty");
  if (cfg.sqlite_path.find('"') != std::string::npos)
    return make_cqrs_error(ec::database_unavailable,
                           "database.sqlite_path must not contain '\"': " +
                               cfg.sqlite_path);
  namespace fs = std::filesystem;
  if (mode == session_mode::write) {
    auto parent = fs::path{cfg.sqlite_path}.parent_path();
    std::error_code err;
    if (!parent.empty() && !fs::exists(parent, err)) {
      fs::create_directories(parent, err);
      if (err)
        return make_cqrs_error(
            ec::database_unavailable,
            "cannot create directory " + parent.string() +
                " for the SQLite database: " + err.message());
    }
  }
  std::unique_ptr<soci::session> sql;
  try {
    sql = std::make_unique<soci::session>(soci::sqlite3,
                                          sqlite_connection_string(cfg, mode));
  } catch (const std::exception& e) {
    return detail::database_error(
        "cannot open SQLite database " + cfg.sqlite_path +
            (mode == session_mode::read ? " read-only" : ""),
        e);
  }
  try {
    auto busy = std::to_string(cfg.busy_timeout_ms);
    *sql << "PRAGMA busy_timeout=" + busy;
    if (mode == session_mode::write) {
      std::string journal_mode;
      *sql << "PRAGMA journal_mode=WAL", soci::into(journal_mode);
      if (journal_mode != "wal")
        return make_cqrs_error(ec::database_unavailable,
                               "SQLite database " + cfg.sqlite_path +
                                   " refused WAL mode (journal_mode is " +
                                   journal_mode + ")");
      *sql << "PRAGMA synchronous=FULL";
      *sql << "PRAGMA foreign_keys=ON";
    }
  } catch (const std::exception& e) {
    return detail::database_error(
        "cannot configure SQLite database " + cfg.sqlite_path, e);
  }
  return sql;
}

// -- PostgreSQL ---------------------------------------------------------------

namespace {

/// What a PostgreSQL read session runs after connecting.
constexpr const char* read_session_setup =
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY, "
    "ISOLATION LEVEL REPEATABLE READ";

} // namespace

caf::expected<std::unique_ptr<soci::session>>
open_postgresql(const database_settings& cfg, session_mode mode) {
  std::unique_ptr<soci::session> sql;
  try {
    sql = std::make_unique<soci::session>(*soci::factory_postgresql(),
                                          cfg.postgresql);
  } catch (const std::exception& e) {
    return detail::database_error("cannot connect to PostgreSQL", e);
  }
  try {
    if (mode == session_mode::read)
      *sql << read_session_setup;
  } catch (const std::exception& e) {
    return detail::database_error("cannot configure PostgreSQL session", e);
  }
  return sql;
}

// -- schema -------------------------------------------------------------------

// The statements that bring a database from version `version - 1` to
// `version`. Only the column types differ between the backends.
std::vector<std::string> migration(int version, database_backend backend) {
  bool sqlite = backend == database_backend::sqlite;
  std::string ref = sqlite ? "INTEGER" : "BIGINT";
  switch (version) {
  case 1:
    // Releases before declared domains also created the built-in domain's
    // four tables here; they now come from domains/objects.yaml through
    // ensure_domain_schema, which accepts the tables made then.
    return {
        "CREATE TABLE IF NOT EXISTS commit_log (seq " + ref +
            " PRIMARY KEY, committed_at TEXT NOT NULL, changed TEXT NOT NULL)",
    };
  case 2:
    // Idempotency-Key: one row per key whose write succeeded, inserted in
    // the write's own transaction. `request_hash` ties the key to the
    // request it was first used for; `id` and `seq` are that write's answer
    // (the method, and so the status, is part of the hash). `created_at`
    // (as in commit_log) bounds how long the key is kept.
    return {
        "CREATE TABLE IF NOT EXISTS idempotency_key (key TEXT PRIMARY KEY"
        ", request_hash TEXT NOT NULL, id " +
            ref + " NOT NULL, seq " + ref +
            " NOT NULL, created_at TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS idempotency_key_created_at"
        " ON idempotency_key(created_at)",
    };
  default:
    return {};
  }
}

} // namespace

void recover_lost_connection(soci::session& sql, session_mode mode) noexcept {
  // SQLite sessions always count as connected; a PostgreSQL session does
  // not once libpq saw the connection break, or after close().
  if (sql.is_connected())
    return;
  try {
    sql.reconnect();
    if (mode == session_mode::read)
      sql << read_session_setup;
  } catch (...) {
    if (mode != session_mode::read)
      return; // The next batch fails and tries again.
    try {
      sql.close();
    } catch (...) {
      // Nothing more to undo.
    }
  }
}

std::string write_transaction_begin(const database_settings& cfg) {
  if (cfg.backend != database_backend::postgresql)
    return "BEGIN IMMEDIATE";
  // set_config(..., true) is SET LOCAL: it ends with the transaction. A
  // lock_timeout of 0 waits forever, as asked; a statement_timeout of 0
  // leaves the server's (or the role's) own setting alone.
  auto setting = [](const char* name, uint32_t ms) {
    return std::string{"set_config('"} + name + "', '" + std::to_string(ms) +
           "ms', true)";
  };
  // Two statements in one simple query: SOCI sends a statement without
  // parameters with PQexec, which runs them in order in one round trip, and
  // the transaction BEGIN opens goes on after them.
  std::string result =
      "BEGIN; SELECT " + setting("lock_timeout", cfg.lock_timeout_ms);
  if (cfg.statement_timeout_ms != 0)
    result += ", " + setting("statement_timeout", cfg.statement_timeout_ms);
  return result;
}

caf::expected<std::unique_ptr<soci::session>>
open_session(const database_settings& cfg, session_mode mode) {
  try {
    if (cfg.backend == database_backend::postgresql)
      return open_postgresql(cfg, mode);
    return open_sqlite(cfg, mode);
  } catch (const std::exception& e) {
    return detail::database_error("cannot open the database", e);
  } catch (...) {
    return make_cqrs_error(ec::internal,
                           "unknown exception while opening the database");
  }
}

caf::error migrate(soci::session& sql, database_backend backend) {
  try {
    if (backend == database_backend::sqlite) {
      // Take the write lock up front: two writers must not race here.
      sql << "BEGIN IMMEDIATE";
    } else {
      sql << "BEGIN";
      // Serializes concurrent migrations; released at COMMIT or ROLLBACK.
      sql << "SELECT pg_advisory_xact_lock(" + std::to_string(schema_lock_key) +
                 ")";
      // Keeps "already exists, skipping" notices out of the server log.
      sql << "SET LOCAL client_min_messages = warning";
    }
    sql << "CREATE TABLE IF NOT EXISTS schema_version"
           " (version INTEGER NOT NULL)";
    long long current = 0;
    sql << "SELECT coalesce(max(version), 0) FROM schema_version",
        soci::into(current);
    if (current > schema_version) {
      detail::execute_quietly(sql, "ROLLBACK");
      return make_cqrs_error(
          ec::database_unavailable,
          "database schema version " + std::to_string(current) +
              " is newer than this cqrsd supports (" +
              std::to_string(schema_version) + "); upgrade cqrsd");
    }
    for (auto version = static_cast<int>(current) + 1;
         version <= schema_version; ++version)
      for (const auto& statement : migration(version, backend))
        sql << statement;
    if (current < schema_version) {
      int version = schema_version;
      sql << "DELETE FROM schema_version";
      sql << "INSERT INTO schema_version (version) VALUES (:version)",
          soci::use(version);
    }
    sql << "COMMIT";
    return caf::none;
  } catch (const std::exception& e) {
    detail::execute_quietly(sql, "ROLLBACK");
    return detail::database_error("cannot migrate the database schema", e);
  } catch (...) {
    detail::execute_quietly(sql, "ROLLBACK");
    return make_cqrs_error(ec::internal,
                           "unknown exception while migrating the schema");
  }
}

} // namespace cqrs
