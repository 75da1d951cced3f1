// Read replicas: a cqrsd node whose fills and commit_log reads go to a real
// PostgreSQL streaming replica (database.read_postgresql), lagged on purpose
// with pg_wal_replay_pause(). Checks the consistency protocol (README,
// "Consistency headers") under replica lag: a fill reads its view and its
// read_seq from one snapshot of the replica, X-Min-Seq reads wait for the
// replica or answer 504, and no read, cached or not, is older than the X-Seq
// it claims.
//
// Needs CQRSD_TEST_POSTGRESQL (the primary) and CQRSD_TEST_POSTGRESQL_REPLICA
// (a hot standby streaming from it); scripts/test.sh starts both. This suite
// is never skipped: without them it fails.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "fixtures/cqrsd_process.hpp"
#include "fixtures/temp_db.hpp"

// The PostgreSQL backend header includes <libpq-fe.h>, which lives outside
// the default include path; its factory entry point is all we need.
namespace soci {
extern "C" backend_factory const* factory_postgresql();
} // namespace soci

using namespace cqrs::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

constexpr int min_seq_timeout_ms = 1500;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// The libpq conninfo of the replica server, from
/// CQRSD_TEST_POSTGRESQL_REPLICA; throws when it is unset.
std::string replica_server_conninfo() {
  const char* value = std::getenv("CQRSD_TEST_POSTGRESQL_REPLICA");
  if (value == nullptr || *value == '\0')
    throw std::runtime_error(
        "the replica suite needs a PostgreSQL streaming replica: "
        "CQRSD_TEST_POSTGRESQL_REPLICA, the libpq conninfo of a hot standby "
        "of the CQRSD_TEST_POSTGRESQL server, is not set. Run it through "
        "scripts/test.sh, which starts both and exports them. This suite is "
        "never skipped.");
  return value;
}

std::unique_ptr<soci::session> connect_postgresql(const std::string& conninfo) {
  return std::make_unique<soci::session>(*soci::factory_postgresql(), conninfo);
}

/// The id and seq of an acknowledged write.
struct ack {
  int64_t id = 0;
  int64_t seq = 0;
};

/// A standalone cqrsd on a fresh database of the primary whose reads go to
/// the same database on the replica, plus oracle access to the primary and
/// administrative access to the replica.
struct replica_fixture {
  replica_fixture()
      : replica_server(replica_server_conninfo()),
        db(cqrs::database_backend::postgresql),
        replica_conninfo(with_dbname(replica_server, db.database)) {
    BOOST_TEST_MESSAGE("replica: primary database " << db.database);
    primary = std::make_unique<oracle>(db.connect(),
                                       cqrs::database_backend::postgresql);
    primary_admin = db.connect();
    replica_admin = connect_postgresql(replica_server);
    {
      int in_recovery = 0;
      *replica_admin << "SELECT pg_is_in_recovery()::int",
          soci::into(in_recovery);
      if (in_recovery != 1)
        throw std::runtime_error("CQRSD_TEST_POSTGRESQL_REPLICA (" +
                                 replica_server +
                                 ") is not a standby: pg_is_in_recovery() is "
                                 "false");
    }
    // In case an earlier test left replay paused.
    *replica_admin << "SELECT pg_wal_replay_resume()";
    wait_for_replica_database();
    auto& opts = proc_options;
    opts.name = "replica";
    // Without a session floor: these cases check what plain reads see
    // while the replica lags. `a_session_waits_for_the_replica` checks the
    // default, under which a connection's reads wait for its own writes.
    opts.settings = {
        {"database.backend", "postgresql"},
        {"database.postgresql", quote_yaml(db.settings.postgresql)},
        {"database.read_postgresql", quote_yaml(replica_conninfo)},
        {"database.read_connections", "2"},
        {"http.threads", "8"},
        {"query.min_seq_timeout_ms", std::to_string(min_seq_timeout_ms)},
        {"query.session_consistency", "none"},
    };
    proc = std::make_unique<cqrsd_process>(opts);
    // The schema the node created on the primary reaches the replica.
    wait_replica_caught_up();
  }

  ~replica_fixture() {
    // Never leave the shared replica paused for the suites after this one.
    try {
      *replica_admin << "SELECT pg_wal_replay_resume()";
    } catch (const std::exception& e) {
      BOOST_TEST_MESSAGE("replica: resuming replay failed: " << e.what());
    }
  }

  // -- the replica ------------------------------------------------------------

  /// Waits (at most 10 s) until the fresh database exists on the replica.
  void wait_for_replica_database() {
    auto deadline = clock_type::now() + 10s;
    std::string last;
    for (;;) {
      try {
        replica_db = connect_postgresql(replica_conninfo);
        return;
      } catch (const std::exception& e) {
        last = e.what();
      }
      if (clock_type::now() > deadline)
        throw std::runtime_error(
            "database " + db.database +
            " did not reach the replica within 10 s: " + last);
      std::this_thread::sleep_for(20ms);
    }
  }

  /// Waits (at most 10 s) until the replica has replayed everything the
  /// primary has written so far.
  void wait_replica_caught_up() {
    std::string lsn;
    *primary_admin << "SELECT pg_current_wal_lsn()::text", soci::into(lsn);
    auto deadline = clock_type::now() + 10s;
    for (;;) {
      int caught_up = 0;
      *replica_admin << "SELECT CASE WHEN pg_last_wal_replay_lsn() >= '" + lsn +
                            "'::pg_lsn THEN 1 ELSE 0 END",
          soci::into(caught_up);
      if (caught_up == 1)
        return;
      if (clock_type::now() > deadline)
        throw std::runtime_error("the replica did not replay up to " + lsn +
                                 " within 10 s");
      std::this_thread::sleep_for(10ms);
    }
  }

  /// Pauses WAL replay on the replica and waits (at most 5 s) until the
  /// pause took effect.
  void pause_replay() {
    *replica_admin << "SELECT pg_wal_replay_pause()";
    auto deadline = clock_type::now() + 5s;
    std::string state;
    for (;;) {
      *replica_admin << "SELECT pg_get_wal_replay_pause_state()",
          soci::into(state);
      if (state == "paused")
        break;
      if (clock_type::now() > deadline) {
        // "pause requested" still stops replay before the next record.
        BOOST_TEST_MESSAGE("replica: replay pause state is '" << state
                                                              << "' after 5 s");
        break;
      }
      std::this_thread::sleep_for(5ms);
    }
    BOOST_TEST_MESSAGE("replica: WAL replay paused at seq " << replica_seq());
  }

  void resume_replay() {
    *replica_admin << "SELECT pg_wal_replay_resume()";
    BOOST_TEST_MESSAGE("replica: WAL replay resumed");
  }

  /// max(commit_log.seq) as the replica shows it.
  int64_t replica_seq() {
    long long seq = 0;
    *replica_db << "SELECT COALESCE(MAX(seq), 0) FROM commit_log",
        soci::into(seq);
    return seq;
  }

  // -- the oracle (primary) ---------------------------------------------------

  /// Records the primary's state; call after every write.
  const oracle_state& remember() {
    auto s = primary->state();
    return snapshots[s.seq] = std::move(s);
  }

  /// The recorded state at `seq` (the newest one not after it).
  const oracle_state& state_at(int64_t seq) {
    auto i = snapshots.upper_bound(seq);
    if (i == snapshots.begin())
      throw std::logic_error("no oracle snapshot at or before seq " +
                             std::to_string(seq));
    return std::prev(i)->second;
  }

  // -- HTTP -------------------------------------------------------------------

  ack write(const std::string& method, const std::string& path,
            const json& body) {
    auto a = proc->request(method, path, body.dump());
    BOOST_REQUIRE_MESSAGE(a.status == 200 || a.status == 201,
                          method << ' ' << path << ": " << a.describe());
    auto j = a.json_body();
    ack result{j.at("id").get<int64_t>(), j.at("seq").get<int64_t>()};
    remember();
    return result;
  }

  /// Category, related object and object: returns the object's and the
  /// category's ids and the last seq.
  struct objects {
    int64_t object = 0;
    int64_t category = 0;
    int64_t seq = 0;
  };

  objects create_object(const std::string& name) {
    auto c = write("POST", "/categories", {{"description", name + " cat"}});
    auto r = write("POST", "/related-objects",
                   {{"content_description", name + " content"},
                    {"content_type", "text/plain"}});
    auto o = write("POST", "/objects",
                   {{"name", name},
                    {"child",
                     {{"access_code", name + "-code"},
                      {"related_object_id", r.id},
                      {"category_id", c.id}}}});
    return {o.id, c.id, o.seq};
  }

  http_answer get(const std::string& path, int64_t min_seq = -1) {
    httplib::Headers headers;
    if (min_seq >= 0)
      headers.emplace("X-Min-Seq", std::to_string(min_seq));
    return proc->get(path, headers);
  }

  /// Checks that `a` (a 200 for object `id`) carries X-Seq and exactly the
  /// view the primary had at that seq. Returns its X-Seq (-1 if none).
  int64_t check_object(const http_answer& a, int64_t id) {
    BOOST_TEST(a.status == 200, a.describe());
    auto seq = a.x_seq();
    BOOST_TEST(seq.has_value(), "no X-Seq: " << a.describe());
    if (a.status != 200 || !seq)
      return -1;
    const auto& at = state_at(*seq);
    auto expected = at.objects.count(id) ? at.objects.at(id) : json{};
    BOOST_TEST(a.json_body().dump() == expected.dump(),
               "object " << id << " at X-Seq " << *seq
                         << " differs from the primary at that seq");
    return *seq;
  }

  double cache_hits() {
    auto a = proc->get("/metrics");
    BOOST_REQUIRE_MESSAGE(a.status == 200, a.describe());
    return metric(a.body, "cqrsd_cache_hits_total");
  }

  double stale_fills_refused() {
    auto a = proc->get("/metrics");
    BOOST_REQUIRE_MESSAGE(a.status == 200, a.describe());
    return metric(a.body, "cqrsd_stale_fills_refused_total");
  }

  int64_t applied_seq() {
    auto a = proc->get("/status");
    BOOST_REQUIRE_MESSAGE(a.status == 200, a.describe());
    return a.json_body().at("applied_seq").get<int64_t>();
  }

  std::string replica_server;
  temp_db db;
  std::string replica_conninfo;
  std::unique_ptr<oracle> primary;
  std::unique_ptr<soci::session> primary_admin;
  std::unique_ptr<soci::session> replica_admin; // replica, maintenance db
  std::unique_ptr<soci::session> replica_db;    // replica, test database
  std::map<int64_t, oracle_state> snapshots;
  cqrsd_process::options proc_options;
  std::unique_ptr<cqrsd_process> proc;
};

} // namespace

BOOST_AUTO_TEST_SUITE(replica)

BOOST_FIXTURE_TEST_CASE(x_min_seq_reads_see_replicated_writes,
                        replica_fixture) {
  BOOST_TEST_MESSAGE("replica: writes, then X-Min-Seq reads of each");
  remember();
  auto o = create_object("alpha");
  auto a = get("/objects/" + std::to_string(o.object), o.seq);
  BOOST_TEST(check_object(a, o.object) >= o.seq);
  BOOST_TEST(a.json_body().at("name") == "alpha");

  for (int i = 1; i <= 5; ++i) {
    auto desc = "alpha cat v" + std::to_string(i);
    auto w = write("PUT", "/categories/" + std::to_string(o.category),
                   {{"description", desc}});
    auto r = get("/objects/" + std::to_string(o.object), w.seq);
    BOOST_TEST(check_object(r, o.object) >= w.seq);
    BOOST_TEST(r.json_body().value("category_description", "") == desc);
    auto c = get("/categories/" + std::to_string(o.category), w.seq);
    BOOST_TEST(c.status == 200, c.describe());
    BOOST_TEST(c.x_seq().value_or(-1) >= w.seq);
    BOOST_TEST(c.json_body().value("description", "") == desc);
  }
}

BOOST_FIXTURE_TEST_CASE(lagging_replica_waits_or_times_out, replica_fixture) {
  remember();
  auto o = create_object("beta");
  auto path = "/objects/" + std::to_string(o.object);
  BOOST_TEST(check_object(get(path, o.seq), o.object) >= o.seq);
  auto old_view = primary->object_view(o.object);

  BOOST_TEST_MESSAGE("replica: pause replay, then update the category");
  pause_replay();
  auto w = write("PUT", "/categories/" + std::to_string(o.category),
                 {{"description", "beta cat new"}});
  auto new_view = primary->object_view(o.object);
  BOOST_REQUIRE(new_view.dump() != old_view.dump());
  BOOST_TEST(replica_seq() < w.seq);

  BOOST_TEST_MESSAGE("replica: X-Min-Seq " << w.seq << " answers 504");
  {
    auto client = proc->make_client();
    client->set_read_timeout(10, 0);
    auto start = clock_type::now();
    auto a = send_request(*client, "GET", path, "", "",
                          {{"X-Min-Seq", std::to_string(w.seq)}});
    auto took = seconds_since(start);
    BOOST_TEST(a.status == 504, a.describe());
    BOOST_TEST(a.json_body()["error"].value("code", "") == "min_seq_timeout",
               a.body);
    BOOST_TEST(took >= min_seq_timeout_ms / 1000.0 * 0.8,
               "504 after " << took << " s");
    BOOST_TEST(took <= min_seq_timeout_ms / 1000.0 + 3.0,
               "504 after " << took << " s");
  }

  BOOST_TEST_MESSAGE("replica: plain reads answer the old data, X-Seq < "
                     << w.seq);
  for (int i = 0; i < 5; ++i) {
    auto a = get(path);
    auto seq = check_object(a, o.object);
    BOOST_TEST(seq < w.seq);
    BOOST_TEST(seq >= o.seq);
    BOOST_TEST(a.json_body().dump() == old_view.dump());
  }

  BOOST_TEST_MESSAGE("replica: an X-Min-Seq read waits across the resume");
  {
    auto client = proc->make_client();
    client->set_read_timeout(10, 0);
    auto waiting = std::async(std::launch::async, [&] {
      return send_request(*client, "GET", path, "", "",
                          {{"X-Min-Seq", std::to_string(w.seq)}});
    });
    std::this_thread::sleep_for(
        std::chrono::milliseconds{min_seq_timeout_ms / 3});
    resume_replay();
    auto a = waiting.get();
    BOOST_TEST(check_object(a, o.object) >= w.seq);
    BOOST_TEST(a.json_body().dump() == new_view.dump());
  }

  BOOST_TEST_MESSAGE("replica: X-Min-Seq reads after the resume");
  {
    auto a = get(path, w.seq);
    BOOST_TEST(check_object(a, o.object) >= w.seq);
    BOOST_TEST(a.json_body().dump() == new_view.dump());
  }

  BOOST_TEST_MESSAGE("replica: plain reads become fresh");
  auto deadline = clock_type::now() + 5s;
  bool fresh = false;
  while (!fresh && clock_type::now() < deadline) {
    auto a = get(path);
    auto seq = check_object(a, o.object);
    fresh = seq >= w.seq && a.json_body().dump() == new_view.dump();
    if (!fresh)
      std::this_thread::sleep_for(20ms);
  }
  BOOST_TEST(fresh, "plain reads still old 5 s after the resume");
}

BOOST_FIXTURE_TEST_CASE(cache_is_never_older_than_an_applied_invalidation,
                        replica_fixture) {
  remember();
  auto o = create_object("gamma");
  auto other = create_object("delta");
  auto path = "/objects/" + std::to_string(o.object);
  auto other_path = "/objects/" + std::to_string(other.object);
  auto category_path = "/categories/" + std::to_string(o.category);

  BOOST_TEST_MESSAGE("replica: cache the views");
  // The first read waits for the replica, so its fill is cacheable.
  check_object(get(path, other.seq), o.object);
  check_object(get(other_path, other.seq), other.object);
  BOOST_TEST(get(category_path, other.seq).status == 200);
  auto hits = cache_hits();
  check_object(get(path), o.object);
  check_object(get(other_path), other.object);
  BOOST_TEST(get(category_path).status == 200);
  BOOST_TEST(cache_hits() >= hits + 3, "the views were not cached");

  BOOST_TEST_MESSAGE("replica: pause replay, update the category");
  pause_replay();
  auto w = write("PUT", category_path, {{"description", "gamma cat new"}});
  auto old_view = state_at(w.seq - 1).objects.at(o.object);
  auto new_view = state_at(w.seq).objects.at(o.object);
  BOOST_REQUIRE(new_view.dump() != old_view.dump());

  auto deadline = clock_type::now() + 5s;
  int64_t applied = applied_seq();
  while (applied < w.seq && clock_type::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    applied = applied_seq();
  }
  BOOST_REQUIRE_MESSAGE(applied >= w.seq, "the node applied only seq "
                                              << applied << " of " << w.seq
                                              << " within 5 s");
  BOOST_TEST_MESSAGE("replica: node applied seq "
                     << applied << ", replica shows " << replica_seq());

  BOOST_TEST_MESSAGE("replica: reads while the replica lags");
  hits = cache_hits();
  auto refused = stale_fills_refused();
  int old_answers = 0;
  for (int i = 0; i < 20; ++i) {
    auto a = get(path);
    auto seq = check_object(a, o.object);
    if (seq >= w.seq)
      BOOST_TEST(a.json_body().dump() == new_view.dump(),
                 "X-Seq " << seq << " with old data");
    else
      ++old_answers;
    auto c = get(category_path);
    BOOST_TEST(c.status == 200, c.describe());
    if (auto cs = c.x_seq(); cs && *cs >= w.seq)
      BOOST_TEST(c.json_body().value("description", "") == "gamma cat new",
                 "category at X-Seq " << *cs << ": " << c.body);
    // The untouched view stays cached and is current at the applied seq.
    auto u = get(other_path);
    check_object(u, other.object);
    std::this_thread::sleep_for(10ms);
  }
  BOOST_TEST(old_answers == 20, "the replica is paused: reads cannot be new");
  // Only the untouched view is served from the cache: fills older than the
  // applied invalidation are answered but not cached.
  BOOST_TEST(cache_hits() == hits + 20,
             "hits rose by " << cache_hits() - hits << " instead of 20");
  BOOST_TEST(stale_fills_refused() >= refused + 40);

  BOOST_TEST_MESSAGE("replica: resume; the new data appears and is cached");
  resume_replay();
  deadline = clock_type::now() + 5s;
  bool fresh = false;
  while (!fresh && clock_type::now() < deadline) {
    auto a = get(path);
    fresh = check_object(a, o.object) >= w.seq &&
            a.json_body().dump() == new_view.dump();
    if (!fresh)
      std::this_thread::sleep_for(20ms);
  }
  BOOST_REQUIRE_MESSAGE(fresh, "plain reads still old 5 s after the resume");
  hits = cache_hits();
  for (int i = 0; i < 3; ++i) {
    auto a = get(path);
    BOOST_TEST(check_object(a, o.object) >= w.seq);
    BOOST_TEST(a.json_body().dump() == new_view.dump());
  }
  BOOST_TEST(cache_hits() >= hits + 2, "the new view is not cached again");
}

// Under query.session_consistency: connection (the default), the connection
// that wrote reads its write even from a lagging replica: its plain reads
// wait for the replica as an X-Min-Seq read does, and answer 504 past
// query.min_seq_timeout_ms. Another connection reads what the replica has.
BOOST_FIXTURE_TEST_CASE(a_session_waits_for_the_replica, replica_fixture) {
  auto opts = proc_options;
  opts.name = "replica-sessions";
  opts.settings["query.session_consistency"] = "connection";
  proc.reset(); // One writer per database.
  proc = std::make_unique<cqrsd_process>(opts);
  wait_replica_caught_up();
  remember();
  auto o = create_object("zeta");
  auto path = "/objects/" + std::to_string(o.object);
  BOOST_TEST_MESSAGE("replica: a plain read on the writing connection sees "
                     "the write");
  BOOST_TEST(check_object(get(path), o.object) >= o.seq);

  pause_replay();
  auto w = write("PUT", "/categories/" + std::to_string(o.category),
                 {{"description", "zeta cat new"}});
  BOOST_TEST_MESSAGE("replica: the writing connection's plain read waits for "
                     "seq "
                     << w.seq << ", then answers 504");
  auto a = get(path);
  BOOST_TEST(a.status == 504, a.describe());
  BOOST_TEST(a.json_body()["error"].value("code", "") == "min_seq_timeout",
             a.body);
  BOOST_TEST_MESSAGE("replica: another connection reads the old data");
  auto other = proc->make_client();
  auto b = send_request(*other, "GET", path);
  BOOST_TEST(check_object(b, o.object) < w.seq);

  resume_replay();
  BOOST_TEST_MESSAGE("replica: resumed; the writing connection reads its "
                     "write");
  auto c = get(path);
  BOOST_TEST(check_object(c, o.object) >= w.seq);
  BOOST_TEST(c.json_body().dump() ==
             state_at(w.seq).objects.at(o.object).dump());
}

BOOST_FIXTURE_TEST_CASE(cached_404_is_never_older_than_an_applied_insert,
                        replica_fixture) {
  remember();
  auto o = create_object("epsilon");
  const auto& before = state_at(o.seq);
  int64_t next_id = before.categories.rbegin()->first + 1;
  auto path = "/categories/" + std::to_string(next_id);

  BOOST_TEST_MESSAGE("replica: cache the 404 of category " << next_id);
  auto a = get(path, o.seq);
  BOOST_TEST(a.status == 404, a.describe());
  auto hits = cache_hits();
  a = get(path);
  BOOST_TEST(a.status == 404, a.describe());
  BOOST_TEST(cache_hits() >= hits + 1, "the 404 was not cached");

  BOOST_TEST_MESSAGE("replica: pause replay, insert category " << next_id);
  pause_replay();
  auto w = write("POST", "/categories", {{"description", "epsilon new"}});
  BOOST_REQUIRE_EQUAL(w.id, next_id);
  auto deadline = clock_type::now() + 5s;
  while (applied_seq() < w.seq && clock_type::now() < deadline)
    std::this_thread::sleep_for(10ms);
  BOOST_REQUIRE(applied_seq() >= w.seq);

  BOOST_TEST_MESSAGE("replica: reads while the replica lags");
  hits = cache_hits();
  for (int i = 0; i < 10; ++i) {
    a = get(path);
    auto seq = a.x_seq();
    BOOST_REQUIRE_MESSAGE(seq.has_value(), "no X-Seq: " << a.describe());
    const auto& at = state_at(*seq);
    BOOST_TEST(a.status == (at.categories.count(next_id) ? 200 : 404),
               "X-Seq " << *seq << ": " << a.describe());
    BOOST_TEST(*seq < w.seq);
  }
  BOOST_TEST(cache_hits() == hits, "a 404 older than the insert was cached");

  BOOST_TEST_MESSAGE("replica: resume; the category appears");
  resume_replay();
  a = get(path, w.seq);
  BOOST_TEST(a.status == 200, a.describe());
  BOOST_TEST(a.x_seq().value_or(-1) >= w.seq);
  BOOST_TEST(a.json_body().value("description", "") == "epsilon new");
}

BOOST_AUTO_TEST_SUITE_END()
