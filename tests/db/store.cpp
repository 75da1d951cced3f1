// Tests of the write store and its sessions: generic commands on declared
// domains (the built-in `objects` domain and an inline lending library with
// owned arrays two levels deep), with the stored rows read back through a
// separate SOCI connection. Every case runs on the backend CQRSD_TEST_BACKEND
// names (SQLite by default; ctest runs the suite once per backend). Cases
// about one backend's own mechanics say so in a message and return early on
// the other.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/sec.hpp>
#include <soci/soci.h>

#include "common/error.hpp"
#include "config/domain_file.hpp"
#include "db/schema.hpp"
#include "db/write_store.hpp"
#include "fixtures/temp_db.hpp"
#include "model/row_key.hpp"

using namespace cqrs;

namespace {

// -- domains ------------------------------------------------------------------

std::shared_ptr<const domain> parsed(const std::string& text,
                                     const std::string& name) {
  domain_error err;
  auto d = parse_domain(text, name, err);
  BOOST_REQUIRE_MESSAGE(d, to_string(err));
  return std::make_shared<const domain>(std::move(*d));
}

std::shared_ptr<const domain> objects_domain() {
  domain_error err;
  auto d =
      load_domain(std::string{CQRSD_SOURCE_DIR} + "/domains/objects.yaml", err);
  BOOST_REQUIRE_MESSAGE(d, to_string(err));
  return std::make_shared<const domain>(std::move(*d));
}

// A lending library: books own an array of copies, each owning a single
// sticker and an array of loans; members own a single card, which owns a
// single pin. Reservations reference copies from outside the book
// aggregate, and a copy may name the copy it replaces. Lists filter books on
// a text, a boolean and a number, members on a boolean, branches on a text.
const char* lending_yaml = R"(
name: lending
tables:
  branch:
    columns:
      name: {type: text, unique: true}
  author:
    columns:
      name: text
  book:
    columns:
      title: text
      isbn: {type: text, unique: true}
      format: {type: text, one_of: [hardcover, paperback]}
      price: number
      in_print: boolean
      author_id: {references: author}
      featured_copy_id: {references: copy, optional: true}
  copy:
    columns:
      barcode: {type: text, unique: true}
      book_id: {references: book}
      branch_id: {references: branch, optional: true}
      replaces_id: {references: copy, optional: true}
  sticker:
    columns:
      code: {type: text, unique: true}
      copy_id: {references: copy}
  loan:
    columns:
      copy_id: {references: copy}
      member_id: {references: member}
      returned: boolean
  member:
    columns:
      name: text
      home_branch_id: {references: branch, optional: true}
      active: boolean
  card:
    columns:
      number: {type: text, unique: true}
      member_id: {references: member}
  pin:
    columns:
      digits: text
      card_id: {references: card}
  reservation:
    columns:
      copy_id: {references: copy}
resources:
  branches: {table: branch}
  authors: {table: author}
  books:
    table: book
    owns:
      copies:
        table: copy
        by: book_id
        many: true
        owns:
          sticker: {table: sticker, by: copy_id}
          loans: {table: loan, by: copy_id, many: true}
  members:
    table: member
    owns:
      card:
        table: card
        by: member_id
        owns:
          pin: {table: pin, by: card_id}
  reservations: {table: reservation}
views:
  books:
    from: book
    fields: {id: book.id, title: book.title}
    list:
      filters:
        format: book.format
        in_print: book.in_print
        price: book.price
  members:
    from: member
    fields: {id: member.id, name: member.name}
    list:
      filters:
        active: member.active
  branches:
    from: branch
    fields: {id: branch.id, name: branch.name}
    list:
      filters:
        name: branch.name
)";

// -- values and commands ------------------------------------------------------

field_value text(std::string x) {
  return field_value::of_text(std::move(x));
}
field_value integer(int64_t x) {
  return field_value::of_integer(x);
}
field_value number(double x) {
  return field_value::of_number(x);
}
field_value boolean(bool x) {
  return field_value::of_boolean(x);
}
const field_value null_value;

// One row of a command: its node by field path ("" for the root, "copies",
// "copies.loans"), its parent row and its values by column name.
struct row_spec {
  std::string field;
  int32_t parent = -1;
  std::vector<std::pair<std::string, field_value>> values;
};

// "copies.loans" for node `n` of `r`.
std::string node_path(const resource_decl& r, size_t n) {
  if (r.nodes[n].parent < 0)
    return "";
  auto parent = node_path(r, static_cast<size_t>(r.nodes[n].parent));
  return parent.empty() ? r.nodes[n].field : parent + "." + r.nodes[n].field;
}

command make(const domain& d, operation op, std::string_view segment, row_id id,
             const std::vector<row_spec>& rows = {}) {
  command cmd;
  cmd.op = op;
  cmd.id = id;
  auto resource = d.resource_index(segment);
  BOOST_REQUIRE_MESSAGE(resource, "no resource " << segment);
  cmd.resource = static_cast<uint16_t>(*resource);
  const auto& r = d.resources[*resource];
  for (const auto& spec : rows) {
    row_write row;
    row.parent = spec.parent;
    size_t n = 0;
    while (n < r.nodes.size() && node_path(r, n) != spec.field)
      ++n;
    BOOST_REQUIRE_MESSAGE(n < r.nodes.size(), "no node " << spec.field);
    row.node = static_cast<uint16_t>(n);
    const auto& table = d.tables[r.nodes[n].table];
    row.values.resize(table.columns.size());
    for (const auto& [name, value] : spec.values) {
      auto c = table.column_index(name);
      BOOST_REQUIRE_MESSAGE(c, "no column " << table.name << "." << name);
      row.values[*c] = value;
    }
    cmd.rows.push_back(std::move(row));
  }
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
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  return xs;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string joined(const std::vector<std::string>& keys) {
  std::string result;
  for (const auto& key : keys)
    result += (result.empty() ? "" : " ") + key;
  return result;
}

// -- fixtures -----------------------------------------------------------------

struct store_fixture : test::temp_db {
  std::shared_ptr<const domain> dom;
  std::unique_ptr<write_store> store;

  explicit store_fixture(std::shared_ptr<const domain> d) : dom(std::move(d)) {
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
  void reopen(std::chrono::seconds ttl = write_store::default_idempotency_ttl) {
    store.reset();
    auto opened = write_store::open(settings, dom, ttl);
    BOOST_REQUIRE_MESSAGE(
        opened, "cannot open the write store: " << message_of(opened));
    store = std::move(*opened);
  }

  command make(operation op, std::string_view segment, row_id id,
               const std::vector<row_spec>& rows = {}) const {
    return ::make(*dom, op, segment, id, rows);
  }

  command remove(std::string_view segment, row_id id) const {
    return make(operation::remove, segment, id);
  }

  // Applies `cmd` and requires success.
  write_result ok(const command& cmd) {
    auto result = store->apply(cmd);
    BOOST_REQUIRE_MESSAGE(result, "command failed: " << message_of(result));
    return *result;
  }

  // Applies `cmd` and requires the refusal `code` with `message`.
  void refused(const command& cmd, const std::string& code,
               const std::string& message) {
    auto before = store->last_seq();
    auto result = store->apply(cmd);
    BOOST_TEST(code_of(result) == code);
    BOOST_TEST(message_of(result) == message);
    BOOST_TEST(store->last_seq() == before);
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
  std::string text_of(const std::string& query) const {
    auto sql = raw();
    std::string result;
    soci::indicator ind = soci::i_null;
    *sql << query, soci::into(result, ind);
    return sql->got_data() && ind == soci::i_ok ? result : std::string{};
  }

  // The ids of a query's first column, in order.
  std::vector<long long> ids(const std::string& query) const {
    auto sql = raw();
    std::vector<long long> result(1000);
    *sql << query, soci::into(result);
    return result;
  }

  long long rows(const std::string& table_name) const {
    return scalar("SELECT count(*) FROM \"" + table_name + "\"");
  }

  std::string changed_at(seq_t seq) const {
    return text_of("SELECT changed FROM commit_log WHERE seq = " +
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

// The built-in domain: categories, related objects, objects owning a child.
struct fixture : store_fixture {
  fixture() : store_fixture(objects_domain()) {
    // nop
  }

  command category(std::string description) const {
    return make(operation::create, "categories", 0,
                {{"", -1, {{"description", text(std::move(description))}}}});
  }

  command update_category(row_id id, std::string description) const {
    auto cmd = category(std::move(description));
    cmd.op = operation::update;
    cmd.id = id;
    return cmd;
  }

  command related(std::string description, std::string type) const {
    return make(operation::create, "related-objects", 0,
                {{"",
                  -1,
                  {{"content_description", text(std::move(description))},
                   {"content_type", text(std::move(type))}}}});
  }

  command object(std::string name, std::string access_code, row_id related_id,
                 row_id category_id) const {
    return make(operation::create, "objects", 0,
                {{"", -1, {{"name", text(std::move(name))}}},
                 {"child",
                  0,
                  {{"access_code", text(std::move(access_code))},
                   {"related_object_id", integer(related_id)},
                   {"category_id", integer(category_id)}}}});
  }

  command update_object(row_id id, std::string name, std::string access_code,
                        row_id related_id, row_id category_id) const {
    auto cmd = object(std::move(name), std::move(access_code), related_id,
                      category_id);
    cmd.op = operation::update;
    cmd.id = id;
    return cmd;
  }

  // The keys of an object `id` whose child `child` moves from related
  // object and category `old_rel`, `old_cat` (0: none) to `rel`, `cat`.
  static std::vector<std::string> object_keys(row_id id, row_id child,
                                              row_id rel, row_id cat,
                                              row_id old_rel = 0,
                                              row_id old_cat = 0) {
    std::vector<std::string> keys{
        row_key("top_level_object", id), row_key("child_object", child),
        column_key("child_object", "top_level_object_id", integer(id)),
        column_key("child_object", "related_object_id", integer(rel)),
        column_key("child_object", "category_id", integer(cat))};
    if (old_rel != 0)
      keys.push_back(
          column_key("child_object", "related_object_id", integer(old_rel)));
    if (old_cat != 0)
      keys.push_back(
          column_key("child_object", "category_id", integer(old_cat)));
    return sorted(keys);
  }
};

// One copy of a book command: its barcode, branch (0: none), the copy it
// replaces (0: none), its sticker and its loans (member, returned).
struct copy_spec {
  std::string barcode;
  row_id branch = 0;
  row_id replaces = 0;
  std::string sticker;
  std::vector<std::pair<row_id, bool>> loans;
};

struct lending : store_fixture {
  lending() : store_fixture(parsed(lending_yaml, "lending.yaml")) {
    // nop
  }

  row_id branch(std::string name) {
    return ok(make(operation::create, "branches", 0,
                   {{"", -1, {{"name", text(std::move(name))}}}}))
        .id;
  }

  row_id author(std::string name) {
    return ok(make(operation::create, "authors", 0,
                   {{"", -1, {{"name", text(std::move(name))}}}}))
        .id;
  }

  command member(std::string name, row_id home, std::string card,
                 operation op = operation::create, row_id id = 0,
                 bool active = true) const {
    return make(op, "members", id,
                {{"",
                  -1,
                  {{"name", text(std::move(name))},
                   {"home_branch_id", home != 0 ? integer(home) : null_value},
                   {"active", boolean(active)}}},
                 {"card", 0, {{"number", text(std::move(card))}}},
                 {"card.pin", 1, {{"digits", text("1234")}}}});
  }

  command book(std::string isbn, row_id author_id,
               const std::vector<copy_spec>& copies,
               operation op = operation::create, row_id id = 0,
               std::string format = "hardcover", double price = 10.5,
               bool in_print = true, row_id featured = 0) const {
    std::vector<row_spec> rows{
        {"",
         -1,
         {{"title", text("Dune")},
          {"isbn", text(std::move(isbn))},
          {"format", text(std::move(format))},
          {"price", number(price)},
          {"in_print", boolean(in_print)},
          {"author_id", integer(author_id)},
          {"featured_copy_id",
           featured != 0 ? integer(featured) : null_value}}}};
    for (const auto& c : copies) {
      auto copy_row = static_cast<int32_t>(rows.size());
      rows.push_back(
          {"copies",
           0,
           {{"barcode", text(c.barcode)},
            {"branch_id", c.branch != 0 ? integer(c.branch) : null_value},
            {"replaces_id",
             c.replaces != 0 ? integer(c.replaces) : null_value}}});
      rows.push_back({"copies.sticker", copy_row, {{"code", text(c.sticker)}}});
      for (const auto& [who, returned] : c.loans)
        rows.push_back(
            {"copies.loans",
             copy_row,
             {{"member_id", integer(who)}, {"returned", boolean(returned)}}});
    }
    return make(op, "books", id, rows);
  }

  // The ids of the copies of book `id`, ascending.
  std::vector<long long> copies_of(row_id id) const {
    return ids("SELECT id FROM copy WHERE book_id = " + std::to_string(id) +
               " ORDER BY id");
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(store)

// -- schema and sessions ------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(schema_is_created_on_first_open, fixture) {
  const std::string tables = "('category', 'related_object',"
                             " 'top_level_object', 'child_object',"
                             " 'commit_log', 'schema_version',"
                             " 'idempotency_key')";
  if (is_sqlite()) {
    BOOST_TEST(std::filesystem::exists(path));
    BOOST_TEST(scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                      " AND name IN " +
                      tables) == 7);
    BOOST_TEST(text_of("PRAGMA journal_mode") == "wal");
  } else {
    BOOST_TEST(scalar("SELECT count(*) FROM information_schema.tables"
                      " WHERE table_schema = current_schema()"
                      " AND table_name IN " +
                      tables) == 7);
    BOOST_TEST_MESSAGE("seqs are 64-bit");
    BOOST_TEST(scalar("SELECT count(*) FROM information_schema.columns"
                      " WHERE table_schema = current_schema()"
                      " AND table_name IN ('commit_log', 'idempotency_key')"
                      " AND column_name = 'seq' AND data_type = 'bigint'") ==
               2);
  }
  BOOST_TEST(rows("schema_version") == 1);
  BOOST_TEST(scalar("SELECT version FROM schema_version") == schema_version);
  BOOST_TEST(store->last_seq() == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_declared_domain_gets_its_tables, lending) {
  for (const auto& table : dom->tables)
    BOOST_TEST(rows(table.name) == 0, table.name);
  BOOST_TEST_MESSAGE("a second open checks them and keeps their rows");
  auto id = branch("north");
  reopen();
  BOOST_TEST(text_of("SELECT name FROM branch WHERE id = " +
                     std::to_string(id)) == "north");
}

BOOST_FIXTURE_TEST_CASE(migrate_is_idempotent, fixture) {
  auto id = ok(category("kept")).id;
  BOOST_TEST_MESSAGE("open the same database twice more");
  reopen();
  reopen();
  BOOST_TEST(rows("schema_version") == 1);
  BOOST_TEST(scalar("SELECT version FROM schema_version") == schema_version);
  BOOST_TEST(text_of("SELECT description FROM category WHERE id = " +
                     std::to_string(id)) == "kept");
  BOOST_TEST(rows("commit_log") == 1);
  auto sql = open_session(settings, session_mode::write);
  BOOST_REQUIRE(sql);
  BOOST_TEST(!migrate(**sql, backend));
  BOOST_TEST(rows("schema_version") == 1);
}

BOOST_FIXTURE_TEST_CASE(migrate_refuses_a_newer_schema, fixture) {
  *raw() << "UPDATE schema_version SET version = 99";
  store.reset();
  auto opened = write_store::open(settings, dom);
  BOOST_REQUIRE(!opened);
  BOOST_TEST(code_of(opened) == "database_unavailable");
  BOOST_TEST(contains(message_of(opened), "99 is newer"), message_of(opened));
  BOOST_TEST(scalar("SELECT version FROM schema_version") == 99);
}

BOOST_FIXTURE_TEST_CASE(a_table_that_does_not_match_refuses_to_open, lending) {
  store.reset();
  *raw() << "DROP TABLE reservation";
  *raw() << "CREATE TABLE reservation (id INTEGER PRIMARY KEY, x TEXT)";
  auto opened = write_store::open(settings, dom);
  BOOST_REQUIRE(!opened);
  BOOST_TEST(code_of(opened) == "schema_mismatch");
  BOOST_TEST(contains(message_of(opened), "reservation"), message_of(opened));
}

BOOST_FIXTURE_TEST_CASE(write_session_is_durable_wal_with_foreign_keys,
                        fixture) {
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

BOOST_FIXTURE_TEST_CASE(write_session_is_read_write_and_durable, fixture) {
  if (skip_on(database_backend::sqlite, "PostgreSQL session settings"))
    return;
  auto sql = open_session(settings, session_mode::write);
  BOOST_REQUIRE_MESSAGE(sql, message_of(sql));
  BOOST_TEST(show(**sql, "transaction_read_only") == "off");
  BOOST_TEST(show(**sql, "default_transaction_read_only") == "off");
  BOOST_TEST_MESSAGE("a commit is acknowledged once it is durable");
  BOOST_TEST(show(**sql, "synchronous_commit") == "on");
}

BOOST_FIXTURE_TEST_CASE(missing_parent_directories_are_created, fixture) {
  if (skip_on(database_backend::postgresql, "no database file"))
    return;
  store.reset();
  settings.sqlite_path = dir + "/nested/with space/cqrsd.db";
  reopen();
  BOOST_TEST(std::filesystem::exists(settings.sqlite_path));
  BOOST_TEST(!std::filesystem::exists(dir + "/nested/with"));
  BOOST_TEST(ok(category("x")).seq == 1u);
}

BOOST_FIXTURE_TEST_CASE(read_session_cannot_write, fixture) {
  ok(category("before"));
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
  BOOST_TEST(text_of("SELECT description FROM category") == "before");
}

BOOST_FIXTURE_TEST_CASE(read_session_runs_read_only_repeatable_read, fixture) {
  if (skip_on(database_backend::sqlite, "PostgreSQL session settings"))
    return;
  auto sql = open_session(settings, session_mode::read);
  BOOST_REQUIRE_MESSAGE(sql, message_of(sql));
  BOOST_TEST(show(**sql, "default_transaction_read_only") == "on");
  BOOST_TEST(show(**sql, "default_transaction_isolation") == "repeatable read");
  **sql << "BEGIN";
  BOOST_TEST(show(**sql, "transaction_read_only") == "on");
  BOOST_TEST(show(**sql, "transaction_isolation") == "repeatable read");
  **sql << "COMMIT";
}

BOOST_FIXTURE_TEST_CASE(read_transaction_sees_one_snapshot, fixture) {
  ok(category("first"));
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
  BOOST_TEST(ok(category("second")).seq == 2u);
  BOOST_TEST(rows("category") == 2);
  BOOST_TEST_MESSAGE("stays invisible to it, the commit log included");
  BOOST_TEST(count() == 1);
  BOOST_TEST(last_seq() == 1);
  **sql << "COMMIT";
  BOOST_TEST(count() == 2);
  BOOST_TEST(last_seq() == 2);
}

BOOST_FIXTURE_TEST_CASE(postgresql_databases_are_never_created, fixture) {
  if (skip_on(database_backend::sqlite, "SQLite creates its file"))
    return;
  store.reset();
  settings.postgresql =
      test::with_dbname(test::postgresql_server_conninfo(), database + "_x");
  auto writer = write_store::open(settings, dom);
  BOOST_REQUIRE(!writer);
  BOOST_TEST(code_of(writer) == "database_unavailable");
  BOOST_TEST(contains(message_of(writer), "does not exist"),
             message_of(writer));
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

BOOST_FIXTURE_TEST_CASE(error_helpers, no_database) {
  auto err = make_cqrs_error(ec::not_found, "category 7 does not exist");
  BOOST_TEST(error_message(err) == "category 7 does not exist");
  BOOST_TEST(to_string(error_code(err)) == "not_found");
  caf::error foreign = caf::make_error(caf::sec::runtime_error);
  BOOST_TEST(to_string(error_code(foreign)) == "internal");
  BOOST_TEST(contains(error_message(foreign), "runtime_error"),
             error_message(foreign));
  BOOST_TEST(to_string(error_code(caf::error{})) == "none");
}

// -- commands on the built-in domain ------------------------------------------

BOOST_FIXTURE_TEST_CASE(category_create_update_remove, fixture) {
  auto created = ok(category("books"));
  BOOST_TEST(created.id > 0);
  BOOST_TEST(created.seq == 1u);
  auto key = row_key("category", created.id);
  BOOST_TEST(created.changed == std::vector<std::string>{key});
  auto where = " WHERE id = " + std::to_string(created.id);
  BOOST_TEST(text_of("SELECT description FROM category" + where) == "books");

  auto updated = ok(update_category(created.id, "novels"));
  BOOST_TEST(updated.id == created.id);
  BOOST_TEST(updated.seq == 2u);
  BOOST_TEST(updated.changed == std::vector<std::string>{key});
  BOOST_TEST(text_of("SELECT description FROM category" + where) == "novels");

  auto removed = ok(remove("categories", created.id));
  BOOST_TEST(removed.id == created.id);
  BOOST_TEST(removed.seq == 3u);
  BOOST_TEST(removed.changed == std::vector<std::string>{key});
  BOOST_TEST(rows("category") == 0);

  BOOST_TEST_MESSAGE("one commit_log row per seq, naming the row");
  BOOST_TEST(rows("commit_log") == 3);
  for (seq_t seq = 1; seq <= 3; ++seq)
    BOOST_TEST(changed_at(seq) == key);
  auto at = text_of("SELECT committed_at FROM commit_log WHERE seq = 1");
  BOOST_TEST(at.size() == 24u, at); // 2026-01-02T03:04:05.678Z
  BOOST_TEST(at.back() == 'Z');
  BOOST_TEST(store->last_seq() == 3u);
}

BOOST_FIXTURE_TEST_CASE(object_create_update_remove, fixture) {
  auto cat1 = ok(category("c1")).id;
  auto cat2 = ok(category("c2")).id;
  auto rel = ok(related("r", "t")).id;
  auto rel2 = ok(related("r2", "t")).id;

  auto created = ok(object("thing", "code-1", rel, cat1));
  BOOST_TEST(created.seq == 5u);
  auto child =
      scalar("SELECT id FROM child_object WHERE top_level_object_id = " +
             std::to_string(created.id));
  BOOST_TEST(child > 0);
  BOOST_TEST_MESSAGE("the rows, and the new values of the child's references");
  BOOST_TEST(created.changed == object_keys(created.id, child, rel, cat1));
  BOOST_TEST(changed_at(5) == joined(created.changed));
  BOOST_TEST(text_of("SELECT name FROM top_level_object WHERE id = " +
                     std::to_string(created.id)) == "thing");
  auto child_where = " FROM child_object WHERE id = " + std::to_string(child);
  BOOST_TEST(text_of("SELECT access_code" + child_where) == "code-1");
  BOOST_TEST(scalar("SELECT related_object_id" + child_where) == rel);
  BOOST_TEST(scalar("SELECT category_id" + child_where) == cat1);

  BOOST_TEST_MESSAGE("update keeps the child row and moves its references: "
                     "their old and new values are named");
  auto updated = ok(update_object(created.id, "thing 2", "code-2", rel2, cat2));
  BOOST_TEST(updated.id == created.id);
  BOOST_TEST(updated.seq == 6u);
  BOOST_TEST(updated.changed ==
             object_keys(created.id, child, rel2, cat2, rel, cat1));
  BOOST_TEST(changed_at(6) == joined(updated.changed));
  BOOST_TEST(text_of("SELECT name FROM top_level_object WHERE id = " +
                     std::to_string(created.id)) == "thing 2");
  BOOST_TEST(text_of("SELECT access_code" + child_where) == "code-2");
  BOOST_TEST(scalar("SELECT related_object_id" + child_where) == rel2);
  BOOST_TEST(scalar("SELECT category_id" + child_where) == cat2);
  BOOST_TEST(rows("child_object") == 1);

  BOOST_TEST_MESSAGE("an update to the same values names each key once");
  auto same = ok(update_object(created.id, "thing 2", "code-2", rel2, cat2));
  BOOST_TEST(same.changed == object_keys(created.id, child, rel2, cat2));

  BOOST_TEST_MESSAGE("remove takes the child with it, naming its old values");
  auto removed = ok(remove("objects", created.id));
  BOOST_TEST(removed.seq == 8u);
  BOOST_TEST(removed.changed == object_keys(created.id, child, rel2, cat2));
  BOOST_TEST(rows("top_level_object") == 0);
  BOOST_TEST(rows("child_object") == 0);
  BOOST_TEST(rows("category") == 2);
  BOOST_TEST(rows("related_object") == 2);
  BOOST_TEST(rows("commit_log") == 8);
}

BOOST_FIXTURE_TEST_CASE(batch_numbers_successes_and_isolates_failures,
                        fixture) {
  auto rel = ok(related("r", "t")).id;
  std::vector<command> batch{
      category("first"),
      object("orphan", "code", rel, 4242),                // unknown category
      category("second"), update_category(777, "nobody"), // unknown id
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
  BOOST_TEST(changed_at(2) == row_key("category", results[0]->id));
  BOOST_TEST(changed_at(3) == row_key("category", results[2]->id));
}

BOOST_FIXTURE_TEST_CASE(every_refusal_between_two_successes_leaves_nothing,
                        fixture) {
  // A batch has no savepoint per command: a refused command must be refused
  // before its first write. Each kind of refusal sits between two commands
  // that succeed, so that a write it left behind would commit with them.
  auto cat = ok(category("c")).id;
  auto rel = ok(related("r", "t")).id;
  auto obj = ok(object("o", "x", rel, cat)).id;
  const auto before = store->last_seq();
  const std::vector<std::pair<command, std::string>> refusals{
      {update_object(4242, "n", "y", 4243, 4244),
       "top_level_object 4242 does not exist"},
      {update_object(obj, "n", "y", 4243, 4244),
       "field 'body.child.related_object_id': related_object 4243 does not "
       "exist"},
      {update_object(obj, "n", "y", rel, 4244),
       "field 'body.child.category_id': category 4244 does not exist"},
      {object("n", "y", 4243, 4244),
       "field 'body.child.related_object_id': related_object 4243 does not "
       "exist"},
      {object("n", "y", rel, 4244),
       "field 'body.child.category_id': category 4244 does not exist"},
      {remove("objects", 4242), "top_level_object 4242 does not exist"},
      {update_category(4244, "n"), "category 4244 does not exist"},
      {remove("categories", cat),
       "category " + std::to_string(cat) +
           " is still referenced by 1 row of child_object.category_id"},
      {remove("related-objects", rel),
       "related_object " + std::to_string(rel) +
           " is still referenced by 1 row of child_object.related_object_id"},
  };
  for (size_t i = 0; i < refusals.size(); ++i) {
    const auto& [refused, message] = refusals[i];
    BOOST_TEST_CONTEXT("refusal " << i << ": " << message) {
      auto seq = store->last_seq();
      auto n = std::to_string(i);
      auto results = store->apply(std::vector<command>{
          keyed(category("before " + n), "before-" + n, "h"),
          keyed(refused, "refused-" + n, "h"),
          keyed(related("after " + n, "t"), "after-" + n, "h"),
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
  BOOST_TEST(text_of("SELECT name FROM top_level_object") == "o");
  BOOST_TEST(text_of("SELECT access_code FROM child_object") == "x");
  BOOST_TEST(scalar("SELECT related_object_id FROM child_object") == rel);
  BOOST_TEST(scalar("SELECT category_id FROM child_object") == cat);
  BOOST_TEST(text_of("SELECT description FROM category WHERE id = " +
                     std::to_string(cat)) == "c");
}

BOOST_FIXTURE_TEST_CASE(update_repairs_an_object_that_lost_its_child, fixture) {
  auto cat = ok(category("c")).id;
  auto rel = ok(related("r", "t")).id;
  auto obj = ok(object("o", "x", rel, cat)).id;
  *raw() << "DELETE FROM child_object";
  auto updated = ok(update_object(obj, "o2", "y", rel, cat));
  auto child =
      scalar("SELECT id FROM child_object WHERE top_level_object_id = " +
             std::to_string(obj));
  BOOST_TEST(child > 0);
  BOOST_TEST(updated.changed == object_keys(obj, child, rel, cat));
  BOOST_TEST(text_of("SELECT access_code FROM child_object") == "y");
  BOOST_TEST(text_of("SELECT name FROM top_level_object") == "o2");

  BOOST_TEST_MESSAGE("an object without a child is removed alone");
  *raw() << "DELETE FROM child_object";
  auto removed = ok(remove("objects", obj));
  BOOST_TEST(removed.changed ==
             std::vector<std::string>{row_key("top_level_object", obj)});
  BOOST_TEST(rows("top_level_object") == 0);
}

BOOST_FIXTURE_TEST_CASE(unknown_ids_are_not_found, fixture) {
  auto check = [&](const command& cmd, const std::string& message) {
    refused(cmd, "not_found", message);
  };
  check(update_category(7, "x"), "category 7 does not exist");
  check(remove("categories", 7), "category 7 does not exist");
  check(remove("related-objects", 8), "related_object 8 does not exist");
  check(update_object(9, "x", "y", 1, 1), "top_level_object 9 does not exist");
  check(remove("objects", 9), "top_level_object 9 does not exist");
  BOOST_TEST(store->last_seq() == 0u);
  BOOST_TEST(rows("commit_log") == 0);
}

BOOST_FIXTURE_TEST_CASE(referenced_rows_cannot_be_removed, fixture) {
  auto cat = ok(category("c")).id;
  auto rel = ok(related("r", "t")).id;
  auto first = ok(object("a", "x", rel, cat)).id;
  ok(object("b", "y", rel, cat));
  auto other_rel = ok(related("r2", "t")).id;
  auto lone = ok(object("c", "z", other_rel, cat)).id;

  refused(remove("categories", cat), "still_referenced",
          "category " + std::to_string(cat) +
              " is still referenced by 3 rows of child_object.category_id");
  refused(remove("related-objects", other_rel), "still_referenced",
          "related_object " + std::to_string(other_rel) +
              " is still referenced by 1 row of "
              "child_object.related_object_id");
  BOOST_TEST(rows("category") == 1);
  BOOST_TEST(rows("related_object") == 2);
  BOOST_TEST(store->last_seq() == 6u);

  BOOST_TEST_MESSAGE("once unreferenced, the rows go");
  ok(remove("objects", lone));
  BOOST_TEST(ok(remove("related-objects", other_rel)).seq == 8u);
  ok(remove("objects", first));
  BOOST_TEST(code_of(store->apply(remove("categories", cat))) ==
             "still_referenced");
}

BOOST_FIXTURE_TEST_CASE(seq_is_seeded_from_the_log_after_restart, fixture) {
  auto first = ok(category("a")).id;
  ok(category("b"));
  ok(remove("categories", first));
  BOOST_TEST(store->last_seq() == 3u);
  reopen();
  BOOST_TEST(store->last_seq() == 3u);
  auto next = ok(category("c"));
  BOOST_TEST(next.seq == 4u);
  BOOST_TEST_MESSAGE("ids are never reused, not even the last one removed");
  BOOST_TEST(next.id > first + 1);
  BOOST_TEST(rows("commit_log") == 4);
}

// -- aggregates with owned arrays ---------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_book_is_created_with_its_copies_and_loans, lending) {
  auto north = branch("north");
  auto south = branch("south");
  auto writer = author("Herbert");
  auto reader = ok(member("Ann", north, "C-1")).id;
  const std::string odd = "B \"1\" \\ \xc3\xa9\t";
  auto created =
      ok(book("I-1", writer,
              {{odd, north, 0, "S-1", {{reader, false}, {reader, true}}},
               {"B-2", 0, 0, "S-2", {}},
               {"B-3", south, 0, "S-3", {{reader, false}}}}));
  BOOST_TEST(created.seq == 5u);
  const auto id = created.id;
  BOOST_TEST_MESSAGE("copies come in array order, each with its children");
  auto copies = copies_of(id);
  BOOST_REQUIRE(copies.size() == 3u);
  auto copy_where = [&](size_t i) {
    return " FROM copy WHERE id = " + std::to_string(copies[i]);
  };
  BOOST_TEST(text_of("SELECT barcode" + copy_where(0)) == odd);
  BOOST_TEST(text_of("SELECT barcode" + copy_where(1)) == "B-2");
  BOOST_TEST(text_of("SELECT barcode" + copy_where(2)) == "B-3");
  BOOST_TEST(scalar("SELECT branch_id" + copy_where(0)) == north);
  BOOST_TEST(scalar("SELECT count(*)" + copy_where(1) +
                    " AND branch_id IS NULL") == 1);
  std::vector<long long> stickers;
  for (size_t i = 0; i < 3; ++i) {
    auto where = " FROM sticker WHERE copy_id = " + std::to_string(copies[i]);
    BOOST_TEST(text_of("SELECT code" + where) == "S-" + std::to_string(i + 1));
    stickers.push_back(scalar("SELECT id" + where));
  }
  auto loans = ids("SELECT id FROM loan ORDER BY id");
  BOOST_REQUIRE(loans.size() == 3u);
  BOOST_TEST(ids("SELECT copy_id FROM loan ORDER BY id") ==
             (std::vector<long long>{copies[0], copies[0], copies[2]}));
  BOOST_TEST(scalar("SELECT count(*) FROM loan WHERE returned") == 1);
  BOOST_TEST(scalar("SELECT count(*) FROM loan WHERE member_id = " +
                    std::to_string(reader)) == 3);

  BOOST_TEST_MESSAGE("every row inserted, with the new values of its keyed "
                     "columns (references and list filters)");
  std::vector<std::string> keys{
      row_key("book", id),
      column_key("book", "author_id", integer(writer)),
      column_key("book", "format", text("hardcover")),
      column_key("book", "price", number(10.5)),
      column_key("book", "in_print", boolean(true)),
      column_key("copy", "branch_id", integer(north)),
      column_key("copy", "branch_id", integer(south)),
      column_key("copy", "book_id", integer(id)),
      column_key("loan", "member_id", integer(reader)),
  };
  for (size_t i = 0; i < 3; ++i) {
    keys.push_back(row_key("copy", copies[i]));
    keys.push_back(row_key("sticker", stickers[i]));
    keys.push_back(column_key("sticker", "copy_id", integer(copies[i])));
    keys.push_back(row_key("loan", loans[i]));
  }
  keys.push_back(column_key("loan", "copy_id", integer(copies[0])));
  keys.push_back(column_key("loan", "copy_id", integer(copies[2])));
  BOOST_TEST(created.changed == sorted(keys));
  BOOST_TEST(changed_at(created.seq) == joined(created.changed));
}

BOOST_FIXTURE_TEST_CASE(put_replaces_owned_arrays_two_levels_deep, lending) {
  auto north = branch("north");
  auto south = branch("south");
  auto first_author = author("Herbert");
  auto second_author = author("Le Guin");
  auto reader = ok(member("Ann", 0, "C-1")).id;
  auto id = ok(book("I-1", first_author,
                    {{"B-1", north, 0, "S-1", {{reader, false}}},
                     {"B-2", south, 0, "S-2", {{reader, true}}}}))
                .id;
  auto old_copies = copies_of(id);
  auto old_stickers = ids("SELECT id FROM sticker ORDER BY id");
  auto old_loans = ids("SELECT id FROM loan ORDER BY id");
  BOOST_REQUIRE(old_copies.size() == 2u);

  BOOST_TEST_MESSAGE("new items may reuse the values of the rows they "
                     "replace; the root keeps its own");
  auto updated = ok(book("I-1", second_author,
                         {{"B-2", 0, 0, "S-1", {{reader, true}}},
                          {"B-3", north, 0, "S-3", {}},
                          {"B-1", north, 0, "S-2", {}}},
                         operation::update, id, "paperback", 12.25, false));
  BOOST_TEST(updated.id == id);
  BOOST_TEST(rows("book") == 1);
  BOOST_TEST(text_of("SELECT format FROM book") == "paperback");
  BOOST_TEST(scalar("SELECT author_id FROM book") == second_author);
  BOOST_TEST(scalar("SELECT count(*) FROM book WHERE price = 12.25"
                    " AND NOT in_print") == 1);
  auto copies = copies_of(id);
  BOOST_REQUIRE(copies.size() == 3u);
  BOOST_TEST(copies[0] > old_copies[1], "the items are new rows");
  BOOST_TEST(text_of("SELECT barcode FROM copy WHERE id = " +
                     std::to_string(copies[0])) == "B-2");
  BOOST_TEST(text_of("SELECT barcode FROM copy WHERE id = " +
                     std::to_string(copies[2])) == "B-1");
  auto stickers = ids("SELECT id FROM sticker ORDER BY id");
  auto loans = ids("SELECT id FROM loan ORDER BY id");
  BOOST_REQUIRE(stickers.size() == 3u);
  BOOST_REQUIRE(loans.size() == 1u);
  BOOST_TEST(scalar("SELECT copy_id FROM loan") == copies[0]);
  BOOST_TEST(scalar("SELECT count(*) FROM sticker WHERE id IN (" +
                    std::to_string(old_stickers[0]) + ", " +
                    std::to_string(old_stickers[1]) + ")") == 0);

  BOOST_TEST_MESSAGE("the keys: the root's old and new values, every "
                     "deleted row with its old values, every new row");
  std::vector<std::string> keys{
      row_key("book", id),
      column_key("book", "author_id", integer(first_author)),
      column_key("book", "author_id", integer(second_author)),
      column_key("book", "format", text("hardcover")),
      column_key("book", "format", text("paperback")),
      column_key("book", "price", number(10.5)),
      column_key("book", "price", number(12.25)),
      column_key("book", "in_print", boolean(true)),
      column_key("book", "in_print", boolean(false)),
      column_key("copy", "book_id", integer(id)),
      column_key("copy", "branch_id", integer(north)),
      column_key("copy", "branch_id", integer(south)),
      column_key("loan", "member_id", integer(reader)),
      column_key("loan", "copy_id", integer(copies[0])),
  };
  for (auto copy : old_copies) {
    keys.push_back(row_key("copy", copy));
    keys.push_back(column_key("sticker", "copy_id", integer(copy)));
    keys.push_back(column_key("loan", "copy_id", integer(copy)));
  }
  for (auto copy : copies) {
    keys.push_back(row_key("copy", copy));
    keys.push_back(column_key("sticker", "copy_id", integer(copy)));
  }
  for (auto sticker : old_stickers)
    keys.push_back(row_key("sticker", sticker));
  for (auto sticker : stickers)
    keys.push_back(row_key("sticker", sticker));
  for (auto loan : old_loans)
    keys.push_back(row_key("loan", loan));
  keys.push_back(row_key("loan", loans[0]));
  BOOST_TEST(updated.changed == sorted(keys));
  BOOST_TEST(changed_at(updated.seq) == joined(updated.changed));

  BOOST_TEST_MESSAGE("an empty array deletes every item");
  auto emptied = ok(book("I-1", second_author, {}, operation::update, id,
                         "paperback", 12.25, false));
  BOOST_TEST(rows("copy") == 0);
  BOOST_TEST(rows("sticker") == 0);
  BOOST_TEST(rows("loan") == 0);
  BOOST_TEST(contains(joined(emptied.changed), row_key("copy", copies[2])));

  BOOST_TEST_MESSAGE("a removal deletes the aggregate at every depth");
  ok(book("I-1", second_author, {{"B-1", north, 0, "S-1", {{reader, true}}}},
          operation::update, id));
  auto copy = copies_of(id).at(0);
  auto removed = ok(remove("books", id));
  BOOST_TEST(rows("book") == 0);
  BOOST_TEST(rows("copy") == 0);
  BOOST_TEST(rows("sticker") == 0);
  BOOST_TEST(rows("loan") == 0);
  BOOST_TEST(contains(joined(removed.changed),
                      column_key("loan", "copy_id", integer(copy))));
  BOOST_TEST(contains(joined(removed.changed),
                      column_key("copy", "branch_id", integer(north))));
}

BOOST_FIXTURE_TEST_CASE(a_single_child_keeps_its_id, lending) {
  auto north = branch("north");
  auto south = branch("south");
  BOOST_TEST_MESSAGE("an optional reference left out is NULL and named by "
                     "no column key");
  auto created = ok(member("Ann", 0, "C-1"));
  const auto id = created.id;
  auto card = scalar("SELECT id FROM card");
  auto pin = scalar("SELECT id FROM pin");
  BOOST_TEST(scalar("SELECT count(*) FROM member WHERE home_branch_id IS NULL"
                    " AND id = " +
                    std::to_string(id)) == 1);
  BOOST_TEST(scalar("SELECT card_id FROM pin") == card);
  // The keys of every commit of the member: its rows, the references that
  // hold them together and the values given.
  auto keys = [&](std::vector<std::string> more) {
    more.insert(more.end(), {row_key("member", id), row_key("card", card),
                             row_key("pin", pin),
                             column_key("card", "member_id", integer(id)),
                             column_key("pin", "card_id", integer(card))});
    return sorted(more);
  };
  BOOST_TEST(created.changed ==
             keys({column_key("member", "active", boolean(true))}));
  BOOST_TEST(changed_at(created.seq) == joined(created.changed));

  BOOST_TEST_MESSAGE("an update keeps the children's ids, naming the old and "
                     "new values of a reference and a list filter");
  auto moved = ok(member("Ann B", north, "C-2", operation::update, id, false));
  BOOST_TEST(scalar("SELECT id FROM card") == card);
  BOOST_TEST(scalar("SELECT id FROM pin") == pin);
  BOOST_TEST(rows("card") == 1);
  BOOST_TEST(rows("pin") == 1);
  BOOST_TEST(text_of("SELECT number FROM card") == "C-2");
  BOOST_TEST(moved.changed ==
             keys({column_key("member", "home_branch_id", integer(north)),
                   column_key("member", "active", boolean(true)),
                   column_key("member", "active", boolean(false))}));
  BOOST_TEST(changed_at(moved.seq) == joined(moved.changed));

  auto again = ok(member("Ann B", south, "C-2", operation::update, id, false));
  BOOST_TEST(again.changed ==
             keys({column_key("member", "home_branch_id", integer(north)),
                   column_key("member", "home_branch_id", integer(south)),
                   column_key("member", "active", boolean(false))}));
  BOOST_TEST(changed_at(again.seq) == joined(again.changed));

  auto back = ok(member("Ann B", 0, "C-2", operation::update, id, true));
  BOOST_TEST(scalar("SELECT count(*) FROM member"
                    " WHERE home_branch_id IS NULL") == 1);
  BOOST_TEST(back.changed ==
             keys({column_key("member", "home_branch_id", integer(south)),
                   column_key("member", "active", boolean(false)),
                   column_key("member", "active", boolean(true))}));
  BOOST_TEST(changed_at(back.seq) == joined(back.changed));

  BOOST_TEST_MESSAGE("a lost grandchild is inserted under the kept child");
  *raw() << "DELETE FROM pin";
  auto repaired = ok(member("Ann B", 0, "C-2", operation::update, id, true));
  auto new_pin = scalar("SELECT id FROM pin");
  BOOST_TEST(new_pin > pin);
  BOOST_TEST(scalar("SELECT card_id FROM pin") == card);
  pin = new_pin;
  BOOST_TEST(repaired.changed ==
             keys({column_key("member", "active", boolean(true))}));
  BOOST_TEST(changed_at(repaired.seq) == joined(repaired.changed));

  auto removed = ok(remove("members", id));
  BOOST_TEST(rows("card") == 0);
  BOOST_TEST(rows("pin") == 0);
  BOOST_TEST(removed.changed ==
             keys({column_key("member", "active", boolean(true))}));
  BOOST_TEST(changed_at(removed.seq) == joined(removed.changed));
}

BOOST_FIXTURE_TEST_CASE(a_text_filter_names_its_old_and_new_values, lending) {
  auto id = branch("north");
  auto key = [&](std::string name) {
    return column_key("branch", "name", text(std::move(name)));
  };
  auto rename = [&](std::string name) {
    return ok(make(operation::update, "branches", id,
                   {{"", -1, {{"name", text(std::move(name))}}}}));
  };
  auto renamed = rename("a name with spaces, past sixty-four bytes of text, "
                        "which the key hashes");
  BOOST_TEST(renamed.changed ==
             sorted({row_key("branch", id), key("north"),
                     key("a name with spaces, past sixty-four bytes of text, "
                         "which the key hashes")}));
  BOOST_TEST(changed_at(renamed.seq) == joined(renamed.changed));
  auto back = rename("north");
  BOOST_TEST(contains(joined(back.changed), key("north")));
  auto removed = ok(remove("branches", id));
  BOOST_TEST(removed.changed == sorted({row_key("branch", id), key("north")}));
  BOOST_TEST(changed_at(removed.seq) == joined(removed.changed));
}

BOOST_FIXTURE_TEST_CASE(unique_values_are_checked_after_the_write, lending) {
  auto writer = author("Herbert");
  auto first = ok(book("I-1", writer,
                       {{"B-1", 0, 0, "S-1", {}}, {"B-2", 0, 0, "S-2", {}}}))
                   .id;
  auto first_copies = copies_of(first);
  BOOST_TEST_MESSAGE("a PUT keeps its own values and swaps its items'");
  ok(book("I-1", writer, {{"B-2", 0, 0, "S-2", {}}, {"B-1", 0, 0, "S-1", {}}},
          operation::update, first));
  auto swapped = copies_of(first);
  auto b1 = swapped.at(1);

  BOOST_TEST_MESSAGE("another aggregate's values clash, naming the holder");
  refused(book("I-1", writer, {}), "duplicate_value",
          "field 'body.isbn': book " + std::to_string(first) +
              " already holds this value; book.isbn must be unique");
  refused(
      book("I-2", writer, {{"B-7", 0, 0, "S-7", {}}, {"B-1", 0, 0, "S-8", {}}}),
      "duplicate_value",
      "field 'body.copies[1].barcode': copy " + std::to_string(b1) +
          " already holds this value; copy.barcode must be unique");
  refused(book("I-2", writer, {{"B-7", 0, 0, "S-1", {}}}), "duplicate_value",
          "field 'body.copies[0].sticker.code': sticker " +
              std::to_string(scalar("SELECT id FROM sticker"
                                    " WHERE code = 'S-1'")) +
              " already holds this value; sticker.code must be unique");

  BOOST_TEST_MESSAGE("a value repeated in one body names its second "
                     "occurrence and its first");
  refused(book("I-2", writer,
               {{"X", 0, 0, "S-7", {}},
                {"Y", 0, 0, "S-8", {}},
                {"X", 0, 0, "S-9", {}}}),
          "duplicate_value",
          "field 'body.copies[2].barcode' repeats the value of "
          "'body.copies[0].barcode'; copy.barcode must be unique");
  refused(book("I-2", writer, {{"X", 0, 0, "S-7", {}}, {"Y", 0, 0, "S-7", {}}}),
          "duplicate_value",
          "field 'body.copies[1].sticker.code' repeats the value of "
          "'body.copies[0].sticker.code'; sticker.code must be unique");
  BOOST_TEST_MESSAGE("the first in the order of rows wins");
  refused(book("I-2", writer,
               {{"X", 0, 0, "S-7", {}},
                {"B-2", 0, 0, "S-8", {}},
                {"X", 0, 0, "S-9", {}}}),
          "duplicate_value",
          "field 'body.copies[1].barcode': copy " +
              std::to_string(swapped.at(0)) +
              " already holds this value; copy.barcode must be unique");

  BOOST_TEST_MESSAGE("a single child's unique value, kept or taken");
  auto ann = ok(member("Ann", 0, "C-1")).id;
  auto bob = ok(member("Bob", 0, "C-2")).id;
  auto ann_card =
      scalar("SELECT id FROM card WHERE member_id = " + std::to_string(ann));
  ok(member("Bob", 0, "C-2", operation::update, bob));
  refused(member("Bob", 0, "C-1", operation::update, bob), "duplicate_value",
          "field 'body.card.number': card " + std::to_string(ann_card) +
              " already holds this value; card.number must be unique");
  BOOST_TEST(text_of("SELECT number FROM card WHERE member_id = " +
                     std::to_string(bob)) == "C-2");
  BOOST_TEST(rows("book") == 1);
  BOOST_TEST(copies_of(first) == swapped);
  BOOST_TEST(swapped.at(0) > first_copies.at(1));
}

BOOST_FIXTURE_TEST_CASE(checks_come_in_their_order, lending) {
  auto writer = author("Herbert");
  auto reader = ok(member("Ann", 0, "C-1")).id;
  auto id = ok(book("I-1", writer, {{"B-1", 0, 0, "S-1", {}}})).id;
  auto copy = copies_of(id).at(0);
  ok(make(operation::create, "reservations", 0,
          {{"", -1, {{"copy_id", integer(copy)}}}}));
  BOOST_TEST_MESSAGE("404 before anything else");
  refused(
      book("I-1", 999, {{"B-1", 999, 0, "S-1", {}}}, operation::update, 4242),
      "not_found", "book 4242 does not exist");
  BOOST_TEST_MESSAGE("a missing reference before a duplicate");
  refused(book("I-1", 999, {}), "missing_reference",
          "field 'body.author_id': author 999 does not exist");
  BOOST_TEST_MESSAGE("missing references in the order of rows, then columns");
  refused(book("I-2", writer,
               {{"B-7", 0, 0, "S-7", {{reader, false}, {998, false}}},
                {"B-8", 997, 0, "S-8", {}}}),
          "missing_reference",
          "field 'body.copies[0].loans[1].member_id': member 998 does not "
          "exist");
  BOOST_TEST_MESSAGE("a duplicate before a row still referenced");
  auto other = ok(book("I-2", writer, {})).id;
  refused(book("I-2", writer, {}, operation::update, id), "duplicate_value",
          "field 'body.isbn': book " + std::to_string(other) +
              " already holds this value; book.isbn must be unique");
  refused(book("I-1", writer, {}, operation::update, id), "still_referenced",
          "copy " + std::to_string(copy) +
              " is still referenced by 1 row of reservation.copy_id");
  BOOST_TEST(rows("copy") == 1);
  BOOST_TEST(rows("sticker") == 1);
}

BOOST_FIXTURE_TEST_CASE(references_inside_and_outside_the_aggregate, lending) {
  auto writer = author("Herbert");
  auto reader = ok(member("Ann", 0, "C-1")).id;
  auto a = ok(book("I-1", writer,
                   {{"A-1", 0, 0, "S-1", {{reader, false}}},
                    {"A-2", 0, 0, "S-2", {{reader, true}}}}))
               .id;
  auto a_copies = copies_of(a);
  BOOST_TEST_MESSAGE("a row outside the aggregate holds on to its rows");
  refused(remove("members", reader), "still_referenced",
          "member " + std::to_string(reader) +
              " is still referenced by 2 rows of loan.member_id");
  auto b = ok(book("I-2", writer, {{"B-1", 0, a_copies[1], "S-3", {}}})).id;
  refused(remove("books", a), "still_referenced",
          "copy " + std::to_string(a_copies[1]) +
              " is still referenced by 1 row of copy.replaces_id");
  refused(book("I-1", writer, {}, operation::update, a), "still_referenced",
          "copy " + std::to_string(a_copies[1]) +
              " is still referenced by 1 row of copy.replaces_id");
  BOOST_TEST_MESSAGE("a new item may not name a row its write removes");
  refused(book("I-1", writer, {{"A-3", 0, a_copies[0], "S-4", {}}},
               operation::update, a),
          "missing_reference",
          "field 'body.copies[0].replaces_id': copy " +
              std::to_string(a_copies[0]) + " does not exist");
  BOOST_TEST(copies_of(a) == a_copies);

  BOOST_TEST_MESSAGE("references within the aggregate go with it");
  ok(remove("books", b));
  for (auto op : {operation::update, operation::remove}) {
    auto c = ok(book("I-3", writer,
                     {{"C-1", 0, 0, "S-5", {}}, {"C-2", 0, 0, "S-6", {}}}))
                 .id;
    auto c_copies = copies_of(c);
    *raw() << "UPDATE copy SET replaces_id = " + std::to_string(c_copies[0]) +
                  " WHERE id = " + std::to_string(c_copies[1]);
    if (op == operation::update)
      ok(book("I-3", writer, {}, op, c));
    else
      ok(remove("books", c));
    BOOST_TEST(copies_of(c).empty());
    if (op == operation::update)
      ok(remove("books", c));
  }
  ok(remove("books", a));
  BOOST_TEST(rows("loan") == 0);
  BOOST_TEST(ok(remove("members", reader)).id == reader);
  BOOST_TEST(rows("card") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_root_may_let_go_of_an_item_it_replaces, lending) {
  auto writer = author("Herbert");
  auto id = ok(book("I-1", writer, {{"B-1", 0, 0, "S-1", {}}})).id;
  auto copy = copies_of(id).at(0);
  *raw() << "UPDATE book SET featured_copy_id = " + std::to_string(copy);
  BOOST_TEST_MESSAGE("the root's reference is checked by its new value: one "
                     "that names the copy the write replaces is refused");
  refused(book("I-1", writer, {{"B-1", 0, 0, "S-1", {}}}, operation::update, id,
               "hardcover", 10.5, true, copy),
          "missing_reference",
          "field 'body.featured_copy_id': copy " + std::to_string(copy) +
              " does not exist");
  BOOST_TEST_MESSAGE("one that lets go of it replaces the copy");
  auto put = ok(
      book("I-1", writer, {{"B-1", 0, 0, "S-1", {}}}, operation::update, id));
  auto replaced = copies_of(id).at(0);
  BOOST_TEST(replaced != copy);
  BOOST_TEST(
      scalar("SELECT count(*) FROM book WHERE featured_copy_id IS NULL") == 1);
  BOOST_TEST(contains(joined(put.changed),
                      column_key("book", "featured_copy_id", integer(copy))));
  BOOST_TEST_MESSAGE("a removal takes the root and the copy it names");
  *raw() << "UPDATE book SET featured_copy_id = " + std::to_string(replaced);
  ok(remove("books", id));
  BOOST_TEST(rows("copy") == 0);
  BOOST_TEST(rows("book") == 0);
}

BOOST_FIXTURE_TEST_CASE(aggregates_commit_in_groups_with_gapless_seqs,
                        lending) {
  auto writer = author("Herbert");
  auto reader = ok(member("Ann", 0, "C-1")).id;
  auto seq = store->last_seq();
  auto results = store->apply(std::vector<command>{
      book("I-1", writer, {{"B-1", 0, 0, "S-1", {{reader, false}}}}),
      book("I-1", writer, {}),                         // duplicate isbn
      remove("members", reader),                       // still referenced
      book("I-2", writer, {{"B-1", 0, 0, "S-2", {}}}), // duplicate barcode
      book("I-3", writer, {{"B-3", 0, 0, "S-3", {}}}),
  });
  BOOST_REQUIRE(results.size() == 5u);
  BOOST_REQUIRE(results[0] && results[4]);
  BOOST_TEST(code_of(results[1]) == "duplicate_value");
  BOOST_TEST(code_of(results[2]) == "still_referenced");
  BOOST_TEST(code_of(results[3]) == "duplicate_value");
  BOOST_TEST(results[0]->seq == seq + 1);
  BOOST_TEST(results[4]->seq == seq + 2);
  BOOST_TEST(store->last_seq() == seq + 2);
  BOOST_TEST(rows("book") == 2);
  BOOST_TEST(rows("copy") == 2);
  BOOST_TEST(rows("member") == 1);
  BOOST_TEST(changed_at(seq + 1) == joined(results[0]->changed));
  BOOST_TEST(changed_at(seq + 2) == joined(results[4]->changed));
  BOOST_TEST_MESSAGE("a later command of the batch sees an earlier one");
  auto next = store->apply(std::vector<command>{
      remove("books", results[0]->id), remove("members", reader),
      book("I-1", writer, {{"B-1", 0, 0, "S-1", {}}})});
  BOOST_REQUIRE(next.size() == 3u);
  for (auto& result : next)
    BOOST_TEST(code_of(result) == "ok", message_of(result));
  BOOST_TEST(store->last_seq() == seq + 5);
}

// -- failed transactions ------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(commit_log_row_and_data_commit_together, fixture) {
  ok(category("before"));
  BOOST_TEST_MESSAGE("make the commit_log insert of seq 3 fail");
  inject_commit_log_failure(3);
  auto results =
      store->apply(std::vector<command>{category("a"), category("b")});
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
  BOOST_TEST_MESSAGE("the next transaction re-reads the seq and goes on "
                     "without a gap");
  auto retried =
      store->apply(std::vector<command>{category("a"), category("b")});
  BOOST_REQUIRE(retried[0] && retried[1]);
  BOOST_TEST(retried[0]->seq == 2u);
  BOOST_TEST(retried[1]->seq == 3u);
  BOOST_TEST(rows("category") == 3);
  BOOST_TEST(rows("commit_log") == 3);
}

BOOST_FIXTURE_TEST_CASE(a_failed_transaction_resyncs_the_seq, fixture) {
  ok(category("before"));
  inject_commit_log_failure(2);
  BOOST_TEST(code_of(store->apply(category("a"))) == "database_unavailable");
  remove_injected_failure();
  BOOST_TEST_MESSAGE("another writer commits seq 2 meanwhile; the store "
                     "learns it from the log, not from its memory");
  *raw() << "INSERT INTO commit_log (seq, committed_at, changed)"
            " VALUES (2, '2026-01-01T00:00:00.000Z', 'category:999')";
  auto next = ok(category("b"));
  BOOST_TEST(next.seq == 3u);
  BOOST_TEST(store->last_seq() == 3u);
}

BOOST_FIXTURE_TEST_CASE(locked_database_fails_the_batch_without_using_seqs,
                        fixture) {
  if (skip_on(database_backend::postgresql,
              "SQLite busy timeout; see lost_connection_fails_the_batch_"
              "without_using_seqs"))
    return;
  settings.busy_timeout_ms = 100;
  reopen();
  ok(category("before"));
  auto other = raw();
  *other << "BEGIN IMMEDIATE";
  auto results =
      store->apply(std::vector<command>{category("a"), category("b")});
  BOOST_REQUIRE(results.size() == 2u);
  for (auto& result : results) {
    BOOST_TEST(code_of(result) == "database_unavailable");
    BOOST_TEST(contains(message_of(result), "locked"), message_of(result));
  }
  BOOST_TEST(store->last_seq() == 1u);
  *other << "ROLLBACK";
  BOOST_TEST(ok(category("after")).seq == 2u);
  BOOST_TEST(rows("category") == 2);
}

BOOST_FIXTURE_TEST_CASE(
    a_row_lock_held_elsewhere_fails_the_batch_after_the_timeout, fixture) {
  if (skip_on(database_backend::sqlite,
              "PostgreSQL lock_timeout; see locked_database_fails_the_batch_"
              "without_using_seqs"))
    return;
  settings.lock_timeout_ms = 200;
  reopen();
  auto cat = ok(category("before")).id;
  auto other = raw();
  *other << "BEGIN";
  *other << "SELECT id FROM category WHERE id = " + std::to_string(cat) +
                " FOR UPDATE";
  BOOST_TEST_MESSAGE("the transaction's lock_timeout is set as it begins");
  auto start = std::chrono::steady_clock::now();
  auto results = store->apply(
      std::vector<command>{category("a"), update_category(cat, "b")});
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

BOOST_FIXTURE_TEST_CASE(lost_connection_fails_the_batch_without_using_seqs,
                        fixture) {
  if (skip_on(database_backend::sqlite, "a file has no connection to lose"))
    return;
  ok(category("before"));
  BOOST_TEST_MESSAGE("the server ends the write store's connection");
  BOOST_TEST(scalar("SELECT count(pg_terminate_backend(pid))"
                    " FROM pg_stat_activity WHERE datname = current_database()"
                    " AND backend_type = 'client backend'"
                    " AND pid <> pg_backend_pid()") == 1);
  auto results =
      store->apply(std::vector<command>{category("a"), category("b")});
  BOOST_REQUIRE(results.size() == 2u);
  for (auto& result : results)
    BOOST_TEST(code_of(result) == "database_unavailable", message_of(result));
  BOOST_TEST(store->last_seq() == 1u);
  BOOST_TEST(rows("category") == 1);
  BOOST_TEST(rows("commit_log") == 1);
  BOOST_TEST_MESSAGE("the write store reconnects for the next batch");
  BOOST_TEST(ok(category("after")).seq == 2u);
  BOOST_TEST(rows("category") == 2);
  BOOST_TEST_MESSAGE("a restarted write store goes on from the log");
  reopen();
  BOOST_TEST(store->last_seq() == 2u);
  BOOST_TEST(ok(category("restarted")).seq == 3u);
  BOOST_TEST(rows("category") == 3);
}

// -- SQLite's mechanics -------------------------------------------------------

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

BOOST_FIXTURE_TEST_CASE(wal_is_checkpointed_off_the_writers_commits, fixture) {
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
    ok(category(description));
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

BOOST_FIXTURE_TEST_CASE(kept_statements_stay_correct_and_hold_no_snapshot,
                        lending) {
  BOOST_TEST_MESSAGE("300 updates run the same kept statements past the "
                     "point where they are prepared anew");
  auto writer = author("Herbert");
  auto id = ok(book("I-0", writer, {{"B-0", 0, 0, "S-0", {}}})).id;
  for (int i = 1; i <= 300; ++i) {
    auto n = std::to_string(i);
    ok(book("I-" + n, writer, {{"B-" + n, 0, 0, "S-" + n, {}}},
            operation::update, id));
  }
  BOOST_TEST(text_of("SELECT isbn FROM book") == "I-300");
  BOOST_TEST(text_of("SELECT barcode FROM copy") == "B-300");
  BOOST_TEST(rows("copy") == 1);
  BOOST_TEST(code_of(store->apply(book("I-1", writer, {}, operation::update,
                                       4242))) == "not_found");
  if (skip_on(database_backend::postgresql, "SQLite's read snapshots"))
    return;
  BOOST_TEST_MESSAGE("no statement of the idle writer keeps a read snapshot: "
                     "a TRUNCATE checkpoint empties the whole WAL");
  auto wal = truncate_wal(*raw());
  BOOST_TEST(wal.busy == 0);
  BOOST_TEST(wal.frames_left == 0);
}

// -- idempotency keys ---------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(idempotency_key_replays_the_first_result, fixture) {
  auto first = ok(keyed(category("a"), "k", "hash-a"));
  BOOST_TEST(!first.replayed);
  BOOST_TEST(first.seq == 1u);
  auto again = ok(keyed(category("a"), "k", "hash-a"));
  BOOST_TEST(again.replayed);
  BOOST_TEST(again.id == first.id);
  BOOST_TEST(again.seq == first.seq);
  BOOST_TEST(again.changed.empty(), "a replay invalidates nothing");
  BOOST_TEST_MESSAGE("applied once, and the replay used no seq");
  BOOST_TEST(store->last_seq() == 1u);
  BOOST_TEST(rows("category") == 1);
  BOOST_TEST(rows("commit_log") == 1);
  BOOST_TEST(rows("idempotency_key") == 1);
  BOOST_TEST(text_of("SELECT request_hash FROM idempotency_key"
                     " WHERE key = 'k'") == "hash-a");
  BOOST_TEST(scalar("SELECT id FROM idempotency_key WHERE key = 'k'") ==
             first.id);
  BOOST_TEST(scalar("SELECT seq FROM idempotency_key WHERE key = 'k'") == 1);

  BOOST_TEST_MESSAGE("the key for another request is refused");
  auto reused = store->apply(keyed(category("b"), "k", "hash-b"));
  BOOST_TEST(code_of(reused) == "idempotency_key_reused");
  BOOST_TEST(contains(message_of(reused), "already used for a different"),
             message_of(reused));
  BOOST_TEST(rows("category") == 1);
  BOOST_TEST(ok(category("c")).seq == 2u);
}

BOOST_FIXTURE_TEST_CASE(same_key_twice_in_one_batch, fixture) {
  std::vector<command> batch{
      keyed(category("a"), "k", "hash-a"),
      keyed(category("a"), "k", "hash-a"),
      keyed(category("b"), "k", "hash-b"),
      category("c"),
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

BOOST_FIXTURE_TEST_CASE(failed_commands_store_no_key, fixture) {
  auto unknown = store->apply(keyed(update_category(777, "x"), "k", "h"));
  BOOST_TEST(code_of(unknown) == "not_found");
  BOOST_TEST(rows("idempotency_key") == 0);
  auto id = ok(category("a")).id;
  auto updated = ok(keyed(update_category(id, "b"), "k", "h"));
  BOOST_TEST(!updated.replayed);
  BOOST_TEST(updated.seq == 2u);

  BOOST_TEST_MESSAGE("the key commits or rolls back with its write");
  inject_commit_log_failure(3);
  auto failed = store->apply(keyed(category("c"), "k2", "h2"));
  BOOST_TEST(code_of(failed) == "database_unavailable");
  BOOST_TEST(rows("idempotency_key") == 1);
  remove_injected_failure();
  auto retried = ok(keyed(category("c"), "k2", "h2"));
  BOOST_TEST(!retried.replayed);
  BOOST_TEST(retried.seq == 3u);
  BOOST_TEST(rows("idempotency_key") == 2);
}

BOOST_FIXTURE_TEST_CASE(a_refused_command_leaves_an_expired_key_alone,
                        fixture) {
  auto first = ok(keyed(category("a"), "k", "h"));
  const std::string expired = "2000-01-01T00:00:00.000Z";
  *raw() << "UPDATE idempotency_key SET created_at = '" + expired + "'";
  BOOST_TEST_MESSAGE("the expired key is free, but the command is refused in "
                     "a batch that commits");
  auto results = store->apply(std::vector<command>{
      category("b"), keyed(update_category(777, "x"), "k", "h2"),
      category("c")});
  BOOST_REQUIRE(results.size() == 3u);
  BOOST_TEST(code_of(results[1]) == "not_found");
  BOOST_TEST(store->last_seq() == 3u);
  BOOST_TEST(rows("idempotency_key") == 1);
  BOOST_TEST(text_of("SELECT created_at FROM idempotency_key") == expired);
  BOOST_TEST(scalar("SELECT seq FROM idempotency_key") == first.seq);

  BOOST_TEST_MESSAGE("a command that succeeds takes the key over");
  auto taken = ok(keyed(update_category(first.id, "b"), "k", "h2"));
  BOOST_TEST(!taken.replayed);
  BOOST_TEST(taken.seq == 4u);
  BOOST_TEST(rows("idempotency_key") == 1);
  BOOST_TEST(text_of("SELECT request_hash FROM idempotency_key") == "h2");
  BOOST_TEST(scalar("SELECT seq FROM idempotency_key") == 4);
  BOOST_TEST(text_of("SELECT created_at FROM idempotency_key") > expired);
  auto replay = ok(keyed(update_category(first.id, "b"), "k", "h2"));
  BOOST_TEST(replay.replayed);
  BOOST_TEST(replay.seq == 4u);
  BOOST_TEST(store->last_seq() == 4u);
}

BOOST_FIXTURE_TEST_CASE(idempotency_keys_survive_a_restart_and_expire,
                        fixture) {
  auto first = ok(keyed(category("a"), "k", "h"));
  reopen();
  auto replay = ok(keyed(category("a"), "k", "h"));
  BOOST_TEST(replay.replayed);
  BOOST_TEST(replay.seq == first.seq);

  BOOST_TEST_MESSAGE("a key older than the TTL is free again");
  *raw()
      << "UPDATE idempotency_key SET created_at = '2000-01-01T00:00:00.000Z'";
  auto anew = ok(keyed(category("a"), "k", "h"));
  BOOST_TEST(!anew.replayed);
  BOOST_TEST(anew.seq == 2u);
  BOOST_TEST(rows("category") == 2);
  BOOST_TEST(rows("idempotency_key") == 1);
  BOOST_TEST(scalar("SELECT seq FROM idempotency_key") == 2);

  BOOST_TEST_MESSAGE("pruning deletes expired keys only");
  ok(keyed(category("b"), "fresh", "h"));
  *raw() << "UPDATE idempotency_key SET created_at = '2000-01-01T00:00:00.000Z'"
            " WHERE key = 'k'";
  auto pruned = store->prune_idempotency_keys();
  BOOST_REQUIRE_MESSAGE(pruned, message_of(pruned));
  BOOST_TEST(*pruned == 1u);
  BOOST_TEST(rows("idempotency_key") == 1);
  BOOST_TEST(text_of("SELECT key FROM idempotency_key") == "fresh");
  BOOST_TEST(*store->prune_idempotency_keys() == 0u);

  BOOST_TEST_MESSAGE("a short TTL expires keys by the clock");
  reopen(std::chrono::seconds{1});
  BOOST_TEST(store->idempotency_ttl().count() == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds{1500});
  BOOST_TEST(*store->prune_idempotency_keys() == 1u);
  BOOST_TEST(rows("idempotency_key") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_version_1_database_is_migrated_to_version_2,
                        fixture) {
  auto id = ok(category("kept")).id;
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
  BOOST_TEST(text_of("SELECT description FROM category WHERE id = " +
                     std::to_string(id)) == "kept");
  BOOST_TEST(store->last_seq() == 1u);
  auto keyed_write = ok(keyed(category("new"), "k", "h"));
  BOOST_TEST(keyed_write.seq == 2u);
  BOOST_TEST(ok(keyed(category("new"), "k", "h")).replayed);
}

BOOST_AUTO_TEST_SUITE_END()

// -- a single child declared after an owned array -----------------------------

namespace {

// A region owns an array of events, then a single visit: the checks read
// the existing rows of both, whatever order the resource declares them in.
const char* regions_yaml = R"(
name: regions
tables:
  region: {columns: {name: text}}
  event: {columns: {region_id: {references: region}, pos: integer}}
  visit: {columns: {region_id: {references: region, unique: true}, note: text}}
resources:
  regions:
    table: region
    owns:
      events: {table: event, by: region_id, many: true}
      visit: {table: visit, by: region_id}
)";

struct regions : store_fixture {
  regions() : store_fixture(parsed(regions_yaml, "regions.yaml")) {
    // nop
  }

  command region(operation op, row_id id, const std::string& note,
                 int events) const {
    std::vector<row_spec> rows{{"", -1, {{"name", text("north")}}}};
    for (int i = 0; i < events; ++i)
      rows.push_back({"events", 0, {{"pos", integer(i)}}});
    rows.push_back({"visit", 0, {{"note", text(note)}}});
    return make(op, "regions", id, rows);
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(a_single_child_after_an_array_keeps_its_id, regions) {
  auto created = ok(region(operation::create, 0, "a", 2));
  auto visit = scalar("SELECT id FROM visit");
  BOOST_TEST_MESSAGE("PUT replaces the events and updates the visit in place");
  ok(region(operation::update, created.id, "b", 1));
  BOOST_TEST(scalar("SELECT id FROM visit") == visit);
  BOOST_TEST(text_of("SELECT note FROM visit") == "b");
  BOOST_TEST(rows("event") == 1);
  BOOST_TEST_MESSAGE("DELETE removes the aggregate at every depth");
  ok(remove("regions", created.id));
  BOOST_TEST(rows("region") == 0);
  BOOST_TEST(rows("event") == 0);
  BOOST_TEST(rows("visit") == 0);
}
