// Tests of the db module: schema, write store, read store and sessions, with
// the stored rows read back through a separate SOCI connection. Every case
// runs on the backend CQRSD_TEST_BACKEND names (SQLite by default; ctest runs
// the suite once per backend). Cases about one backend's own mechanics say so
// in a message and return early on the other.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/sec.hpp>
#include <soci/soci.h>

#include "db/error.hpp"
#include "db/read_store.hpp"
#include "db/schema.hpp"
#include "db/write_store.hpp"
#include "fixtures/temp_db.hpp"
#include "model/row_key.hpp"

using namespace cqrs;

namespace {

// -- commands -----------------------------------------------------------------

command create_category(std::string description) {
  command cmd;
  cmd.op = operation::create;
  cmd.target = entity::category;
  cmd.category_fields.description = std::move(description);
  return cmd;
}

command update_category(row_id id, std::string description) {
  auto cmd = create_category(std::move(description));
  cmd.op = operation::update;
  cmd.id = id;
  return cmd;
}

command create_related(std::string description, std::string type) {
  command cmd;
  cmd.op = operation::create;
  cmd.target = entity::related_object;
  cmd.related_fields.content_description = std::move(description);
  cmd.related_fields.content_type = std::move(type);
  return cmd;
}

command update_related(row_id id, std::string description, std::string type) {
  auto cmd = create_related(std::move(description), std::move(type));
  cmd.op = operation::update;
  cmd.id = id;
  return cmd;
}

command create_object(std::string name, std::string access_code,
                      row_id related_id, row_id category_id) {
  command cmd;
  cmd.op = operation::create;
  cmd.target = entity::object;
  cmd.object_fields.name = std::move(name);
  cmd.object_fields.child.access_code = std::move(access_code);
  cmd.object_fields.child.related_object_id = related_id;
  cmd.object_fields.child.category_id = category_id;
  return cmd;
}

command update_object(row_id id, std::string name, std::string access_code,
                      row_id related_id, row_id category_id) {
  auto cmd = create_object(std::move(name), std::move(access_code), related_id,
                           category_id);
  cmd.op = operation::update;
  cmd.id = id;
  return cmd;
}

command remove(entity target, row_id id) {
  command cmd;
  cmd.op = operation::remove;
  cmd.target = target;
  cmd.id = id;
  return cmd;
}

// `cmd` with an Idempotency-Key and the hash of its request.
command keyed(command cmd, std::string key, std::string hash) {
  cmd.idempotency_key = std::move(key);
  cmd.request_hash = std::move(hash);
  return cmd;
}

// -- result helpers -----------------------------------------------------------

// "ok" for a value, else the error code's name; printable in BOOST_TEST.
template <class T> std::string code_of(const caf::expected<T>& x) {
  return x ? std::string{"ok"} : to_string(error_code(x.error()));
}

template <class T> std::string message_of(const caf::expected<T>& x) {
  return x ? std::string{} : error_message(x.error());
}

std::vector<std::string> sorted(std::vector<std::string> xs) {
  std::sort(xs.begin(), xs.end());
  return xs;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// -- fixture ------------------------------------------------------------------

struct fixture : test::temp_db {
  std::unique_ptr<write_store> store;

  fixture() {
    BOOST_TEST_MESSAGE("backend: " << test::backend_name(backend));
    reopen();
  }

  // True, with a message saying why, when the running test case does not
  // apply to `other`: the caller then returns.
  bool skip_on(database_backend other, const char* why) const {
    if (backend != other)
      return false;
    BOOST_TEST_MESSAGE("skipped on " << test::backend_name(other) << ": "
                                     << why);
    return true;
  }

  // Closes the write store (if open) and opens it again, like a restart.
  void reopen() {
    store.reset();
    auto opened = write_store::open(settings);
    BOOST_REQUIRE_MESSAGE(
        opened, "cannot open the write store: " << message_of(opened));
    store = std::move(*opened);
  }

  std::unique_ptr<read_store> open_reader() {
    auto opened = read_store::open(settings);
    BOOST_REQUIRE_MESSAGE(opened,
                          "cannot open the read store: " << message_of(opened));
    return std::move(*opened);
  }

  // Applies `cmd` and requires success.
  write_result ok(const command& cmd) {
    auto result = store->apply(cmd);
    BOOST_REQUIRE_MESSAGE(result, "command failed: " << message_of(result));
    return *result;
  }

  // A separate connection to the database, as an outside observer.
  std::unique_ptr<soci::session> raw() const { return connect(); }

  long long scalar(const std::string& query) const {
    auto sql = raw();
    long long result = 0;
    *sql << query, soci::into(result);
    return result;
  }

  // The first column of the first row as text; empty when there is none.
  std::string text(const std::string& query) const {
    auto sql = raw();
    std::string result;
    soci::indicator ind = soci::i_null;
    *sql << query, soci::into(result, ind);
    return sql->got_data() && ind == soci::i_ok ? result : std::string{};
  }

  long long rows(const std::string& table_name) const {
    return scalar("SELECT count(*) FROM " + table_name);
  }

  std::string changed_at(seq_t seq) const {
    return text("SELECT changed FROM commit_log WHERE seq = " +
                std::to_string(seq));
  }

  // Makes every insert of commit_log row `seq` fail, from the outside.
  void inject_commit_log_failure(seq_t seq) const {
    auto n = std::to_string(seq);
    if (is_sqlite()) {
      *raw() << "CREATE TRIGGER refuse_seq BEFORE INSERT ON commit_log"
                " WHEN NEW.seq = " +
                    n +
                    " BEGIN"
                    " SELECT RAISE(ABORT, 'injected commit_log failure'); END";
      return;
    }
    auto sql = raw();
    *sql << "CREATE FUNCTION refuse_seq() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN IF NEW.seq = " +
                n +
                " THEN RAISE EXCEPTION 'injected commit_log failure';"
                " END IF; RETURN NEW; END $$";
    *sql << "CREATE TRIGGER refuse_seq BEFORE INSERT ON commit_log"
            " FOR EACH ROW EXECUTE FUNCTION refuse_seq()";
  }

  void remove_injected_failure() const {
    if (is_sqlite()) {
      *raw() << "DROP TRIGGER refuse_seq";
      return;
    }
    auto sql = raw();
    *sql << "DROP TRIGGER refuse_seq ON commit_log";
    *sql << "DROP FUNCTION refuse_seq()";
  }

  // A session setting (SHOW) on a PostgreSQL session.
  static std::string show(soci::session& sql, const std::string& name) {
    std::string result;
    sql << "SHOW " + name, soci::into(result);
    return result;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(store, fixture)

// -- schema and sessions ------------------------------------------------------

BOOST_AUTO_TEST_CASE(schema_is_created_on_first_open) {
  const std::string tables = "('category', 'related_object',"
                             " 'top_level_object', 'child_object',"
                             " 'commit_log', 'schema_version')";
  const std::string indexes = "('child_object_related_object_id',"
                              " 'child_object_category_id')";
  if (is_sqlite()) {
    BOOST_TEST(std::filesystem::exists(path));
    BOOST_TEST(scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                      " AND name IN " +
                      tables) == 6);
    BOOST_TEST(scalar("SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                      " AND name IN " +
                      indexes) == 2);
    BOOST_TEST(text("PRAGMA journal_mode") == "wal");
  } else {
    BOOST_TEST(scalar("SELECT count(*) FROM information_schema.tables"
                      " WHERE table_schema = current_schema()"
                      " AND table_name IN " +
                      tables) == 6);
    BOOST_TEST(scalar("SELECT count(*) FROM pg_indexes"
                      " WHERE schemaname = current_schema()"
                      " AND indexname IN " +
                      indexes) == 2);
    BOOST_TEST_MESSAGE("ids, references and seqs are 64-bit");
    BOOST_TEST(scalar("SELECT count(*) FROM information_schema.columns"
                      " WHERE table_schema = current_schema()"
                      " AND (column_name IN ('id', 'top_level_object_id',"
                      " 'related_object_id', 'category_id')"
                      " OR (table_name IN ('commit_log', 'idempotency_key')"
                      " AND column_name = 'seq'))"
                      " AND data_type = 'bigint'") == 10);
  }
  BOOST_TEST(rows("schema_version") == 1);
  BOOST_TEST(scalar("SELECT version FROM schema_version") == schema_version);
  BOOST_TEST(store->last_seq() == 0u);
}

BOOST_AUTO_TEST_CASE(migrate_is_idempotent) {
  auto id = ok(create_category("kept")).id;
  BOOST_TEST_MESSAGE("open the same database twice more");
  reopen();
  reopen();
  BOOST_TEST(rows("schema_version") == 1);
  BOOST_TEST(scalar("SELECT version FROM schema_version") == schema_version);
  BOOST_TEST(text("SELECT description FROM category WHERE id = " +
                  std::to_string(id)) == "kept");
  BOOST_TEST(rows("commit_log") == 1);
  auto sql = open_session(settings, session_mode::write);
  BOOST_REQUIRE(sql);
  BOOST_TEST(!migrate(**sql, backend));
  BOOST_TEST(rows("schema_version") == 1);
}

BOOST_AUTO_TEST_CASE(migrate_refuses_a_newer_schema) {
  *raw() << "UPDATE schema_version SET version = 99";
  store.reset();
  auto opened = write_store::open(settings);
  BOOST_REQUIRE(!opened);
  BOOST_TEST(code_of(opened) == "database_unavailable");
  BOOST_TEST(contains(message_of(opened), "99 is newer"), message_of(opened));
  BOOST_TEST(scalar("SELECT version FROM schema_version") == 99);
}

BOOST_AUTO_TEST_CASE(write_session_is_durable_wal_with_foreign_keys) {
  if (skip_on(database_backend::postgresql, "SQLite pragmas"))
    return;
  auto sql = open_session(settings, session_mode::write);
  BOOST_REQUIRE(sql);
  std::string journal_mode;
  int synchronous = 0;
  int foreign_keys = 0;
  int busy_timeout = 0;
  **sql << "PRAGMA journal_mode", soci::into(journal_mode);
  **sql << "PRAGMA synchronous", soci::into(synchronous);
  **sql << "PRAGMA foreign_keys", soci::into(foreign_keys);
  **sql << "PRAGMA busy_timeout", soci::into(busy_timeout);
  BOOST_TEST(journal_mode == "wal");
  BOOST_TEST(synchronous == 2); // FULL
  BOOST_TEST(foreign_keys == 1);
  BOOST_TEST(busy_timeout == static_cast<int>(settings.busy_timeout_ms));
}

BOOST_AUTO_TEST_CASE(write_session_is_read_write_durable_with_foreign_keys) {
  if (skip_on(database_backend::sqlite, "PostgreSQL session settings"))
    return;
  auto sql = open_session(settings, session_mode::write);
  BOOST_REQUIRE_MESSAGE(sql, message_of(sql));
  BOOST_TEST(show(**sql, "transaction_read_only") == "off");
  BOOST_TEST(show(**sql, "default_transaction_read_only") == "off");
  BOOST_TEST_MESSAGE("a commit is acknowledged once it is durable");
  BOOST_TEST(show(**sql, "synchronous_commit") == "on");
  BOOST_TEST_MESSAGE("the schema enforces references");
  auto rel = ok(create_related("r", "t")).id;
  try {
    **sql << "INSERT INTO top_level_object (id, name) VALUES (100, 'x')";
    **sql << "INSERT INTO child_object (access_code, top_level_object_id,"
             " related_object_id, category_id) VALUES ('x', 100, " +
                 std::to_string(rel) + ", 4242)";
    BOOST_ERROR("a child_object with an unknown category was stored");
  } catch (const soci::soci_error& e) {
    BOOST_TEST(contains(e.what(), "foreign key"), e.what());
  }
  BOOST_TEST(rows("child_object") == 0);
}

BOOST_AUTO_TEST_CASE(missing_parent_directories_are_created) {
  if (skip_on(database_backend::postgresql, "no database file"))
    return;
  store.reset();
  settings.sqlite_path = dir + "/nested/with space/cqrsd.db";
  reopen();
  BOOST_TEST(std::filesystem::exists(settings.sqlite_path));
  BOOST_TEST(!std::filesystem::exists(dir + "/nested/with"));
  BOOST_TEST(ok(create_category("x")).seq == 1u);
}

BOOST_AUTO_TEST_CASE(read_session_cannot_write) {
  ok(create_category("before"));
  auto sql = open_session(settings, session_mode::read);
  BOOST_REQUIRE_MESSAGE(sql, message_of(sql));
  long long count = 0;
  **sql << "SELECT count(*) FROM category", soci::into(count);
  BOOST_TEST(count == 1);
  // SQLite: "attempt to write a readonly database"; PostgreSQL: "cannot
  // execute INSERT in a read-only transaction".
  auto refusal = is_sqlite() ? "readonly" : "read-only transaction";
  try {
    **sql << "INSERT INTO category (description) VALUES ('sneaky')";
    BOOST_ERROR("an INSERT through a read session succeeded");
  } catch (const soci::soci_error& e) {
    BOOST_TEST(contains(e.what(), refusal), e.what());
  }
  BOOST_CHECK_THROW(**sql << "CREATE TABLE t (x INTEGER)", soci::soci_error);
  BOOST_TEST_MESSAGE("nor inside a transaction, as the read store runs them");
  **sql << "BEGIN";
  try {
    **sql << "UPDATE category SET description = 'sneaky'";
    BOOST_ERROR("an UPDATE through a read session succeeded");
  } catch (const soci::soci_error& e) {
    BOOST_TEST(contains(e.what(), refusal), e.what());
  }
  **sql << "ROLLBACK";
  BOOST_TEST(rows("category") == 1);
  BOOST_TEST(text("SELECT description FROM category") == "before");
}

BOOST_AUTO_TEST_CASE(read_session_runs_read_only_repeatable_read) {
  if (skip_on(database_backend::sqlite, "PostgreSQL session settings"))
    return;
  auto sql = open_session(settings, session_mode::read);
  BOOST_REQUIRE_MESSAGE(sql, message_of(sql));
  BOOST_TEST(show(**sql, "default_transaction_read_only") == "on");
  BOOST_TEST(show(**sql, "default_transaction_isolation") == "repeatable read");
  BOOST_TEST_MESSAGE("inside a transaction, as the read store runs them");
  **sql << "BEGIN";
  BOOST_TEST(show(**sql, "transaction_read_only") == "on");
  BOOST_TEST(show(**sql, "transaction_isolation") == "repeatable read");
  **sql << "COMMIT";
  BOOST_TEST_MESSAGE("the read store opens the same kind of session");
  auto reader = open_reader();
  auto seq = reader->current_seq();
  BOOST_REQUIRE_MESSAGE(seq, message_of(seq));
  BOOST_TEST(*seq == 0u);
}

BOOST_AUTO_TEST_CASE(read_transaction_sees_one_snapshot) {
  ok(create_category("first"));
  auto sql = open_session(settings, session_mode::read);
  BOOST_REQUIRE_MESSAGE(sql, message_of(sql));
  auto count = [&] {
    long long n = 0;
    **sql << "SELECT count(*) FROM category", soci::into(n);
    return n;
  };
  auto last_seq = [&] {
    long long n = 0;
    **sql << "SELECT coalesce(max(seq), 0) FROM commit_log", soci::into(n);
    return n;
  };
  **sql << "BEGIN";
  BOOST_TEST(count() == 1);
  BOOST_TEST_MESSAGE("a commit while the read transaction is open");
  BOOST_TEST(ok(create_category("second")).seq == 2u);
  BOOST_TEST(rows("category") == 2);
  BOOST_TEST_MESSAGE("stays invisible to it, the commit log included");
  BOOST_TEST(count() == 1);
  BOOST_TEST(last_seq() == 1);
  **sql << "COMMIT";
  BOOST_TEST(count() == 2);
  BOOST_TEST(last_seq() == 2);
}

BOOST_AUTO_TEST_CASE(read_session_needs_an_existing_database) {
  if (is_sqlite()) {
    settings.sqlite_path = dir + "/absent.db";
    auto opened = read_store::open(settings);
    BOOST_REQUIRE(!opened);
    BOOST_TEST(code_of(opened) == "database_unavailable");
    BOOST_TEST(contains(message_of(opened), "absent.db"), message_of(opened));
    BOOST_TEST(!std::filesystem::exists(settings.sqlite_path));
    return;
  }
  auto absent = database + "_absent";
  settings.postgresql =
      test::with_dbname(test::postgresql_server_conninfo(), absent);
  auto opened = read_store::open(settings);
  BOOST_REQUIRE(!opened);
  BOOST_TEST(code_of(opened) == "database_unavailable");
  BOOST_TEST(contains(message_of(opened), "\"" + absent + "\" does not exist"),
             message_of(opened));
  BOOST_TEST_MESSAGE("PostgreSQL databases are never created on the fly");
  store.reset();
  auto writer = write_store::open(settings);
  BOOST_REQUIRE(!writer);
  BOOST_TEST(code_of(writer) == "database_unavailable");
}

struct no_database {};

BOOST_FIXTURE_TEST_CASE(test_conninfo_gets_its_dbname_replaced, no_database) {
  BOOST_TEST(test::with_dbname("host=127.0.0.1 port=5432 user=cqrsd"
                               " dbname=postgres",
                               "cqrsd_t_1_2") ==
             "host='127.0.0.1' port='5432' user='cqrsd' dbname='cqrsd_t_1_2'");
  BOOST_TEST(test::with_dbname("  dbname = x  password='a b' host=h ", "y") ==
             "password='a b' host='h' dbname='y'");
  BOOST_TEST(test::with_dbname("password='a \\'b\\\\' user=u", "d") ==
             "password='a \\'b\\\\' user='u' dbname='d'");
  BOOST_TEST(test::with_dbname("", "d") == "dbname='d'");
  BOOST_CHECK_THROW(test::with_dbname("postgresql://h/db", "d"),
                    std::runtime_error);
  BOOST_CHECK_THROW(test::with_dbname("host", "d"), std::runtime_error);
  BOOST_CHECK_THROW(test::with_dbname("password='open", "d"),
                    std::runtime_error);
}

BOOST_AUTO_TEST_CASE(error_helpers) {
  auto err = make_cqrs_error(ec::not_found, "category 7 does not exist");
  BOOST_TEST(error_message(err) == "category 7 does not exist");
  BOOST_TEST(to_string(error_code(err)) == "not_found");
  caf::error foreign = caf::make_error(caf::sec::runtime_error);
  BOOST_TEST(to_string(error_code(foreign)) == "internal");
  BOOST_TEST(contains(error_message(foreign), "runtime_error"),
             error_message(foreign));
  BOOST_TEST(to_string(error_code(caf::error{})) == "none");
}

// -- commands -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(category_create_update_remove) {
  auto created = ok(create_category("books"));
  BOOST_TEST(created.id > 0);
  BOOST_TEST(created.seq == 1u);
  auto key = row_key(table::category, created.id);
  BOOST_TEST(created.changed == std::vector<std::string>{key});
  auto where = " WHERE id = " + std::to_string(created.id);
  BOOST_TEST(text("SELECT description FROM category" + where) == "books");

  auto updated = ok(update_category(created.id, "novels"));
  BOOST_TEST(updated.id == created.id);
  BOOST_TEST(updated.seq == 2u);
  BOOST_TEST(text("SELECT description FROM category" + where) == "novels");

  auto removed = ok(remove(entity::category, created.id));
  BOOST_TEST(removed.id == created.id);
  BOOST_TEST(removed.seq == 3u);
  BOOST_TEST(rows("category") == 0);

  BOOST_TEST_MESSAGE("one commit_log row per seq, naming the row");
  BOOST_TEST(rows("commit_log") == 3);
  for (seq_t seq = 1; seq <= 3; ++seq)
    BOOST_TEST(changed_at(seq) == key);
  auto at = text("SELECT committed_at FROM commit_log WHERE seq = 1");
  BOOST_TEST(at.size() == 24u, at); // 2026-01-02T03:04:05.678Z
  BOOST_TEST(at.back() == 'Z');
  BOOST_TEST(store->last_seq() == 3u);
}

BOOST_AUTO_TEST_CASE(related_object_create_update_remove) {
  auto created = ok(create_related("a manual", "application/pdf"));
  BOOST_TEST(created.seq == 1u);
  auto key = row_key(table::related_object, created.id);
  BOOST_TEST(created.changed == std::vector<std::string>{key});
  auto where = " WHERE id = " + std::to_string(created.id);
  BOOST_TEST(text("SELECT content_description FROM related_object" + where) ==
             "a manual");
  BOOST_TEST(text("SELECT content_type FROM related_object" + where) ==
             "application/pdf");

  auto updated = ok(update_related(created.id, "the manual", "text/plain"));
  BOOST_TEST(updated.seq == 2u);
  BOOST_TEST(text("SELECT content_description FROM related_object" + where) ==
             "the manual");
  BOOST_TEST(text("SELECT content_type FROM related_object" + where) ==
             "text/plain");

  auto removed = ok(remove(entity::related_object, created.id));
  BOOST_TEST(removed.seq == 3u);
  BOOST_TEST(rows("related_object") == 0);
  BOOST_TEST(changed_at(3) == key);
}

BOOST_AUTO_TEST_CASE(object_create_update_remove) {
  auto cat1 = ok(create_category("c1")).id;
  auto cat2 = ok(create_category("c2")).id;
  auto rel = ok(create_related("r", "t")).id;

  auto created = ok(create_object("thing", "code-1", rel, cat1));
  BOOST_TEST(created.seq == 4u);
  auto child =
      scalar("SELECT id FROM child_object WHERE top_level_object_id = " +
             std::to_string(created.id));
  BOOST_TEST(child > 0);
  std::vector<std::string> keys{row_key(table::top_level_object, created.id),
                                row_key(table::child_object, child)};
  BOOST_TEST(created.changed == keys);
  BOOST_TEST(changed_at(4) == keys[0] + " " + keys[1]);
  BOOST_TEST(text("SELECT name FROM top_level_object WHERE id = " +
                  std::to_string(created.id)) == "thing");
  auto child_where = " FROM child_object WHERE id = " + std::to_string(child);
  BOOST_TEST(text("SELECT access_code" + child_where) == "code-1");
  BOOST_TEST(scalar("SELECT related_object_id" + child_where) == rel);
  BOOST_TEST(scalar("SELECT category_id" + child_where) == cat1);

  BOOST_TEST_MESSAGE("update keeps the child row and moves its references");
  auto updated = ok(update_object(created.id, "thing 2", "code-2", rel, cat2));
  BOOST_TEST(updated.id == created.id);
  BOOST_TEST(updated.seq == 5u);
  BOOST_TEST(updated.changed == keys);
  BOOST_TEST(text("SELECT name FROM top_level_object WHERE id = " +
                  std::to_string(created.id)) == "thing 2");
  BOOST_TEST(text("SELECT access_code" + child_where) == "code-2");
  BOOST_TEST(scalar("SELECT category_id" + child_where) == cat2);
  BOOST_TEST(rows("child_object") == 1);

  BOOST_TEST_MESSAGE("remove takes the child with it");
  auto removed = ok(remove(entity::object, created.id));
  BOOST_TEST(removed.seq == 6u);
  BOOST_TEST(removed.changed == keys);
  BOOST_TEST(rows("top_level_object") == 0);
  BOOST_TEST(rows("child_object") == 0);
  BOOST_TEST(rows("category") == 2);
  BOOST_TEST(rows("related_object") == 1);
  BOOST_TEST(rows("commit_log") == 6);
}

BOOST_AUTO_TEST_CASE(batch_numbers_successes_and_isolates_failures) {
  auto rel = ok(create_related("r", "t")).id;
  std::vector<command> batch{
      create_category("first"),
      create_object("orphan", "code", rel, 4242), // unknown category
      create_category("second"), update_category(777, "nobody"), // unknown id
  };
  auto results = store->apply(batch);
  BOOST_REQUIRE(results.size() == batch.size());
  BOOST_REQUIRE(results[0]);
  BOOST_REQUIRE(results[2]);
  BOOST_TEST(results[0]->seq == 2u);
  BOOST_TEST(code_of(results[1]) == "missing_reference");
  BOOST_TEST(results[2]->seq == 3u);
  BOOST_TEST(code_of(results[3]) == "not_found");
  BOOST_TEST(store->last_seq() == 3u);

  BOOST_TEST_MESSAGE("the failed commands left no rows and no log entries");
  BOOST_TEST(rows("category") == 2);
  BOOST_TEST(rows("top_level_object") == 0);
  BOOST_TEST(rows("child_object") == 0);
  BOOST_TEST(rows("commit_log") == 3);
  BOOST_TEST(changed_at(2) == row_key(table::category, results[0]->id));
  BOOST_TEST(changed_at(3) == row_key(table::category, results[2]->id));
}

BOOST_AUTO_TEST_CASE(every_refusal_between_two_successes_leaves_nothing) {
  // A batch has no savepoint per command: a refused command must be refused
  // before its first write. Each kind of refusal sits between two commands
  // that succeed, so that a write it left behind would commit with them.
  auto cat = ok(create_category("c")).id;
  auto rel = ok(create_related("r", "t")).id;
  auto obj = ok(create_object("o", "x", rel, cat)).id;
  const auto before = store->last_seq();
  const std::vector<std::pair<command, std::string>> refusals{
      {update_object(4242, "n", "y", 4243, 4244), "object 4242 does not exist"},
      {update_object(obj, "n", "y", 4243, 4244),
       "related_object 4243 does not exist"},
      {update_object(obj, "n", "y", rel, 4244), "category 4244 does not exist"},
      {create_object("n", "y", 4243, 4244),
       "related_object 4243 does not exist"},
      {create_object("n", "y", rel, 4244), "category 4244 does not exist"},
      {remove(entity::object, 4242), "object 4242 does not exist"},
      {update_category(4244, "n"), "category 4244 does not exist"},
      {remove(entity::category, cat),
       "category " + std::to_string(cat) + " is still referenced by 1 object"},
      {update_related(4243, "n", "t"), "related_object 4243 does not exist"},
      {remove(entity::related_object, rel),
       "related_object " + std::to_string(rel) +
           " is still referenced by 1 object"},
  };
  for (size_t i = 0; i < refusals.size(); ++i) {
    const auto& [refused, message] = refusals[i];
    BOOST_TEST_CONTEXT("refusal " << i << ": " << message) {
      auto seq = store->last_seq();
      auto n = std::to_string(i);
      auto results = store->apply(std::vector<command>{
          keyed(create_category("before " + n), "before-" + n, "h"),
          keyed(refused, "refused-" + n, "h"),
          keyed(create_related("after " + n, "t"), "after-" + n, "h"),
      });
      BOOST_REQUIRE(results.size() == 3u);
      BOOST_REQUIRE_MESSAGE(results[0], message_of(results[0]));
      BOOST_REQUIRE_MESSAGE(results[2], message_of(results[2]));
      BOOST_TEST(message_of(results[1]) == message);
      BOOST_TEST(results[0]->seq == seq + 1);
      BOOST_TEST(results[2]->seq == seq + 2);
      BOOST_TEST(store->last_seq() == seq + 2);
      BOOST_TEST(scalar("SELECT count(*) FROM idempotency_key"
                        " WHERE key = 'refused-" +
                        n + "'") == 0);
    }
  }
  BOOST_TEST_MESSAGE("only the successes wrote: their rows, log and keys");
  const auto n = static_cast<long long>(refusals.size());
  BOOST_TEST(rows("category") == 1 + n);
  BOOST_TEST(rows("related_object") == 1 + n);
  BOOST_TEST(rows("commit_log") == static_cast<long long>(before) + 2 * n);
  BOOST_TEST(rows("idempotency_key") == 2 * n);
  BOOST_TEST_MESSAGE("the rows the refused commands named are as they were");
  BOOST_TEST(rows("top_level_object") == 1);
  BOOST_TEST(rows("child_object") == 1);
  BOOST_TEST(text("SELECT name FROM top_level_object") == "o");
  BOOST_TEST(text("SELECT access_code FROM child_object") == "x");
  BOOST_TEST(scalar("SELECT related_object_id FROM child_object") == rel);
  BOOST_TEST(scalar("SELECT category_id FROM child_object") == cat);
  BOOST_TEST(text("SELECT description FROM category WHERE id = " +
                  std::to_string(cat)) == "c");
}

BOOST_AUTO_TEST_CASE(update_repairs_an_object_that_lost_its_child) {
  auto cat = ok(create_category("c")).id;
  auto rel = ok(create_related("r", "t")).id;
  auto obj = ok(create_object("o", "x", rel, cat)).id;
  *raw() << "DELETE FROM child_object";
  auto updated = ok(update_object(obj, "o2", "y", rel, cat));
  auto child =
      scalar("SELECT id FROM child_object WHERE top_level_object_id = " +
             std::to_string(obj));
  BOOST_TEST(child > 0);
  BOOST_TEST(updated.changed ==
             (std::vector<std::string>{row_key(table::top_level_object, obj),
                                       row_key(table::child_object, child)}));
  BOOST_TEST(text("SELECT access_code FROM child_object") == "y");

  BOOST_TEST_MESSAGE("an object without a child is removed alone");
  *raw() << "DELETE FROM child_object";
  auto removed = ok(remove(entity::object, obj));
  BOOST_TEST(removed.changed ==
             std::vector<std::string>{row_key(table::top_level_object, obj)});
  BOOST_TEST(rows("top_level_object") == 0);
}

BOOST_AUTO_TEST_CASE(commit_log_row_and_data_commit_together) {
  ok(create_category("before"));
  BOOST_TEST_MESSAGE("make the commit_log insert of seq 3 fail");
  inject_commit_log_failure(3);
  auto results = store->apply(
      std::vector<command>{create_category("a"), create_category("b")});
  BOOST_REQUIRE(results.size() == 2u);
  for (auto& result : results) {
    BOOST_TEST(code_of(result) == "database_unavailable");
    BOOST_TEST(contains(message_of(result), "injected commit_log failure"),
               message_of(result));
  }
  BOOST_TEST_MESSAGE("the whole transaction rolled back, data included");
  BOOST_TEST(rows("category") == 1);
  BOOST_TEST(rows("commit_log") == 1);
  BOOST_TEST(store->last_seq() == 1u);

  remove_injected_failure();
  auto retried = store->apply(
      std::vector<command>{create_category("a"), create_category("b")});
  BOOST_REQUIRE(retried[0] && retried[1]);
  BOOST_TEST(retried[0]->seq == 2u);
  BOOST_TEST(retried[1]->seq == 3u);
  BOOST_TEST(rows("category") == 3);
  BOOST_TEST(rows("commit_log") == 3);
}

BOOST_AUTO_TEST_CASE(locked_database_fails_the_batch_without_using_seqs) {
  if (skip_on(database_backend::postgresql,
              "SQLite busy timeout; see lost_connection_fails_the_batch_"
              "without_using_seqs"))
    return;
  settings.busy_timeout_ms = 100;
  reopen();
  ok(create_category("before"));
  auto other = raw();
  *other << "BEGIN IMMEDIATE";
  auto results = store->apply(
      std::vector<command>{create_category("a"), create_category("b")});
  BOOST_REQUIRE(results.size() == 2u);
  for (auto& result : results) {
    BOOST_TEST(code_of(result) == "database_unavailable");
    BOOST_TEST(contains(message_of(result), "locked"), message_of(result));
  }
  BOOST_TEST(store->last_seq() == 1u);
  *other << "ROLLBACK";
  BOOST_TEST(ok(create_category("after")).seq == 2u);
  BOOST_TEST(rows("category") == 2);
}

BOOST_AUTO_TEST_CASE(
    a_row_lock_held_elsewhere_fails_the_batch_after_the_timeout) {
  if (skip_on(database_backend::sqlite,
              "PostgreSQL lock_timeout; see locked_database_fails_the_batch_"
              "without_using_seqs"))
    return;
  settings.lock_timeout_ms = 200;
  reopen();
  auto cat = ok(create_category("before")).id;
  auto other = raw();
  *other << "BEGIN";
  *other << "SELECT id FROM category WHERE id = " + std::to_string(cat) +
                " FOR UPDATE";
  BOOST_TEST_MESSAGE("the transaction's lock_timeout is set as it begins");
  auto start = std::chrono::steady_clock::now();
  auto results = store->apply(
      std::vector<command>{create_category("a"), update_category(cat, "b")});
  auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  BOOST_REQUIRE(results.size() == 2u);
  for (auto& result : results) {
    BOOST_TEST(code_of(result) == "database_unavailable");
    BOOST_TEST(contains(message_of(result), "lock timeout"),
               message_of(result));
  }
  BOOST_TEST(waited_ms < 5000);
  BOOST_TEST(store->last_seq() == 1u);
  *other << "ROLLBACK";
  BOOST_TEST(ok(update_category(cat, "after")).seq == 2u);
  BOOST_TEST(rows("category") == 1);
}

BOOST_AUTO_TEST_CASE(lost_connection_fails_the_batch_without_using_seqs) {
  if (skip_on(database_backend::sqlite, "a file has no connection to lose"))
    return;
  ok(create_category("before"));
  BOOST_TEST_MESSAGE("the server ends the write store's connection");
  BOOST_TEST(scalar("SELECT count(pg_terminate_backend(pid))"
                    " FROM pg_stat_activity WHERE datname = current_database()"
                    " AND backend_type = 'client backend'"
                    " AND pid <> pg_backend_pid()") == 1);
  auto results = store->apply(
      std::vector<command>{create_category("a"), create_category("b")});
  BOOST_REQUIRE(results.size() == 2u);
  for (auto& result : results)
    BOOST_TEST(code_of(result) == "database_unavailable", message_of(result));
  BOOST_TEST(store->last_seq() == 1u);
  BOOST_TEST(rows("category") == 1);
  BOOST_TEST(rows("commit_log") == 1);
  BOOST_TEST_MESSAGE("the write store reconnects for the next batch");
  BOOST_TEST(ok(create_category("after")).seq == 2u);
  BOOST_TEST(rows("category") == 2);
  BOOST_TEST_MESSAGE("a restarted write store goes on from the log");
  reopen();
  BOOST_TEST(store->last_seq() == 2u);
  BOOST_TEST(ok(create_category("restarted")).seq == 3u);
  BOOST_TEST(rows("category") == 3);
}

BOOST_AUTO_TEST_CASE(read_store_survives_a_lost_connection) {
  if (skip_on(database_backend::sqlite, "a file has no connection to lose"))
    return;
  auto cat = ok(create_category("kept")).id;
  auto reader = open_reader();
  auto before = reader->category_by_id(cat);
  BOOST_REQUIRE_MESSAGE(before, message_of(before));
  BOOST_TEST_MESSAGE("the server ends every connection of cqrsd");
  BOOST_TEST(scalar("SELECT count(pg_terminate_backend(pid))"
                    " FROM pg_stat_activity WHERE datname = current_database()"
                    " AND backend_type = 'client backend'"
                    " AND pid <> pg_backend_pid()") == 2);
  auto lost = reader->category_by_id(cat);
  BOOST_TEST(code_of(lost) == "database_unavailable", message_of(lost));
  BOOST_TEST_MESSAGE("it reconnected right away, read-only repeatable read");
  BOOST_TEST(scalar("SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND state = 'idle'"
                    " AND query = 'SET SESSION CHARACTERISTICS AS TRANSACTION"
                    " READ ONLY, ISOLATION LEVEL REPEATABLE READ'") == 1);
  BOOST_TEST_MESSAGE("the next read reconnects");
  auto after = reader->category_by_id(cat);
  BOOST_REQUIRE_MESSAGE(after, message_of(after));
  BOOST_REQUIRE(after->value.has_value());
  BOOST_TEST(after->value->description == "kept");
  BOOST_TEST(after->read_seq == 1u);
  BOOST_TEST_MESSAGE("and so does the write store, for the next batch");
  store->apply(create_category("lost")); // may fail: its connection is gone
  auto written = ok(create_category("new"));
  auto seen = reader->category_by_id(written.id);
  BOOST_REQUIRE_MESSAGE(seen, message_of(seen));
  BOOST_TEST(seen->value.has_value());
  BOOST_TEST(seen->read_seq == written.seq);
}

BOOST_AUTO_TEST_CASE(foreign_key_failure_gives_clear_error_and_no_seq) {
  auto cat = ok(create_category("c")).id;
  auto rel = ok(create_related("r", "t")).id;

  auto unknown_category = store->apply(create_object("o", "x", rel, 4242));
  BOOST_TEST(code_of(unknown_category) == "missing_reference");
  BOOST_TEST(message_of(unknown_category) == "category 4242 does not exist");

  auto unknown_related = store->apply(create_object("o", "x", 9, cat));
  BOOST_TEST(code_of(unknown_related) == "missing_reference");
  BOOST_TEST(message_of(unknown_related) == "related_object 9 does not exist");

  auto obj = ok(create_object("o", "x", rel, cat)).id;
  auto bad_update = store->apply(update_object(obj, "o2", "y", rel, 4242));
  BOOST_TEST(code_of(bad_update) == "missing_reference");
  BOOST_TEST(text("SELECT name FROM top_level_object") == "o");

  BOOST_TEST_MESSAGE("no seq consumed, no row written");
  BOOST_TEST(store->last_seq() == 3u);
  BOOST_TEST(rows("top_level_object") == 1);
  BOOST_TEST(rows("child_object") == 1);
  BOOST_TEST(rows("commit_log") == 3);
  BOOST_TEST(ok(create_category("next")).seq == 4u);
}

BOOST_AUTO_TEST_CASE(unknown_ids_are_not_found) {
  auto check = [&](const command& cmd, const std::string& message) {
    auto result = store->apply(cmd);
    BOOST_TEST(code_of(result) == "not_found");
    BOOST_TEST(message_of(result) == message);
  };
  check(update_category(7, "x"), "category 7 does not exist");
  check(remove(entity::category, 7), "category 7 does not exist");
  check(update_related(8, "x", "y"), "related_object 8 does not exist");
  check(remove(entity::related_object, 8), "related_object 8 does not exist");
  check(update_object(9, "x", "y", 1, 1), "object 9 does not exist");
  check(remove(entity::object, 9), "object 9 does not exist");
  BOOST_TEST(store->last_seq() == 0u);
  BOOST_TEST(rows("commit_log") == 0);
}

BOOST_AUTO_TEST_CASE(referenced_rows_cannot_be_removed) {
  auto cat = ok(create_category("c")).id;
  auto rel = ok(create_related("r", "t")).id;
  auto first = ok(create_object("a", "x", rel, cat)).id;
  ok(create_object("b", "y", rel, cat));
  auto other_rel = ok(create_related("r2", "t")).id;
  auto lone = ok(create_object("c", "z", other_rel, cat)).id;

  auto cat_result = store->apply(remove(entity::category, cat));
  BOOST_TEST(code_of(cat_result) == "still_referenced");
  BOOST_TEST(message_of(cat_result) == "category " + std::to_string(cat) +
                                           " is still referenced by 3 objects");
  auto rel_result = store->apply(remove(entity::related_object, other_rel));
  BOOST_TEST(code_of(rel_result) == "still_referenced");
  BOOST_TEST(message_of(rel_result) == "related_object " +
                                           std::to_string(other_rel) +
                                           " is still referenced by 1 object");
  BOOST_TEST(rows("category") == 1);
  BOOST_TEST(rows("related_object") == 2);
  BOOST_TEST(store->last_seq() == 6u);

  BOOST_TEST_MESSAGE("once unreferenced, the rows go");
  ok(remove(entity::object, lone));
  BOOST_TEST(ok(remove(entity::related_object, other_rel)).seq == 8u);
  ok(remove(entity::object, first));
  BOOST_TEST(code_of(store->apply(remove(entity::category, cat))) ==
             "still_referenced");
}

BOOST_AUTO_TEST_CASE(seq_is_seeded_from_the_log_after_restart) {
  auto first = ok(create_category("a")).id;
  ok(create_category("b"));
  ok(remove(entity::category, first));
  BOOST_TEST(store->last_seq() == 3u);
  reopen();
  BOOST_TEST(store->last_seq() == 3u);
  auto next = ok(create_category("c"));
  BOOST_TEST(next.seq == 4u);
  BOOST_TEST_MESSAGE("ids are never reused, not even the last one removed");
  BOOST_TEST(next.id > first + 1);
  BOOST_TEST(rows("commit_log") == 4);
}

BOOST_AUTO_TEST_CASE(wal_is_checkpointed_off_the_writers_commits) {
  if (skip_on(database_backend::postgresql, "SQLite's write-ahead log"))
    return;
  namespace fs = std::filesystem;
  auto file_size = [](const fs::path& path) {
    std::error_code err;
    auto size = fs::file_size(path, err);
    return err ? uintmax_t{0} : size;
  };
  const fs::path db_file = settings.sqlite_path;
  auto before = file_size(db_file);
  BOOST_TEST_MESSAGE("2,000 commits of 1,000-byte rows fill the WAL several "
                     "times past its checkpoint threshold");
  const std::string description(1000, 'x');
  for (int i = 0; i < 2000; ++i)
    ok(create_category(description));
  BOOST_TEST_MESSAGE("the checkpointer copies the WAL into the database file");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (store->wal_checkpoints() == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  BOOST_TEST(store->wal_checkpoints() >= 1u);
  BOOST_TEST(file_size(db_file) > before + 1'000'000,
             "database file " << file_size(db_file) << " bytes, " << before
                              << " before the writes");
  BOOST_TEST(rows("category") == 2000);
  BOOST_TEST(rows("commit_log") == 2000);
}

namespace {

struct checkpoint_result {
  int busy = -1;
  int frames_left = -1;
};

// Runs a TRUNCATE checkpoint on `sql`, which empties the whole WAL unless a
// connection still holds a read snapshot (busy, frames left).
checkpoint_result truncate_wal(soci::session& sql) {
  sql << "PRAGMA busy_timeout=1000";
  checkpoint_result result;
  int copied = -1;
  // The checkpointer may hold the checkpoint lock just now (busy, -1
  // frames): try again for up to 5 s.
  for (int attempt = 0; attempt < 50; ++attempt) {
    sql << "PRAGMA wal_checkpoint(TRUNCATE)", soci::into(result.busy),
        soci::into(result.frames_left), soci::into(copied);
    if (result.busy == 0)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  return result;
}

} // namespace

BOOST_AUTO_TEST_CASE(kept_statements_stay_correct_and_hold_no_snapshot) {
  if (skip_on(database_backend::postgresql,
              "statements are kept prepared on SQLite only"))
    return;
  BOOST_TEST_MESSAGE("600 updates run the same kept statements past the "
                     "point where they are prepared anew");
  auto id = ok(create_category("v0")).id;
  for (int i = 1; i <= 600; ++i)
    ok(update_category(id, "v" + std::to_string(i)));
  BOOST_TEST(text("SELECT description FROM category WHERE id = " +
                  std::to_string(id)) == "v600");
  BOOST_TEST(rows("commit_log") == 601);
  BOOST_TEST(code_of(store->apply(update_category(4242, "nobody"))) ==
             "not_found");
  BOOST_TEST_MESSAGE("no statement of the idle writer keeps a read snapshot: "
                     "a TRUNCATE checkpoint empties the whole WAL");
  auto wal = truncate_wal(*raw());
  BOOST_TEST(wal.busy == 0);
  BOOST_TEST(wal.frames_left == 0);
}

// -- read store ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(object_view_joins_the_four_tables) {
  auto reader = open_reader();
  auto cat = ok(create_category("tools")).id;
  auto rel = ok(create_related("a hammer", "image/png")).id;
  auto created = ok(create_object("box", "secret", rel, cat));
  auto view = reader->object(created.id);
  BOOST_REQUIRE_MESSAGE(view, message_of(view));
  BOOST_REQUIRE(view->value.has_value());
  BOOST_TEST(view->value->id == created.id);
  BOOST_TEST(view->value->name == "box");
  BOOST_TEST(view->value->access_code == "secret");
  BOOST_TEST(view->value->content_description == "a hammer");
  BOOST_TEST(view->value->content_type == "image/png");
  BOOST_TEST(view->value->category_description == "tools");
  BOOST_TEST(view->read_seq == store->last_seq());
  std::vector<std::string> deps = created.changed;
  deps.push_back(row_key(table::related_object, rel));
  deps.push_back(row_key(table::category, cat));
  BOOST_TEST(sorted(view->dependencies) == sorted(deps));

  BOOST_TEST_MESSAGE("a later commit is visible to the next read");
  ok(update_category(cat, "hardware"));
  auto again = reader->object(created.id);
  BOOST_REQUIRE(again && again->value);
  BOOST_TEST(again->value->category_description == "hardware");
  BOOST_TEST(again->read_seq == 4u);
}

BOOST_AUTO_TEST_CASE(missing_object_depends_on_its_key) {
  ok(create_category("c"));
  auto reader = open_reader();
  auto view = reader->object(99);
  BOOST_REQUIRE_MESSAGE(view, message_of(view));
  BOOST_TEST(!view->value.has_value());
  BOOST_TEST(view->read_seq == 1u);
  BOOST_TEST(view->dependencies ==
             std::vector<std::string>{row_key(table::top_level_object, 99)});
}

BOOST_AUTO_TEST_CASE(view_reads_hold_no_snapshot) {
  if (skip_on(database_backend::postgresql,
              "statements are kept prepared on SQLite only"))
    return;
  auto cat = ok(create_category("tools")).id;
  auto rel = ok(create_related("a hammer", "image/png")).id;
  auto obj = ok(create_object("box", "secret", rel, cat)).id;
  auto reader = open_reader();
  BOOST_TEST_MESSAGE("each view is read twice, found and missing, through "
                     "the reader's kept statements");
  for (int round = 0; round < 2; ++round) {
    BOOST_TEST(reader->object(obj)->value.has_value());
    BOOST_TEST(!reader->object(obj + 100)->value.has_value());
    BOOST_TEST(reader->category_by_id(cat)->value->description == "tools");
    BOOST_TEST(!reader->category_by_id(cat + 100)->value.has_value());
    BOOST_TEST(reader->related_object_by_id(rel)->value->content_type ==
               "image/png");
    BOOST_TEST(!reader->related_object_by_id(rel + 100)->value.has_value());
  }
  BOOST_TEST_MESSAGE("an idle reader keeps no read snapshot: a TRUNCATE "
                     "checkpoint empties the whole WAL");
  auto wal = truncate_wal(*raw());
  BOOST_TEST(wal.busy == 0);
  BOOST_TEST(wal.frames_left == 0);
}

BOOST_AUTO_TEST_CASE(object_list_pages_and_filters) {
  auto cat1 = ok(create_category("one")).id;
  auto cat2 = ok(create_category("two")).id;
  auto rel = ok(create_related("r", "t")).id;
  std::vector<row_id> in_cat1;
  std::vector<row_id> all;
  for (int i = 0; i < 5; ++i) {
    auto cat = i % 2 == 0 ? cat1 : cat2;
    auto id = ok(create_object("o" + std::to_string(i), "x", rel, cat)).id;
    all.push_back(id);
    if (cat == cat1)
      in_cat1.push_back(id);
  }
  auto reader = open_reader();
  query q;
  q.kind = query_kind::object_list;
  q.limit = 2;
  std::vector<row_id> seen;
  int pages = 0;
  for (;;) {
    auto page = reader->objects(q);
    BOOST_REQUIRE_MESSAGE(page, message_of(page));
    BOOST_REQUIRE(page->value.has_value());
    BOOST_TEST(page->read_seq == store->last_seq());
    BOOST_TEST(sorted(page->dependencies) ==
               sorted({"category:*", "child_object:*", "related_object:*",
                       "top_level_object:*"}));
    BOOST_TEST(page->value->items.size() <= 2u);
    for (auto& item : page->value->items)
      seen.push_back(item.id);
    ++pages;
    if (!page->value->next_after)
      break;
    BOOST_TEST(*page->value->next_after == seen.back());
    q.after = *page->value->next_after;
    BOOST_REQUIRE(pages < 10);
  }
  BOOST_TEST(pages == 3);
  BOOST_TEST(seen == all);

  BOOST_TEST_MESSAGE("an exact last page has no next_after");
  q.after = all[2];
  auto exact = reader->objects(q);
  BOOST_REQUIRE(exact && exact->value);
  BOOST_TEST(exact->value->items.size() == 2u);
  BOOST_TEST(!exact->value->next_after.has_value());

  BOOST_TEST_MESSAGE("category filter");
  q.after = 0;
  q.limit = 50;
  q.category_id = cat1;
  auto filtered = reader->objects(q);
  BOOST_REQUIRE(filtered && filtered->value);
  std::vector<row_id> filtered_ids;
  for (auto& item : filtered->value->items) {
    filtered_ids.push_back(item.id);
    BOOST_TEST(item.category_description == "one");
  }
  BOOST_TEST(filtered_ids == in_cat1);
  BOOST_TEST(!filtered->value->next_after.has_value());
}

BOOST_AUTO_TEST_CASE(category_and_related_object_by_id) {
  auto cat = ok(create_category("tools")).id;
  auto rel = ok(create_related("a hammer", "image/png")).id;
  auto reader = open_reader();

  auto found_cat = reader->category_by_id(cat);
  BOOST_REQUIRE_MESSAGE(found_cat, message_of(found_cat));
  BOOST_REQUIRE(found_cat->value.has_value());
  BOOST_TEST(found_cat->value->id == cat);
  BOOST_TEST(found_cat->value->description == "tools");
  BOOST_TEST(found_cat->read_seq == 2u);
  BOOST_TEST(found_cat->dependencies ==
             std::vector<std::string>{row_key(table::category, cat)});

  auto found_rel = reader->related_object_by_id(rel);
  BOOST_REQUIRE_MESSAGE(found_rel, message_of(found_rel));
  BOOST_REQUIRE(found_rel->value.has_value());
  BOOST_TEST(found_rel->value->id == rel);
  BOOST_TEST(found_rel->value->content_description == "a hammer");
  BOOST_TEST(found_rel->value->content_type == "image/png");
  BOOST_TEST(found_rel->dependencies ==
             std::vector<std::string>{row_key(table::related_object, rel)});

  auto missing_cat = reader->category_by_id(555);
  BOOST_REQUIRE(missing_cat);
  BOOST_TEST(!missing_cat->value.has_value());
  BOOST_TEST(missing_cat->dependencies ==
             std::vector<std::string>{row_key(table::category, 555)});
  auto missing_rel = reader->related_object_by_id(556);
  BOOST_REQUIRE(missing_rel);
  BOOST_TEST(!missing_rel->value.has_value());
  BOOST_TEST(missing_rel->dependencies ==
             std::vector<std::string>{row_key(table::related_object, 556)});
}

BOOST_AUTO_TEST_CASE(commit_log_ranges_and_current_seq) {
  auto reader = open_reader();
  auto empty_seq = reader->current_seq();
  BOOST_REQUIRE(empty_seq);
  BOOST_TEST(*empty_seq == 0u);
  std::vector<write_result> written;
  for (int i = 0; i < 5; ++i)
    written.push_back(ok(create_category("c" + std::to_string(i))));
  auto current = reader->current_seq();
  BOOST_REQUIRE(current);
  BOOST_TEST(*current == 5u);

  auto middle = reader->commits(1, 4, 10);
  BOOST_REQUIRE_MESSAGE(middle, message_of(middle));
  BOOST_REQUIRE(middle->size() == 3u);
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST((*middle)[i].seq == i + 2);
    BOOST_TEST((*middle)[i].changed == written[i + 1].changed);
  }
  auto limited = reader->commits(0, 5, 2);
  BOOST_REQUIRE(limited);
  BOOST_REQUIRE(limited->size() == 2u);
  BOOST_TEST((*limited)[0].seq == 1u);
  BOOST_TEST((*limited)[1].seq == 2u);
  auto unbounded = reader->commits(3, std::numeric_limits<seq_t>::max(), 100);
  BOOST_REQUIRE(unbounded);
  BOOST_TEST(unbounded->size() == 2u);
  auto beyond = reader->commits(5, 10, 10);
  BOOST_REQUIRE(beyond);
  BOOST_TEST(beyond->empty());
}

BOOST_AUTO_TEST_CASE(object_changed_keys_split_in_the_log) {
  auto cat = ok(create_category("c")).id;
  auto rel = ok(create_related("r", "t")).id;
  auto created = ok(create_object("o", "x", rel, cat));
  auto reader = open_reader();
  auto log = reader->commits(2, 3, 10);
  BOOST_REQUIRE(log && log->size() == 1u);
  BOOST_TEST(log->front().changed == created.changed);
  BOOST_TEST(log->front().changed.size() == 2u);
  BOOST_TEST_MESSAGE("an update logs the same two keys (on PostgreSQL, its "
                     "checks and writes are one statement)");
  auto updated = ok(update_object(created.id, "o2", "y", rel, cat));
  BOOST_TEST(updated.changed == created.changed);
  log = reader->commits(3, 4, 10);
  BOOST_REQUIRE(log && log->size() == 1u);
  BOOST_TEST(log->front().seq == updated.seq);
  BOOST_TEST(log->front().changed == updated.changed);
}

// -- idempotency keys ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(idempotency_key_replays_the_first_result) {
  auto first = ok(keyed(create_category("a"), "k", "hash-a"));
  BOOST_TEST(!first.replayed);
  BOOST_TEST(first.seq == 1u);
  auto again = ok(keyed(create_category("a"), "k", "hash-a"));
  BOOST_TEST(again.replayed);
  BOOST_TEST(again.id == first.id);
  BOOST_TEST(again.seq == first.seq);
  BOOST_TEST(again.changed.empty(), "a replay invalidates nothing");
  BOOST_TEST_MESSAGE("applied once, and the replay used no seq");
  BOOST_TEST(store->last_seq() == 1u);
  BOOST_TEST(rows("category") == 1);
  BOOST_TEST(rows("commit_log") == 1);
  BOOST_TEST(rows("idempotency_key") == 1);
  BOOST_TEST(text("SELECT request_hash FROM idempotency_key WHERE key = 'k'") ==
             "hash-a");
  BOOST_TEST(scalar("SELECT id FROM idempotency_key WHERE key = 'k'") ==
             first.id);
  BOOST_TEST(scalar("SELECT seq FROM idempotency_key WHERE key = 'k'") == 1);

  BOOST_TEST_MESSAGE("the key for another request is refused");
  auto reused = store->apply(keyed(create_category("b"), "k", "hash-b"));
  BOOST_TEST(code_of(reused) == "idempotency_key_reused");
  BOOST_TEST(contains(message_of(reused), "already used for a different"),
             message_of(reused));
  BOOST_TEST(rows("category") == 1);
  BOOST_TEST(ok(create_category("c")).seq == 2u);
}

BOOST_AUTO_TEST_CASE(same_key_twice_in_one_batch) {
  std::vector<command> batch{
      keyed(create_category("a"), "k", "hash-a"),
      keyed(create_category("a"), "k", "hash-a"),
      keyed(create_category("b"), "k", "hash-b"),
      create_category("c"),
  };
  auto results = store->apply(batch);
  BOOST_REQUIRE(results.size() == batch.size());
  BOOST_REQUIRE(results[0]);
  BOOST_REQUIRE(results[1]);
  BOOST_REQUIRE(results[3]);
  BOOST_TEST(results[0]->seq == 1u);
  BOOST_TEST(!results[0]->replayed);
  BOOST_TEST(results[1]->replayed);
  BOOST_TEST(results[1]->id == results[0]->id);
  BOOST_TEST(results[1]->seq == 1u);
  BOOST_TEST(code_of(results[2]) == "idempotency_key_reused");
  BOOST_TEST(results[3]->seq == 2u);
  BOOST_TEST(store->last_seq() == 2u);
  BOOST_TEST(rows("category") == 2);
  BOOST_TEST(rows("commit_log") == 2);
  BOOST_TEST(rows("idempotency_key") == 1);
}

BOOST_AUTO_TEST_CASE(failed_commands_store_no_key) {
  auto unknown = store->apply(keyed(update_category(777, "x"), "k", "h"));
  BOOST_TEST(code_of(unknown) == "not_found");
  BOOST_TEST(rows("idempotency_key") == 0);
  auto id = ok(create_category("a")).id;
  auto updated = ok(keyed(update_category(id, "b"), "k", "h"));
  BOOST_TEST(!updated.replayed);
  BOOST_TEST(updated.seq == 2u);

  BOOST_TEST_MESSAGE("the key commits or rolls back with its write");
  inject_commit_log_failure(3);
  auto failed = store->apply(keyed(create_category("c"), "k2", "h2"));
  BOOST_TEST(code_of(failed) == "database_unavailable");
  BOOST_TEST(rows("idempotency_key") == 1);
  remove_injected_failure();
  auto retried = ok(keyed(create_category("c"), "k2", "h2"));
  BOOST_TEST(!retried.replayed);
  BOOST_TEST(retried.seq == 3u);
  BOOST_TEST(rows("idempotency_key") == 2);
}

BOOST_AUTO_TEST_CASE(a_refused_command_leaves_an_expired_key_alone) {
  auto first = ok(keyed(create_category("a"), "k", "h"));
  const std::string expired = "2000-01-01T00:00:00.000Z";
  *raw() << "UPDATE idempotency_key SET created_at = '" + expired + "'";
  BOOST_TEST_MESSAGE("the expired key is free, but the command is refused in "
                     "a batch that commits");
  auto results = store->apply(std::vector<command>{
      create_category("b"), keyed(update_category(777, "x"), "k", "h2"),
      create_category("c")});
  BOOST_REQUIRE(results.size() == 3u);
  BOOST_TEST(code_of(results[1]) == "not_found");
  BOOST_TEST(store->last_seq() == 3u);
  BOOST_TEST(rows("idempotency_key") == 1);
  BOOST_TEST(text("SELECT created_at FROM idempotency_key") == expired);
  BOOST_TEST(scalar("SELECT seq FROM idempotency_key") == first.seq);

  BOOST_TEST_MESSAGE("a command that succeeds takes the key over");
  auto taken = ok(keyed(update_category(first.id, "b"), "k", "h2"));
  BOOST_TEST(!taken.replayed);
  BOOST_TEST(taken.seq == 4u);
  BOOST_TEST(rows("idempotency_key") == 1);
  BOOST_TEST(text("SELECT request_hash FROM idempotency_key") == "h2");
  BOOST_TEST(scalar("SELECT seq FROM idempotency_key") == 4);
  BOOST_TEST(text("SELECT created_at FROM idempotency_key") > expired);
  auto replay = ok(keyed(update_category(first.id, "b"), "k", "h2"));
  BOOST_TEST(replay.replayed);
  BOOST_TEST(replay.seq == 4u);
  BOOST_TEST(store->last_seq() == 4u);
}

BOOST_AUTO_TEST_CASE(idempotency_keys_survive_a_restart_and_expire) {
  auto first = ok(keyed(create_category("a"), "k", "h"));
  reopen();
  auto replay = ok(keyed(create_category("a"), "k", "h"));
  BOOST_TEST(replay.replayed);
  BOOST_TEST(replay.seq == first.seq);

  BOOST_TEST_MESSAGE("a key older than the TTL is free again");
  *raw()
      << "UPDATE idempotency_key SET created_at = '2000-01-01T00:00:00.000Z'";
  auto anew = ok(keyed(create_category("a"), "k", "h"));
  BOOST_TEST(!anew.replayed);
  BOOST_TEST(anew.seq == 2u);
  BOOST_TEST(rows("category") == 2);
  BOOST_TEST(rows("idempotency_key") == 1);
  BOOST_TEST(scalar("SELECT seq FROM idempotency_key") == 2);

  BOOST_TEST_MESSAGE("pruning deletes expired keys only");
  ok(keyed(create_category("b"), "fresh", "h"));
  *raw() << "UPDATE idempotency_key SET created_at = '2000-01-01T00:00:00.000Z'"
            " WHERE key = 'k'";
  auto pruned = store->prune_idempotency_keys();
  BOOST_REQUIRE_MESSAGE(pruned, message_of(pruned));
  BOOST_TEST(*pruned == 1u);
  BOOST_TEST(rows("idempotency_key") == 1);
  BOOST_TEST(text("SELECT key FROM idempotency_key") == "fresh");
  BOOST_TEST(*store->prune_idempotency_keys() == 0u);

  BOOST_TEST_MESSAGE("a short TTL expires keys by the clock");
  store.reset();
  auto opened = write_store::open(settings, std::chrono::seconds{1});
  BOOST_REQUIRE_MESSAGE(opened, message_of(opened));
  store = std::move(*opened);
  BOOST_TEST(store->idempotency_ttl().count() == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds{1500});
  BOOST_TEST(*store->prune_idempotency_keys() == 1u);
  BOOST_TEST(rows("idempotency_key") == 0);
}

BOOST_AUTO_TEST_CASE(a_version_1_database_is_migrated_to_version_2) {
  auto id = ok(create_category("kept")).id;
  store.reset();
  {
    auto sql = raw();
    *sql << "DROP TABLE idempotency_key";
    *sql << "UPDATE schema_version SET version = 1";
  }
  reopen();
  BOOST_TEST(scalar("SELECT version FROM schema_version") == 2);
  BOOST_TEST(rows("schema_version") == 1);
  BOOST_TEST(rows("idempotency_key") == 0);
  BOOST_TEST(text("SELECT description FROM category WHERE id = " +
                  std::to_string(id)) == "kept");
  BOOST_TEST(store->last_seq() == 1u);
  auto keyed_write = ok(keyed(create_category("new"), "k", "h"));
  BOOST_TEST(keyed_write.seq == 2u);
  BOOST_TEST(ok(keyed(create_category("new"), "k", "h")).replayed);
}

BOOST_AUTO_TEST_SUITE_END()
