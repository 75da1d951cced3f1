// Runs commands in write transactions, numbers each commit and writes its
// commit_log row in the same transaction.
#include "db/write_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <utility>

#include <soci/soci.h>

#include "db/error.hpp"
#include "db/schema.hpp"
#include "db/soci_mapping.hpp"
#include "db/statement_cache.hpp"
#include "db/wal_checkpointer.hpp"
#include "model/row_key.hpp"

namespace cqrs {

namespace {

// -- small queries ------------------------------------------------------------

// `now` as an ISO 8601 UTC string with milliseconds; such strings sort in
// time order.
std::string utc_text(std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  auto secs = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

// The current time as an ISO 8601 UTC string with milliseconds.
std::string utc_now() {
  return utc_text(std::chrono::system_clock::now());
}

std::string join(const std::vector<std::string>& keys) {
  std::string result;
  for (const auto& key : keys) {
    if (!result.empty())
      result += ' ';
    result += key;
  }
  return result;
}

// -- a command's checks: reads only -------------------------------------------
//
// A command's checks take one statement at most (an Idempotency-Key adds
// one): every existence check and count it needs is a scalar subquery of
// that statement, each with a bind name of its own, so that they cost one
// round trip together.

// What a command's checks read that its writes use.
struct checked {
  // The child of the object an update or removal targets; 0 when it has
  // none.
  row_id child = 0;
};

caf::error does_not_exist(ec code, std::string_view what, row_id id) {
  return make_cqrs_error(code, std::string{what} + " " + std::to_string(id) +
                                   " does not exist");
}

caf::error still_referenced(std::string_view what, row_id id, long long count) {
  return make_cqrs_error(ec::still_referenced,
                         std::string{what} + " " + std::to_string(id) +
                             " is still referenced by " +
                             std::to_string(count) +
                             (count == 1 ? " object" : " objects"));
}

// Checks an update or removal of the category or related object `id` in
// `table_name` (a constant, never user input): it must exist and, to be
// removed, no child object may refer to it through `column`.
caf::expected<checked> check_referenced_row(statement_cache& q, operation op,
                                            std::string_view table_name,
                                            std::string_view column,
                                            row_id id) {
  const std::string table{table_name};
  long long key = id;
  long long rows = 0;
  long long referencing = 0;
  if (op == operation::update) {
    q.exec("SELECT count(*) FROM " + table + " WHERE id = :id", soci::use(key),
           soci::into(rows));
  } else {
    q.exec("SELECT (SELECT count(*) FROM " + table +
               " WHERE id = :id),"
               " (SELECT count(*) FROM child_object WHERE " +
               std::string{column} + " = :referenced_id)",
           soci::use(key), soci::use(key), soci::into(rows),
           soci::into(referencing));
  }
  if (rows == 0)
    return does_not_exist(ec::not_found, table_name, id);
  if (referencing > 0)
    return still_referenced(table_name, id, referencing);
  return checked{};
}

// What refuses the object command `cmd`, given how many rows its checks
// found: the object (update, remove), then the related object and the
// category its child refers to (create, update); nothing when all exist.
caf::error object_refusal(const command& cmd, long long objects,
                          long long related, long long categories) {
  const auto& child = cmd.object_fields.child;
  if (objects == 0)
    return does_not_exist(ec::not_found, "object", cmd.id);
  if (related == 0)
    return does_not_exist(ec::missing_reference, table::related_object,
                          child.related_object_id);
  if (categories == 0)
    return does_not_exist(ec::missing_reference, table::category,
                          child.category_id);
  return {};
}

// Checks an object command: the object must exist (update, remove), and so
// must the related object and the category its child refers to (create,
// update), reported in that order. Reads the object's child for the writes.
caf::expected<checked> check_object(statement_cache& q, const command& cmd) {
  const auto& child = cmd.object_fields.child;
  long long id = cmd.id;
  long long related_id = child.related_object_id;
  long long category_id = child.category_id;
  // What an operation does not check counts as present.
  long long objects = 1;
  long long related = 1;
  long long categories = 1;
  long long child_id = 0;
  soci::indicator child_ind = soci::i_null;
  switch (cmd.op) {
  case operation::create:
    q.exec("SELECT"
           " (SELECT count(*) FROM related_object WHERE id = :related_id),"
           " (SELECT count(*) FROM category WHERE id = :category_id)",
           soci::use(related_id), soci::use(category_id), soci::into(related),
           soci::into(categories));
    break;
  case operation::update:
    q.exec("SELECT (SELECT count(*) FROM top_level_object WHERE id = :id),"
           " (SELECT count(*) FROM related_object WHERE id = :related_id),"
           " (SELECT count(*) FROM category WHERE id = :category_id),"
           " (SELECT id FROM child_object WHERE top_level_object_id = :root)",
           soci::use(id), soci::use(related_id), soci::use(category_id),
           soci::use(id), soci::into(objects), soci::into(related),
           soci::into(categories), soci::into(child_id, child_ind));
    break;
  case operation::remove:
    q.exec("SELECT (SELECT count(*) FROM top_level_object WHERE id = :id),"
           " (SELECT id FROM child_object WHERE top_level_object_id = :root)",
           soci::use(id), soci::use(id), soci::into(objects),
           soci::into(child_id, child_ind));
    break;
  }
  if (auto err = object_refusal(cmd, objects, related, categories))
    return err;
  checked result;
  if (child_ind == soci::i_ok)
    result.child = static_cast<row_id>(child_id);
  return result;
}

// Runs the checks of `cmd`, reads only: returns the error that refuses it,
// or what its writes need.
caf::expected<checked> check(statement_cache& q, const command& cmd) {
  switch (cmd.target) {
  case entity::category:
    if (cmd.op == operation::create)
      return checked{};
    return check_referenced_row(q, cmd.op, table::category, "category_id",
                                cmd.id);
  case entity::related_object:
    if (cmd.op == operation::create)
      return checked{};
    return check_referenced_row(q, cmd.op, table::related_object,
                                "related_object_id", cmd.id);
  case entity::object:
    return check_object(q, cmd);
  }
  return make_cqrs_error(ec::internal, "unknown command target");
}

// -- a command's writes: they cannot fail but for the database ----------------

constexpr const char* insert_child_text =
    "INSERT INTO child_object"
    " (access_code, top_level_object_id, related_object_id, category_id)"
    " VALUES (:access_code, :top_level_object_id, :related_object_id,"
    " :category_id)";

// Inserts one row and returns its id. `text` is an INSERT without a
// RETURNING clause; `bindings` are its SOCI `use` elements.
template <class... Bindings>
row_id insert_row(statement_cache& q, database_backend backend,
                  const std::string& text, Bindings&&... bindings) {
  long long id = 0;
  if (backend == database_backend::postgresql) {
    q.exec(text + " RETURNING id", std::forward<Bindings>(bindings)...,
           soci::into(id));
  } else {
    q.exec(text, std::forward<Bindings>(bindings)...);
    q.exec("SELECT last_insert_rowid()", soci::into(id));
  }
  return id;
}

// Writes `cmd`, whose checks passed and found `found`, as commit `seq`: its
// rows and its commit_log row. Nothing here refuses the command: a database
// error throws and fails the whole transaction.
write_result write(statement_cache& q, database_backend backend,
                   const command& cmd, const checked& found, seq_t seq) {
  write_result result;
  switch (cmd.target) {
  case entity::category: {
    auto row = cmd.category_fields;
    if (cmd.op == operation::create) {
      row.id = insert_row(q, backend,
                          "INSERT INTO category (description)"
                          " VALUES (:description)",
                          soci::use(std::as_const(row)));
    } else if (cmd.op == operation::update) {
      row.id = cmd.id;
      q.exec("UPDATE category SET description = :description WHERE id = :id",
             soci::use(std::as_const(row)));
    } else {
      row.id = cmd.id;
      long long id = row.id;
      q.exec("DELETE FROM category WHERE id = :id", soci::use(id));
    }
    result.id = row.id;
    result.changed = {row_key(table::category, row.id)};
    break;
  }
  case entity::related_object: {
    auto row = cmd.related_fields;
    if (cmd.op == operation::create) {
      row.id = insert_row(q, backend,
                          "INSERT INTO related_object"
                          " (content_description, content_type)"
                          " VALUES (:content_description, :content_type)",
                          soci::use(std::as_const(row)));
    } else if (cmd.op == operation::update) {
      row.id = cmd.id;
      q.exec("UPDATE related_object"
             " SET content_description = :content_description,"
             " content_type = :content_type WHERE id = :id",
             soci::use(std::as_const(row)));
    } else {
      row.id = cmd.id;
      long long id = row.id;
      q.exec("DELETE FROM related_object WHERE id = :id", soci::use(id));
    }
    result.id = row.id;
    result.changed = {row_key(table::related_object, row.id)};
    break;
  }
  case entity::object: {
    auto root = cmd.object_fields;
    auto child = root.child;
    switch (cmd.op) {
    case operation::create:
      root.id = insert_row(q, backend,
                           "INSERT INTO top_level_object (name)"
                           " VALUES (:name)",
                           soci::use(std::as_const(root)));
      child.top_level_object_id = root.id;
      child.id = insert_row(q, backend, insert_child_text,
                            soci::use(std::as_const(child)));
      break;
    case operation::update:
      root.id = cmd.id;
      q.exec("UPDATE top_level_object SET name = :name WHERE id = :id",
             soci::use(std::as_const(root)));
      child.top_level_object_id = root.id;
      child.id = found.child;
      if (child.id != 0) {
        q.exec("UPDATE child_object SET access_code = :access_code,"
               " related_object_id = :related_object_id,"
               " category_id = :category_id WHERE id = :id",
               soci::use(std::as_const(child)));
      } else {
        // Repairs a root that lost its child: it owns exactly one.
        child.id = insert_row(q, backend, insert_child_text,
                              soci::use(std::as_const(child)));
      }
      break;
    case operation::remove: {
      root.id = cmd.id;
      child.id = found.child;
      long long id = root.id;
      q.exec("DELETE FROM child_object WHERE top_level_object_id = :id",
             soci::use(id));
      q.exec("DELETE FROM top_level_object WHERE id = :id", soci::use(id));
      break;
    }
    }
    result.id = root.id;
    result.changed.push_back(row_key(table::top_level_object, root.id));
    if (child.id != 0)
      result.changed.push_back(row_key(table::child_object, child.id));
    break;
  }
  }
  result.seq = seq;
  long long seq_value = static_cast<long long>(seq);
  auto committed_at = utc_now();
  auto changed = join(result.changed);
  q.exec("INSERT INTO commit_log (seq, committed_at, changed)"
         " VALUES (:seq, :committed_at, :changed)",
         soci::use(seq_value), soci::use(committed_at), soci::use(changed));
  return result;
}

// -- PostgreSQL: an object update in one statement
// -----------------------------

// The most frequent write, `PUT /objects/{id}`, in one round trip on
// PostgreSQL instead of four (check, two UPDATEs, commit_log): the checks of
// `check_object` and the writes of `write` in one statement, whose
// data-modifying WITH clauses write only when every check passed. So the
// rule of `run` holds: a refused update writes nothing. The statement reads
// one snapshot and answers the checks' counts, which refuse it as
// `check_object` would.
constexpr const char* update_object_text =
    "WITH checked AS (SELECT"
    " (SELECT count(*) FROM top_level_object WHERE id = :id) AS objects,"
    " (SELECT count(*) FROM related_object WHERE id = :related_id) AS related,"
    " (SELECT count(*) FROM category WHERE id = :category_id) AS categories,"
    " (SELECT id FROM child_object WHERE top_level_object_id = :root) AS "
    "child),"
    " passed AS (SELECT child FROM checked WHERE objects > 0 AND related > 0"
    " AND categories > 0 AND child IS NOT NULL),"
    " root_row AS (UPDATE top_level_object SET name = :name"
    " WHERE id = :root_id AND EXISTS (SELECT 1 FROM passed)),"
    " child_row AS (UPDATE child_object SET access_code = :access_code,"
    " related_object_id = :child_related_id,"
    " category_id = :child_category_id"
    " WHERE id = (SELECT child FROM passed)),"
    " logged AS (INSERT INTO commit_log (seq, committed_at, changed)"
    " SELECT CAST(:seq AS BIGINT), CAST(:committed_at AS TEXT),"
    " CAST(:root_key AS TEXT) || ' ' || CAST(:child_key_prefix AS TEXT) || "
    "child"
    " FROM passed)"
    " SELECT objects, related, categories, child FROM checked";

// Runs the update `cmd` as commit `seq` in one statement (PostgreSQL only).
// Returns its result, the error that refuses it, or nothing when the object
// has lost its child row: then nothing was written, and the general path
// repairs it.
caf::expected<std::optional<write_result>>
update_object_at_once(statement_cache& q, const command& cmd, seq_t seq) {
  const auto& fields = cmd.object_fields;
  long long id = cmd.id;
  long long related_id = fields.child.related_object_id;
  long long category_id = fields.child.category_id;
  long long seq_value = static_cast<long long>(seq);
  auto committed_at = utc_now();
  auto root_key = row_key(table::top_level_object, cmd.id);
  // The child's key needs its id, which only the statement knows: the
  // statement appends it to the key's prefix, "child_object:".
  auto child_key_prefix = row_key(table::child_object, 0);
  child_key_prefix.pop_back();
  long long objects = 0;
  long long related = 0;
  long long categories = 0;
  long long child_id = 0;
  soci::indicator child_ind = soci::i_null;
  q.exec(update_object_text, soci::use(id), soci::use(related_id),
         soci::use(category_id), soci::use(id), soci::use(fields.name),
         soci::use(id), soci::use(fields.child.access_code),
         soci::use(related_id), soci::use(category_id), soci::use(seq_value),
         soci::use(committed_at), soci::use(root_key),
         soci::use(child_key_prefix), soci::into(objects), soci::into(related),
         soci::into(categories), soci::into(child_id, child_ind));
  if (auto err = object_refusal(cmd, objects, related, categories))
    return err;
  if (child_ind != soci::i_ok)
    return std::optional<write_result>{};
  write_result result;
  result.id = cmd.id;
  result.seq = seq;
  result.changed = {
      root_key, row_key(table::child_object, static_cast<row_id>(child_id))};
  return std::optional<write_result>{std::move(result)};
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

} // namespace

// -- construction -------------------------------------------------------------

write_store::write_store(std::unique_ptr<soci::session> sql,
                         database_backend backend,
                         std::chrono::seconds idempotency_ttl)
    : sql_(std::move(sql)),
      statements_(std::make_unique<statement_cache>(*sql_, backend)),
      backend_(backend), idempotency_ttl_(idempotency_ttl) {
  // nop
}

write_store::~write_store() = default;

caf::expected<std::unique_ptr<write_store>>
write_store::open(const database_settings& cfg,
                  std::chrono::seconds idempotency_ttl) {
  auto sql = open_session(cfg, session_mode::write);
  if (!sql)
    return std::move(sql.error());
  if (auto err = migrate(**sql, cfg.backend))
    return err;
  std::unique_ptr<write_store> result{
      new write_store(std::move(*sql), cfg.backend, idempotency_ttl)};
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
  results.reserve(cmds.size());
  auto& sql = *sql_;
  auto& q = *statements_;
  // Every command of a failed transaction gets `err`, and no seq is used.
  auto fail = [&](caf::error err) {
    detail::execute_quietly(sql, "ROLLBACK");
    // Kept statements belong to this connection, which may be replaced
    // next: drop them while it still exists.
    q.forget();
    recover_lost_connection(sql, session_mode::write);
    resync_seq_ = true;
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
    q.exec(next == base ? "ROLLBACK" : "COMMIT");
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
    recover_lost_connection(sql, session_mode::write);
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
  std::optional<write_result> result;
  if (backend_ == database_backend::postgresql &&
      cmd.target == entity::object && cmd.op == operation::update) {
    // Checks and writes in one statement; see `update_object_at_once`.
    auto done = update_object_at_once(q, cmd, seq);
    if (!done)
      return std::move(done.error());
    result = std::move(*done);
  }
  if (!result) {
    auto found = check(q, cmd);
    if (!found)
      return std::move(found.error());
    // The writes: from here on, only a database error (an exception, which
    // fails the whole transaction) stops the command.
    result = write(q, backend_, cmd, *found, seq);
  }
  if (!cmd.idempotency_key.empty())
    store_key(q, cmd, *result, utc_text(now));
  return std::move(*result);
}

} // namespace cqrs
