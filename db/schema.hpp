// Opening database sessions and bringing the schema up to date.
#pragma once

#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "config/settings.hpp"

namespace soci {
class session;
} // namespace soci

namespace cqrs {

/// How a session is going to be used.
enum class session_mode : uint8_t {
  /// The single writer: SQLite in WAL mode with synchronous=FULL and foreign
  /// keys on.
  write,
  /// A reader: SQLite opened read-only, PostgreSQL with
  /// default_transaction_read_only.
  read,
};

/// Opens a session on the configured database. For SQLite in write mode, it
/// creates the file and its parent directory when missing.
caf::expected<std::unique_ptr<soci::session>>
open_session(const database_settings& cfg, session_mode mode);

/// After a failed statement: when the PostgreSQL server ended the
/// connection (restart, fail-over, pg_terminate_backend, an idle timeout),
/// reconnects `sql` and restores what `open_session` set up for `mode`, so
/// the next statement can succeed. A read session that cannot be made
/// read-only again is closed, never left read-write. SQLite sessions and
/// live connections are left alone; failures are left for the next attempt.
void recover_lost_connection(soci::session& sql, session_mode mode) noexcept;

/// The statement that opens a write transaction. On SQLite, BEGIN IMMEDIATE:
/// it takes the write lock up front (SQLite bounds waits with its busy
/// timeout). On PostgreSQL, BEGIN followed, in the same round trip, by the
/// setting of `lock_timeout` and `statement_timeout` for this transaction
/// only (so they survive reconnects) from `database.lock_timeout_ms` and
/// `database.statement_timeout_ms`.
std::string write_transaction_begin(const database_settings& cfg);

/// Creates or upgrades cqrsd's own tables (`schema_version`, `commit_log`,
/// `idempotency_key`) inside one transaction. Idempotent. The domain's
/// tables are `ensure_domain_schema`'s (db/domain_schema.hpp).
caf::error migrate(soci::session& sql, database_backend backend);

/// The schema version `migrate` brings a database to.
/// Version 1: commit_log; 2: idempotency_key. Databases migrated to version 1
/// by releases before declared domains also hold the built-in domain's four
/// tables, which `ensure_domain_schema` checks and keeps.
inline constexpr int schema_version = 2;

/// PostgreSQL: the key of the advisory transaction lock under which
/// `migrate` and `ensure_domain_schema` change the schema, so that nodes
/// starting at once take turns.
inline constexpr long long schema_lock_key = 7302052;

} // namespace cqrs
