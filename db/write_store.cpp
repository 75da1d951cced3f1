// Runs commands in write transactions, numbers each commit and writes its
// commit_log row in the same transaction.
//
// What a command costs, in statements (each a round trip on PostgreSQL; all
// of them kept prepared, on both backends):
// - its checks: one statement that reads whatever can refuse it and the
//   existing rows its writes change (none for a create that references
//   nothing and has no unique column), plus one with an Idempotency-Key;
// - its writes: per node of its resource, one INSERT per row, or the UPDATE
//   in place of a root or an owned single child; per owned array (and the
//   nodes under it) one DELETE of the rows it replaces, and on PostgreSQL
//   one INSERT of all its new rows (on SQLite one per row, which costs no
//   round trip);
// - on PostgreSQL, an update of a resource without owned arrays, such as
//   `PUT /objects/{id}`, is one statement in all: checks and writes;
// - its commit_log row: on PostgreSQL sent with the COMMIT, in its round
//   trip (one row through a prepared insert, more rows in one INSERT); on
//   SQLite one statement.
// BEGIN, with the transaction's timeouts, and COMMIT are one round trip
// each per batch. A refusal's message may cost one more read.
#include "db/write_store.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include <soci/soci.h>

#include "common/error.hpp"
#include "common/time.hpp"
#include "db/domain_schema.hpp"
#include "db/leadership.hpp"
#include "db/schema.hpp"
#include "db/soci_mapping.hpp"
#include "db/statement_cache.hpp"
#include "db/wal_checkpointer.hpp"
#include "db/write_command.hpp"
#include "db/write_sql.hpp"

namespace cqrs {

namespace {

// -- small queries ------------------------------------------------------------

std::string join(const std::vector<std::string>& keys) {
  std::string result;
  for (const auto& key : keys) {
    if (!result.empty())
      result += ' ';
    result += key;
  }
  return result;
}

// -- Idempotency-Key ----------------------------------------------------------

// A check, reads only: what the key of `cmd` says. When a command stored
// the key at or after `oldest_valid` (a `utc_text`), the same request gets
// that command's answer to replay and another request
// `ec::idempotency_key_reused`. A key never stored, or stored before
// `oldest_valid` and not pruned yet, is free: nothing is returned.
caf::expected<std::optional<write_result>>
stored_answer(statement_cache& q, const command& cmd,
              const std::string& oldest_valid) {
  std::string stored_hash;
  std::string created_at;
  long long stored_id = 0;
  long long stored_seq = 0;
  auto found = q.exec(
      "SELECT request_hash, id, seq, created_at FROM idempotency_key"
      " WHERE key = :key",
      soci::use(cmd.idempotency_key), soci::into(stored_hash),
      soci::into(stored_id), soci::into(stored_seq), soci::into(created_at));
  if (!found || created_at < oldest_valid)
    return std::optional<write_result>{};
  if (stored_hash != cmd.request_hash)
    return make_cqrs_error(
        ec::idempotency_key_reused,
        "Idempotency-Key '" + cmd.idempotency_key +
            "' was already used for a different request (method, path "
            "or body); use a new key for a new request");
  write_result replay;
  replay.id = static_cast<row_id>(stored_id);
  replay.seq = static_cast<seq_t>(stored_seq);
  replay.replayed = true;
  return std::optional<write_result>{std::move(replay)};
}

// A write: stores the key of `cmd` with its answer `result`, written at
// `created_at` (a `utc_text`). It takes over the row of an expired key that
// was not pruned yet, so a free key is never deleted before the command's
// checks ran.
void store_key(statement_cache& q, const command& cmd,
               const write_result& result, const std::string& created_at) {
  long long id = result.id;
  long long seq = static_cast<long long>(result.seq);
  q.exec(
      "INSERT INTO idempotency_key (key, request_hash, id, seq, created_at)"
      " VALUES (:key, :request_hash, :id, :seq, :created_at)"
      " ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash,"
      " id = excluded.id, seq = excluded.seq,"
      " created_at = excluded.created_at",
      soci::use(cmd.idempotency_key), soci::use(cmd.request_hash),
      soci::use(id), soci::use(seq), soci::use(created_at));
}

// -- the commit_log rows of a transaction -------------------------------------

// PostgreSQL: the commit_log insert, prepared once per connection (by the
// first COMMIT that needs it), so that each commit's row costs no parse.
constexpr const char* prepare_commit_log =
    "PREPARE cqrsd_commit_log (BIGINT, TEXT, TEXT) AS INSERT INTO commit_log"
    " (seq, committed_at, changed) VALUES ($1, $2, $3)";

// Appends `text` to `out` as a PostgreSQL string constant: an E'' constant,
// whose meaning does not depend on standard_conforming_strings. Returns
// false, appending nothing, when `text` holds a NUL byte.
bool append_postgresql_literal(std::string& out, const std::string& text) {
  if (text.find('\0') != std::string::npos)
    return false;
  out += "E'";
  size_t done = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\'' && text[i] != '\\')
      continue;
    out.append(text, done, i + 1 - done);
    out += text[i]; // doubled
    done = i + 1;
  }
  out.append(text, done, std::string::npos);
  out += '\'';
  return true;
}

} // namespace

// -- construction -------------------------------------------------------------

write_store::write_store(std::unique_ptr<soci::session> sql,
                         database_backend backend,
                         std::shared_ptr<const domain> d,
                         std::chrono::seconds idempotency_ttl)
    : sql_(std::move(sql)),
      statements_(std::make_unique<statement_cache>(*sql_, backend)),
      backend_(backend), domain_(std::move(d)),
      resources_(detail::generate_write_sql(*domain_, backend)),
      idempotency_ttl_(idempotency_ttl) {
  // nop
}

write_store::~write_store() = default;

caf::expected<std::unique_ptr<write_store>>
write_store::open(const database_settings& cfg, std::shared_ptr<const domain> d,
                  std::chrono::seconds idempotency_ttl) {
  auto sql = open_session(cfg, session_mode::write);
  if (!sql)
    return std::move(sql.error());
  return open_on(std::move(*sql), cfg, std::move(d), idempotency_ttl);
}

caf::expected<std::unique_ptr<write_store>>
write_store::open_leader(const database_settings& cfg,
                         std::shared_ptr<const domain> d,
                         std::chrono::seconds idempotency_ttl,
                         std::unique_ptr<soci::session> locked, bool fenced) {
  if (cfg.backend != database_backend::postgresql || locked == nullptr)
    return make_cqrs_error(ec::internal, "a leader's write store needs a "
                                         "PostgreSQL session holding the "
                                         "leader lock");
  auto store = open_on(std::move(locked), cfg, std::move(d), idempotency_ttl);
  if (store) {
    (*store)->leader_ = true;
    (*store)->fenced_ = fenced;
  }
  return store;
}

caf::expected<std::unique_ptr<write_store>> write_store::open_on(
    std::unique_ptr<soci::session> sql, const database_settings& cfg,
    std::shared_ptr<const domain> d, std::chrono::seconds idempotency_ttl) {
  if (d == nullptr)
    return make_cqrs_error(ec::internal, "the write store needs a domain");
  if (auto err = migrate(*sql, cfg.backend))
    return err;
  if (auto err = ensure_domain_schema(*sql, cfg.backend, *d))
    return err;
  std::unique_ptr<write_store> result{new write_store(
      std::move(sql), cfg.backend, std::move(d), idempotency_ttl)};
  result->transaction_begin_ = write_transaction_begin(cfg);
  try {
    result->last_seq_ = result->read_last_seq();
  } catch (const std::exception& e) {
    return detail::database_error("cannot read the last commit seq", e);
  }
  if (cfg.backend == database_backend::sqlite)
    result->checkpointer_ = wal_checkpointer::attach(cfg, *result->sql_);
  return result;
}

void write_store::after_failure() {
  if (!leader_ || !fenced_) {
    recover_lost_connection(*sql_, session_mode::write);
    return;
  }
  // Never reconnect: a new session would not hold the lock, and another
  // node may hold it by now.
  if (!deposed_ && !holds_leader_lock(*sql_))
    deposed_ = true;
}

bool write_store::keep_alive() {
  if (!leader_ || deposed_)
    return !deposed_;
  if (leader_ping(*sql_))
    return true;
  if (!sql_->is_connected()) {
    // The session is gone, and its kept statements with it. (Without
    // fencing, `after_failure` replaces it.)
    forget_session_state();
  }
  after_failure();
  return !deposed_;
}

void write_store::forget_session_state() noexcept {
  statements_->forget();
  commit_log_prepared_ = false;
  resync_seq_ = true;
}

uint64_t write_store::wal_checkpoints() const {
  return checkpointer_ ? checkpointer_->completed() : 0;
}

seq_t write_store::read_last_seq() {
  long long seq = 0;
  *sql_ << "SELECT coalesce(max(seq), 0) FROM commit_log", soci::into(seq);
  return static_cast<seq_t>(seq);
}

// -- applying commands --------------------------------------------------------

std::vector<caf::expected<write_result>>
write_store::apply(const std::vector<command>& cmds) {
  std::vector<caf::expected<write_result>> results;
  if (cmds.empty())
    return results;
  if (deposed_) {
    results.assign(cmds.size(),
                   caf::expected<write_result>{make_cqrs_error(
                       ec::not_leader, "this command node lost the leader "
                                       "lock to another one; the write was "
                                       "not applied here")});
    return results;
  }
  results.reserve(cmds.size());
  log_.clear();
  auto& sql = *sql_;
  auto& q = *statements_;
  // Every command of a failed transaction gets `err`, and no seq is used.
  auto fail = [&](caf::error err) {
    detail::execute_quietly(sql, "ROLLBACK");
    if (backend_ == database_backend::postgresql) {
      // Whether the failed COMMIT prepared it is unknown.
      detail::execute_quietly(sql, "DEALLOCATE cqrsd_commit_log");
    }
    // Kept statements belong to this connection, which may be replaced
    // next: drop them while it still exists.
    forget_session_state();
    after_failure();
    log_.clear();
    results.assign(cmds.size(), caf::expected<write_result>{std::move(err)});
    return std::move(results);
  };
  try {
    q.exec(transaction_begin_);
    // After a failed transaction, the outcome of its COMMIT may be unknown
    // (a lost connection); the database then knows the last seq, we do not.
    auto base = resync_seq_ ? read_last_seq() : last_seq_;
    auto next = base;
    // No savepoint per command: `run` refuses a command before its first
    // write, so a refused command leaves nothing to roll back.
    for (const auto& cmd : cmds) {
      auto result = run(cmd, next + 1);
      if (result && !result->replayed)
        ++next;
      results.emplace_back(std::move(result));
    }
    if (next == base)
      q.exec("ROLLBACK");
    else
      commit();
    last_seq_ = next;
    resync_seq_ = false;
    return results;
  } catch (const std::exception& e) {
    return fail(detail::database_error("write transaction failed", e));
  } catch (...) {
    return fail(make_cqrs_error(ec::internal,
                                "unknown exception in a write transaction"));
  }
}

void write_store::commit() {
  auto& q = *statements_;
  if (backend_ == database_backend::postgresql && !log_.empty()) {
    // The rows and the COMMIT in one round trip: a statement without bound
    // values goes as one simple query, whose statements run in order up to
    // the first error (which `apply` then rolls back). One row runs the
    // prepared insert; more rows one INSERT, whose parsing they share.
    std::string text;
    bool literal = true;
    if (log_.size() == 1) {
      if (!commit_log_prepared_)
        text = std::string{prepare_commit_log} + "; ";
      text += "EXECUTE cqrsd_commit_log(";
    } else {
      text = "INSERT INTO commit_log (seq, committed_at, changed) VALUES (";
    }
    for (size_t i = 0; i < log_.size(); ++i) {
      const auto& entry = log_[i];
      text += i == 0 ? "" : ", (";
      text += std::to_string(entry.seq) + ", ";
      literal = literal && append_postgresql_literal(text, entry.committed_at);
      text += ", ";
      literal = literal && append_postgresql_literal(text, entry.changed);
      text += ")";
    }
    if (literal) {
      q.exec(text + "; COMMIT");
      if (log_.size() == 1)
        commit_log_prepared_ = true;
      log_.clear();
      return;
    }
  }
  static const std::string insert_log =
      "INSERT INTO commit_log (seq, committed_at, changed)"
      " VALUES (:seq, :committed_at, :changed)";
  if (backend_ == database_backend::sqlite && log_.size() > 1) {
    // All rows in one run of the kept statement (SOCI steps it once per
    // row): one bind, execute and reset for the batch, not one per command.
    std::vector<long long> seqs;
    std::vector<std::string> committed_at;
    std::vector<std::string> changed;
    seqs.reserve(log_.size());
    committed_at.reserve(log_.size());
    changed.reserve(log_.size());
    for (auto& entry : log_) {
      seqs.push_back(static_cast<long long>(entry.seq));
      committed_at.push_back(std::move(entry.committed_at));
      changed.push_back(std::move(entry.changed));
    }
    // A text of its own, so each kept statement is always bound alike.
    static const std::string insert_log_rows = insert_log + " -- rows";
    q.exec(insert_log_rows, soci::use(seqs), soci::use(committed_at),
           soci::use(changed));
  } else {
    for (const auto& entry : log_) {
      long long seq = static_cast<long long>(entry.seq);
      q.exec(insert_log, soci::use(seq), soci::use(entry.committed_at),
             soci::use(entry.changed));
    }
  }
  log_.clear();
  q.exec("COMMIT");
}

caf::expected<write_result> write_store::apply(const command& cmd) {
  auto results = apply(std::vector<command>{cmd});
  return std::move(results.front());
}

caf::expected<uint64_t> write_store::prune_idempotency_keys() {
  auto& sql = *sql_;
  try {
    auto cutoff = utc_text(std::chrono::system_clock::now() - idempotency_ttl_);
    soci::statement st = (sql.prepare << "DELETE FROM idempotency_key"
                                         " WHERE created_at < :cutoff",
                          soci::use(cutoff));
    st.execute(true);
    return static_cast<uint64_t>(std::max(st.get_affected_rows(), 0LL));
  } catch (const std::exception& e) {
    after_failure();
    return detail::database_error("cannot prune idempotency keys", e);
  }
}

// -- one command --------------------------------------------------------------

caf::expected<write_result> write_store::run(const command& cmd, seq_t seq) {
  auto& q = *statements_;
  auto now = std::chrono::system_clock::now();
  // The checks: reads only, and the only place a command is refused.
  if (!cmd.idempotency_key.empty()) {
    auto stored = stored_answer(q, cmd, utc_text(now - idempotency_ttl_));
    if (!stored)
      return std::move(stored.error());
    if (*stored)
      return std::move(**stored);
  }
  if (cmd.resource >= resources_.size())
    return make_cqrs_error(ec::internal, "the command names resource " +
                                             std::to_string(cmd.resource) +
                                             ", which the domain lacks");
  const auto& d = *domain_;
  const auto& r = d.resources[cmd.resource];
  auto shape = detail::shape_of(d, r, cmd);
  if (!shape)
    return std::move(shape.error());
  detail::write_context x{q, d, r, resources_[cmd.resource], cmd, *shape};
  auto found = detail::check_command(x);
  if (!found)
    return std::move(found.error());
  // The writes: from here on, only a database error (an exception, which
  // fails the whole transaction) stops the command.
  auto result = detail::write_command(x, *found);
  result.seq = seq;
  auto committed_at = utc_text(now);
  if (!cmd.idempotency_key.empty())
    store_key(q, cmd, result, committed_at);
  log_.push_back(log_entry{seq, std::move(committed_at), join(result.changed)});
  return result;
}

} // namespace cqrs
