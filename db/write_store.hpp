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
#include "model/domain.hpp"

namespace soci {
class session;
} // namespace soci

namespace cqrs {

class statement_cache;
class wal_checkpointer;

namespace detail {
struct resource_sql;
} // namespace detail

/// Applies commands to the resources of a domain (DOMAIN.md, "Resources: the
/// write API"). Only one instance may exist per database at a time: it keeps
/// the next seq in memory.
class write_store {
public:
  /// How long an idempotency key is honoured when `open` is not told.
  static constexpr std::chrono::seconds default_idempotency_ttl{
      command_settings{}.idempotency_ttl_s};

  /// Opens a write session, migrates cqrsd's own tables, creates (or
  /// checks) the tables of the domain `d` (derived), prepares the text of
  /// every statement its resources run and seeds the seq from
  /// `max(commit_log.seq)`. Idempotency keys are honoured for
  /// `idempotency_ttl` after their write.
  static caf::expected<std::unique_ptr<write_store>>
  open(const database_settings& cfg, std::shared_ptr<const domain> d,
       std::chrono::seconds idempotency_ttl = default_idempotency_ttl);

  /// Opens the store of the leader of command node failover, as `open`
  /// does, on `locked`: a PostgreSQL session that holds the leader lock
  /// (db/leadership.hpp). The store never replaces that session. When a
  /// transaction fails, it checks that the session is alive and still holds
  /// the lock; once it does not, the store is `deposed` and refuses every
  /// later write with `ec::not_leader`. So a commit only ever happens on a
  /// session that holds the lock. `fenced` false is a testing build's
  /// fault only: the store then reconnects and writes without the lock.
  static caf::expected<std::unique_ptr<write_store>>
  open_leader(const database_settings& cfg, std::shared_ptr<const domain> d,
              std::chrono::seconds idempotency_ttl,
              std::unique_ptr<soci::session> locked, bool fenced = true);

  ~write_store();

  /// The seq of the last durable commit (0 before the first).
  seq_t last_seq() const noexcept { return last_seq_; }

  /// Applies `cmds` in one database transaction (group commit). A command
  /// that succeeds gets the next seq and a `commit_log` row in the same
  /// transaction, naming the keys it changed (`write_result::changed`,
  /// sorted, without duplicates): for every row it inserts, updates or
  /// deletes, its `row_key` and, for each keyed column of its table, the
  /// `column_key` of its old value (updated and deleted rows) and of its
  /// new value (inserted and updated rows).
  ///
  /// A command is refused, with the first that applies of these, checked in
  /// this order: `ec::not_found` (an update or removal of a root row that
  /// does not exist), `ec::missing_reference` (a reference names no row, or
  /// one the write removes), `ec::duplicate_value` (a unique value repeated
  /// in the body, or held by a row the write neither updates in place nor
  /// removes) and `ec::still_referenced` (a row the write removes is still
  /// referenced from outside the aggregate; nothing cascades outside it).
  /// Messages name the field by its path, as validation does
  /// ("field 'body.copies[2].branch_id': branch 7 does not exist"). A
  /// refused command gets an error without consuming a seq and leaves
  /// nothing behind. Returns one result per command, in order,
  /// after the transaction is durable. If the transaction itself fails,
  /// every command gets `ec::database_unavailable` and no seq is used.
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

  /// The leader's store: runs a trivial statement so that the server keeps
  /// an idle session (and its lock). Returns false once the store is
  /// `deposed`. Other stores: true, doing nothing.
  bool keep_alive();

  /// Whether the leader's store lost its session, and with it the lock.
  bool deposed() const noexcept { return deposed_; }

  /// SQLite: WAL checkpoints run so far by this store's checkpointer, off
  /// the writer's thread (see `wal_checkpointer`); always 0 on PostgreSQL.
  uint64_t wal_checkpoints() const;

private:
  // A commit_log row waiting for the end of its transaction.
  struct log_entry {
    seq_t seq = 0;
    std::string committed_at;
    std::string changed;
  };

  write_store(std::unique_ptr<soci::session> sql, database_backend backend,
              std::shared_ptr<const domain> d,
              std::chrono::seconds idempotency_ttl);

  // Runs one command of a batch as commit `seq` (unless it is refused or
  // replayed) in two phases. First its checks: reads only, and the only
  // place a command is refused (Idempotency-Key reused, unknown id, missing
  // reference, duplicate value, still referenced). Then its writes: its
  // rows, its Idempotency-Key and its commit_log row (written with the
  // COMMIT), none of which refuses it. Keep every new refusal in the
  // checks: `apply` has no savepoint to roll a command's writes back.
  // Throws on database errors.
  caf::expected<write_result> run(const command& cmd, seq_t seq);

  // Writes the commit_log rows of `log_` and commits; see `apply`.
  void commit();

  // Reads `max(commit_log.seq)`; throws on database errors.
  seq_t read_last_seq();

  // Opens the store on `sql`: migrations, the domain's schema, the last seq.
  static caf::expected<std::unique_ptr<write_store>>
  open_on(std::unique_ptr<soci::session> sql, const database_settings& cfg,
          std::shared_ptr<const domain> d,
          std::chrono::seconds idempotency_ttl);

  // After a failed statement: a leader's store checks its lock (and is
  // deposed without it); other stores reconnect a lost session.
  void after_failure();

  // Drops what belongs to the session and may not survive a failure: the
  // kept statements and the prepared commit_log insert. The next
  // transaction re-reads the last seq.
  void forget_session_state() noexcept;

  std::unique_ptr<soci::session> sql_;
  // The statements run on `sql_`; declared after it, so they go first.
  std::unique_ptr<statement_cache> statements_;
  // SQLite only; declared after `sql_`, so it stops first.
  std::unique_ptr<wal_checkpointer> checkpointer_;
  database_backend backend_;
  std::shared_ptr<const domain> domain_;
  // Per resource of `domain_`: the text of every statement it runs.
  std::vector<detail::resource_sql> resources_;
  std::chrono::seconds idempotency_ttl_;
  // The commit_log rows of the open transaction.
  std::vector<log_entry> log_;
  // Opens each write transaction; see `write_transaction_begin`.
  std::string transaction_begin_;
  seq_t last_seq_ = 0;
  // Set after a failed transaction: the next one re-reads the last seq from
  // the database before numbering commits.
  bool resync_seq_ = false;
  // PostgreSQL: this connection holds the prepared commit_log insert.
  bool commit_log_prepared_ = false;
  // The leader's store (`open_leader`), and whether it is fenced.
  bool leader_ = false;
  bool fenced_ = false;
  // The leader's session lost its lock: nothing is written any more.
  bool deposed_ = false;
};

} // namespace cqrs
