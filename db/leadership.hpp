// Who may write a database. On PostgreSQL, command-capable nodes compete for
// a session-level advisory lock, held on the write session itself; on
// SQLite, one process at a time holds a lock file beside the database.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "config/settings.hpp"

namespace soci {
class session;
} // namespace soci

namespace cqrs {

/// PostgreSQL: the key of the session-level advisory lock whose holder is the
/// leader, the one command node that writes. (`schema_lock_key`, a
/// transaction lock, is another key.)
inline constexpr long long leader_lock_key = 7302053;

/// Opens a PostgreSQL write session for a command-capable node, set up so
/// that the server ends it, and so releases the leader lock, within about
/// `lease` of this process dying, freezing or losing its network:
/// `idle_session_timeout` and `idle_in_transaction_session_timeout` of
/// `lease`, TCP keepalives that give up after about `lease`, and a
/// `tcp_user_timeout` of `lease`. The holder must run a statement more
/// often than `lease` (see `leader_ping`), or the server ends its session.
caf::expected<std::unique_ptr<soci::session>>
open_leader_session(const database_settings& cfg,
                    std::chrono::milliseconds lease);

/// Tries to take the leader lock on `sql` without waiting. True when `sql`
/// holds it now (also when it held it already).
caf::expected<bool> try_leader_lock(soci::session& sql);

/// Whether `sql` is connected and holds the leader lock. False, never an
/// exception, when the session is gone.
bool holds_leader_lock(soci::session& sql) noexcept;

/// Runs a trivial statement on `sql`, so that the server does not end an
/// idle leader session. False when the session is gone.
bool leader_ping(soci::session& sql) noexcept;

/// SQLite: the lock of the one process that may write a database file. It
/// is an exclusive `flock` on `<database>.writer-lock`, which the kernel
/// drops when the process ends, however it ends.
class sqlite_writer_lock {
public:
  /// Takes the lock for `cfg.sqlite_path`, or fails with a message naming
  /// the file and the process that holds it.
  static caf::expected<std::unique_ptr<sqlite_writer_lock>>
  acquire(const database_settings& cfg);

  ~sqlite_writer_lock();

  sqlite_writer_lock(const sqlite_writer_lock&) = delete;
  sqlite_writer_lock& operator=(const sqlite_writer_lock&) = delete;

private:
  explicit sqlite_writer_lock(int fd) : fd_(fd) {}

  int fd_;
};

} // namespace cqrs
