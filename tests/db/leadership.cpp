// The locks that decide who writes a database (db/leadership.hpp), and the
// fencing of the leader's write store: once the leader's session is gone,
// nothing more commits through that store, however the session ended. The
// cluster suite `failover` covers the same with whole processes; this one
// shows each rule on its own, against the test PostgreSQL server.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <soci/soci.h>

#include "common/error.hpp"
#include "config/domain_file.hpp"
#include "db/leadership.hpp"
#include "db/write_store.hpp"
#include "fixtures/temp_db.hpp"

using namespace cqrs;
using namespace cqrs::test;

namespace {

/// A domain of one table, written by `notes`.
std::shared_ptr<const domain> notes_domain() {
  domain_error err;
  auto d = parse_domain(R"(
name: notes
tables:
  note:
    columns:
      body: text
resources:
  notes:
    table: note
views:
  notes:
    from: note
    fields:
      id: note.id
      body: note.body
)",
                        "notes.yaml", err);
  BOOST_REQUIRE_MESSAGE(d, to_string(err));
  return std::make_shared<const domain>(std::move(*d));
}

/// `POST /notes` with `body`.
command create_note(const domain& d, const std::string& body) {
  command cmd;
  cmd.op = operation::create;
  cmd.resource = static_cast<uint16_t>(*d.resource_index("notes"));
  row_write row;
  row.values.resize(d.tables[0].columns.size());
  row.values[*d.tables[0].column_index("body")] = field_value::of_text(body);
  cmd.rows.push_back(std::move(row));
  return cmd;
}

long long count_of(soci::session& sql, const std::string& query) {
  long long n = 0;
  sql << query, soci::into(n);
  return n;
}

/// The backend pid of `sql`.
long long backend_pid(soci::session& sql) {
  return count_of(sql, "SELECT pg_backend_pid()");
}

/// Ends the server session `pid`, as an idle timeout or an operator would.
void terminate(const temp_db& db, long long pid) {
  auto admin = db.connect();
  int ended = 0;
  *admin << "SELECT CASE WHEN pg_terminate_backend(" + std::to_string(pid) +
                ") THEN 1 ELSE 0 END",
      soci::into(ended);
  BOOST_TEST_REQUIRE(ended == 1);
  // pg_terminate_backend only signals; the session ends soon after.
  for (int i = 0; i < 200; ++i) {
    if (count_of(*admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = " +
                             std::to_string(pid)) == 0)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  BOOST_FAIL("session " << pid << " did not end");
}

/// A leader's write store on `db`, holding the lock.
std::unique_ptr<write_store> open_leader(const temp_db& db,
                                         std::shared_ptr<const domain> d,
                                         long long& pid, bool fenced = true) {
  auto session = open_leader_session(db.settings, std::chrono::seconds{5});
  BOOST_REQUIRE_MESSAGE(session,
                        (session ? "" : error_message(session.error())));
  auto taken = try_leader_lock(**session);
  BOOST_REQUIRE(static_cast<bool>(taken));
  BOOST_REQUIRE(*taken);
  pid = backend_pid(**session);
  auto store =
      write_store::open_leader(db.settings, std::move(d), std::chrono::hours{1},
                               std::move(*session), fenced);
  BOOST_REQUIRE_MESSAGE(store, (store ? "" : error_message(store.error())));
  return std::move(*store);
}

} // namespace

BOOST_AUTO_TEST_SUITE(leadership)

BOOST_AUTO_TEST_CASE(one_session_holds_the_leader_lock_until_it_ends) {
  temp_db db{database_backend::postgresql};
  auto a = open_leader_session(db.settings, std::chrono::seconds{5});
  auto b = open_leader_session(db.settings, std::chrono::seconds{5});
  BOOST_TEST_REQUIRE(static_cast<bool>(a));
  BOOST_TEST_REQUIRE(static_cast<bool>(b));
  BOOST_TEST(!holds_leader_lock(**a));
  BOOST_TEST(*try_leader_lock(**a));
  BOOST_TEST(holds_leader_lock(**a));
  BOOST_TEST_MESSAGE("a second session does not get it, taking it again "
                     "changes nothing");
  BOOST_TEST(!*try_leader_lock(**b));
  BOOST_TEST(!holds_leader_lock(**b));
  BOOST_TEST(*try_leader_lock(**a));
  BOOST_TEST_MESSAGE("a commit does not release it, the end of the session "
                     "does");
  **a << "BEGIN";
  **a << "COMMIT";
  BOOST_TEST(!*try_leader_lock(**b));
  a->reset();
  BOOST_TEST(*try_leader_lock(**b));
  BOOST_TEST(holds_leader_lock(**b));
}

BOOST_AUTO_TEST_CASE(the_server_ends_an_idle_leader_session_within_the_lease) {
  temp_db db{database_backend::postgresql};
  auto a = open_leader_session(db.settings, std::chrono::milliseconds{1000});
  auto b = open_leader_session(db.settings, std::chrono::seconds{5});
  BOOST_TEST_REQUIRE(static_cast<bool>(a));
  BOOST_TEST_REQUIRE(static_cast<bool>(b));
  BOOST_TEST_REQUIRE(*try_leader_lock(**a));
  BOOST_TEST_MESSAGE("pings keep it alive past the lease");
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{250});
    BOOST_TEST_REQUIRE(leader_ping(**a));
  }
  BOOST_TEST(!*try_leader_lock(**b));
  BOOST_TEST_MESSAGE("a frozen holder (no statement for over a lease) "
                     "loses its session, and so the lock");
  bool taken = false;
  for (int i = 0; i < 100 && !taken; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    taken = *try_leader_lock(**b);
  }
  BOOST_TEST(taken);
  BOOST_TEST(!holds_leader_lock(**a));
  BOOST_TEST(!leader_ping(**a));
}

BOOST_AUTO_TEST_CASE(a_deposed_leader_commits_nothing_more) {
  temp_db db{database_backend::postgresql};
  auto d = notes_domain();
  long long pid = 0;
  auto store = open_leader(db, d, pid);
  auto first = store->apply(create_note(*d, "before"));
  BOOST_TEST_REQUIRE(static_cast<bool>(first));
  BOOST_TEST(first->seq == 1u);
  BOOST_TEST(store->keep_alive());
  BOOST_TEST_MESSAGE("the server ends the leader's session; another node "
                     "takes the lock and commits seq 2");
  terminate(db, pid);
  long long successor_pid = 0;
  auto successor = open_leader(db, d, successor_pid);
  BOOST_TEST(successor->last_seq() == 1u);
  auto theirs = successor->apply(create_note(*d, "successor"));
  BOOST_TEST_REQUIRE(static_cast<bool>(theirs));
  BOOST_TEST(theirs->seq == 2u);
  BOOST_TEST_MESSAGE("the old store's next write fails, and every later one "
                     "is refused as not_leader without touching the "
                     "database");
  auto failed = store->apply(create_note(*d, "deposed 1"));
  BOOST_TEST(!static_cast<bool>(failed));
  BOOST_TEST(store->deposed());
  BOOST_TEST(!store->keep_alive());
  auto refused = store->apply(create_note(*d, "deposed 2"));
  BOOST_TEST_REQUIRE(!static_cast<bool>(refused));
  BOOST_TEST(error_code(refused.error()) == ec::not_leader);
  auto check = db.connect();
  BOOST_TEST(count_of(*check, "SELECT count(*) FROM commit_log") == 2);
  BOOST_TEST(count_of(*check, "SELECT count(*) FROM note WHERE body LIKE "
                              "'deposed%'") == 0);
  BOOST_TEST(successor->keep_alive());
}

BOOST_AUTO_TEST_CASE(an_idle_leader_that_lost_its_session_steps_down) {
  temp_db db{database_backend::postgresql};
  auto d = notes_domain();
  long long pid = 0;
  auto store = open_leader(db, d, pid);
  terminate(db, pid);
  BOOST_TEST(!store->keep_alive());
  BOOST_TEST(store->deposed());
}

BOOST_AUTO_TEST_CASE(without_fencing_a_deposed_leader_writes_on) {
  // The fault CQRSD_FAULT_NO_FENCING injects: what fencing prevents.
  temp_db db{database_backend::postgresql};
  auto d = notes_domain();
  long long pid = 0;
  auto store = open_leader(db, d, pid, false);
  terminate(db, pid);
  long long successor_pid = 0;
  auto successor = open_leader(db, d, successor_pid);
  BOOST_TEST(store->keep_alive()); // reconnects, without the lock
  auto late = store->apply(create_note(*d, "deposed"));
  BOOST_TEST_REQUIRE(static_cast<bool>(late));
  BOOST_TEST(!store->deposed());
  auto check = db.connect();
  BOOST_TEST(count_of(*check, "SELECT count(*) FROM note WHERE body = "
                              "'deposed'") == 1);
}

BOOST_AUTO_TEST_CASE(one_process_writes_an_sqlite_file) {
  temp_db db{database_backend::sqlite};
  auto first = sqlite_writer_lock::acquire(db.settings);
  BOOST_TEST_REQUIRE(static_cast<bool>(first));
  auto second = sqlite_writer_lock::acquire(db.settings);
  BOOST_TEST_REQUIRE(!static_cast<bool>(second));
  auto message = error_message(second.error());
  BOOST_TEST(message.find("already written by another cqrsd node") !=
             std::string::npos);
  BOOST_TEST(message.find(db.path) != std::string::npos);
  BOOST_TEST(message.find("PostgreSQL") != std::string::npos);
  first->reset();
  BOOST_TEST(static_cast<bool>(sqlite_writer_lock::acquire(db.settings)));
}

BOOST_AUTO_TEST_SUITE_END()
