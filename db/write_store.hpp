// The write side of the database: runs commands in transactions and numbers
// every commit.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "config/settings.hpp"
#include "model/command.hpp"

namespace soci {
class session;
} // namespace soci

namespace cqrs {

class statement_cache;
class wal_checkpointer;

/// Applies commands to the write model. Only one instance may exist per
/// database at a time: it keeps the next seq in memory.
class write_store {
public:
  /// How long an idempotency key is honoured when `open` is not told.
  static constexpr std::chrono::seconds default_idempotency_ttl{
      command_settings{}.idempotency_ttl_s};

  /// Opens a write session, migrates the schema and seeds the seq from
  /// `max(commit_log.seq)`. Idempotency keys are honoured for
  /// `idempotency_ttl` after their write.
  static caf::expected<std::unique_ptr<write_store>>
  open(const database_settings& cfg,
       std::chrono::seconds idempotency_ttl = default_idempotency_ttl);

  ~write_store();

  /// The seq of the last durable commit (0 before the first).
  seq_t last_seq() const noexcept { return last_seq_; }

  /// Applies `cmds` in one database transaction (group commit). A command
  /// that succeeds gets the next seq and a `commit_log` row in the same
  /// transaction. A command that fails (unknown id, missing reference, still
  /// referenced) gets an error without consuming a seq and leaves nothing
  /// behind. Returns one result per command, in order, after the
  /// transaction is durable. If the transaction itself fails, every command
  /// gets `ec::database_unavailable` and no seq is used.
  ///
  /// A command with an `idempotency_key` that a successful command stored
  /// within the TTL (earlier, or before it in the same batch) is not applied:
  /// with the same `request_hash` it gets that command's `id` and `seq` with
  /// `replayed` set, otherwise `ec::idempotency_key_reused`. Otherwise the
  /// key is stored with the command's result in the same transaction, so it
  /// commits or rolls back with the write. Failed commands store no key.
  ///
  /// The invariant that makes this work without a savepoint per command:
  /// every way a command can fail is detected by reads before its first
  /// write (see `run`). A refused command has written nothing, and once a
  /// command writes, only a database error stops it, which fails the whole
  /// transaction.
  std::vector<caf::expected<write_result>>
  apply(const std::vector<command>& cmds);

  /// Applies one command in its own transaction; see `apply`.
  caf::expected<write_result> apply(const command& cmd);

  /// Deletes the idempotency keys older than the TTL, in a transaction of
  /// its own. Returns how many it deleted.
  caf::expected<uint64_t> prune_idempotency_keys();

  /// How long idempotency keys are honoured.
  std::chrono::seconds idempotency_ttl() const noexcept {
    return idempotency_ttl_;
  }

  /// SQLite: WAL checkpoints run so far by this store's checkpointer, off
  /// the writer's thread (see `wal_checkpointer`); always 0 on PostgreSQL.
  uint64_t wal_checkpoints() const;

private:
  write_store(std::unique_ptr<soci::session> sql, database_backend backend,
              std::chrono::seconds idempotency_ttl);

  // Runs one command of a batch as commit `seq` (unless it is refused or
  // replayed) in two phases. First its checks: reads only, and the only
  // place a command is refused (Idempotency-Key reused, unknown id, missing
  // reference, still referenced). Then its writes: its rows, its commit_log
  // row and its Idempotency-Key, none of which refuses it. Keep every new
  // refusal in the checks: `apply` has no savepoint to roll a command's
  // writes back. Throws on database errors.
  caf::expected<write_result> run(const command& cmd, seq_t seq);

  // Reads `max(commit_log.seq)`; throws on database errors.
  seq_t read_last_seq();

  std::unique_ptr<soci::session> sql_;
  // The statements run on `sql_`; declared after it, so they go first.
  std::unique_ptr<statement_cache> statements_;
  // SQLite only; declared after `sql_`, so it stops first.
  std::unique_ptr<wal_checkpointer> checkpointer_;
  database_backend backend_;
  std::chrono::seconds idempotency_ttl_;
  // Opens each write transaction; see `write_transaction_begin`.
  std::string transaction_begin_;
  seq_t last_seq_ = 0;
  // Set after a failed transaction: the next one re-reads the last seq from
  // the database before numbering commits.
  bool resync_seq_ = false;
};

} // namespace cqrs
