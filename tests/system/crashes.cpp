// Crashes against real cqrsd processes: kill -9 and SIGTERM under a write
// load, and query or command actors that crash (the fault switches of
// cqrsd-testing) under their supervisors. kill -9 and SIGTERM run on the
// backend named by CQRSD_TEST_BACKEND; the fault switches on SQLite.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "fixtures/api_model.hpp"
#include "fixtures/cqrsd_process.hpp"
#include "fixtures/temp_db.hpp"

using namespace cqrs::test;
using json = nlohmann::json;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

using clock_type = std::chrono::steady_clock;

/// A 503 as the gateway answers it: JSON error body and Retry-After.
bool is_clean_503(const http_answer& a) {
  if (a.status != 503 || !a.has_header("Retry-After"))
    return false;
  auto body = a.json_body();
  return body.is_object() && body.contains("error") &&
         body["error"].is_object() && body["error"].contains("message") &&
         body["error"]["message"].is_string() &&
         !body["error"]["message"].get<std::string>().empty();
}

/// Opens a session on the database of `proc`, for checks in SQL.
std::unique_ptr<soci::session> connect(const test_database& database,
                                       const cqrsd_process& proc) {
  if (database.postgresql)
    return database.postgresql->connect();
  auto sql = std::make_unique<soci::session>(
      soci::sqlite3, "db=\"" + proc.sqlite_path() + "\" timeout=5");
  *sql << "PRAGMA busy_timeout=5000";
  return sql;
}

long long count(soci::session& sql, const std::string& text) {
  long long n = 0;
  sql << text, soci::into(n);
  return n;
}

/// Every integrity rule of the write model that a crash could break:
/// each top-level object has exactly its child, no child is orphaned, and
/// the commit log has no gap. Returns "" or what is broken.
std::string integrity(soci::session& sql) {
  std::ostringstream out;
  if (auto n = count(sql, "SELECT count(*) FROM top_level_object t WHERE NOT "
                          "EXISTS (SELECT 1 FROM child_object c WHERE "
                          "c.top_level_object_id = t.id)"))
    out << n << " objects without their child_object; ";
  if (auto n = count(sql, "SELECT count(*) FROM child_object c WHERE NOT "
                          "EXISTS (SELECT 1 FROM top_level_object t WHERE "
                          "t.id = c.top_level_object_id)"))
    out << n << " orphan child_object rows; ";
  auto rows = count(sql, "SELECT count(*) FROM commit_log");
  auto max = count(sql, "SELECT coalesce(max(seq), 0) FROM commit_log");
  if (rows != max)
    out << "commit_log has " << rows << " rows up to seq " << max << "; ";
  return out.str();
}

/// The first of `lines`, for failure messages.
std::string first(const std::vector<std::string>& lines) {
  return lines.empty() ? "" : lines.front();
}

/// The `changed` column of commit_log row `seq`, or nullopt without one.
std::optional<std::string> commit_changes(soci::session& sql, int64_t seq) {
  std::string changed;
  long long key = seq;
  soci::indicator ind = soci::i_null;
  sql << "SELECT changed FROM commit_log WHERE seq = :seq", soci::use(key),
      soci::into(changed, ind);
  if (!sql.got_data() || ind != soci::i_ok)
    return std::nullopt;
  return changed;
}

// -- a write load on object graphs --------------------------------------------

/// What an object may look like in the database after the load: its last
/// acknowledged state, plus the attempted one when a later write to it got
/// no acknowledgement (such an object is written no more). `null` stands
/// for "absent".
struct object_fate {
  std::vector<json> allowed;
  /// The seq of the last acknowledged write to it.
  int64_t seq = 0;
  bool uncertain = false;
};

/// Clients that create objects with their children, update and delete
/// them, and record every acknowledgement.
class object_load {
public:
  object_load(cqrsd_process& proc, int64_t related, int64_t category)
      : proc_(proc), related_(related), category_(category) {
    // nop
  }

  ~object_load() { join(); }

  /// Starts `threads` clients; each runs until `stop` or its own bound.
  void start(int threads) {
    for (int t = 0; t < threads; ++t)
      workers_.emplace_back([this, t] { run(t); });
  }

  /// Asks the clients to finish after their current request.
  void stop() { done_ = true; }

  void join() {
    done_ = true;
    for (auto& w : workers_)
      if (w.joinable())
        w.join();
  }

  /// Acknowledged writes so far.
  long acknowledged() const { return acknowledged_; }

  /// Sets the time after which connection errors are expected.
  void expect_shutdown() {
    std::lock_guard<std::mutex> guard{mtx_};
    shutdown_began_ = clock_type::now();
  }

  // Results, valid after join().
  std::map<int64_t, object_fate> objects;
  /// Seqs of every acknowledged write.
  std::vector<int64_t> seqs;
  /// Answers that were neither 2xx nor a clean 503, with the request.
  std::vector<std::string> bad_answers;
  /// Connection errors before `expect_shutdown`.
  std::vector<std::string> early_errors;
  long clean_503 = 0;
  long no_answer = 0;

private:
  json view(const std::string& name, const std::string& code) const {
    return json{{"name", name}, {"access_code", code}};
  }

  // Records an answer; returns the acknowledgement {id, seq} if any.
  std::optional<std::pair<int64_t, int64_t>>
  record(const std::string& what, const http_answer& a, int ok_status) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!a.answered()) {
      ++no_answer;
      if (!shutdown_began_ || clock_type::now() < *shutdown_began_)
        early_errors.push_back(what + ": " + a.describe());
      return std::nullopt;
    }
    if (a.status == ok_status) {
      auto ack = a.json_body();
      if (ack.is_object() && ack.contains("id") && ack.contains("seq") &&
          a.x_seq() == ack["seq"].get<int64_t>()) {
        ++acknowledged_;
        seqs.push_back(ack["seq"].get<int64_t>());
        return std::make_pair(ack["id"].get<int64_t>(),
                              ack["seq"].get<int64_t>());
      }
      bad_answers.push_back(what + ": bad acknowledgement " + a.describe());
      return std::nullopt;
    }
    if (is_clean_503(a))
      ++clean_503;
    else
      bad_answers.push_back(what + ": " + a.describe());
    return std::nullopt;
  }

  void run(int t) {
    auto client = proc_.make_client();
    // This client's objects that it may still write.
    std::vector<int64_t> mine;
    for (int n = 0; !done_ && n < 5000; ++n) {
      auto tag = "t" + std::to_string(t) + "-" + std::to_string(n);
      http_answer a;
      if (n % 4 == 3 && !mine.empty()) {
        // Update the oldest object, or delete it every other time.
        auto id = mine.front();
        mine.erase(mine.begin());
        auto url = "/objects/" + std::to_string(id);
        bool remove = n % 8 == 7;
        a = remove
                ? send_request(*client, "DELETE", url)
                : send_request(
                      *client, "PUT", url,
                      object_body(tag, "U-" + tag, related_, category_).dump());
        auto ack = record((remove ? "DELETE " : "PUT ") + url, a, 200);
        json next = remove ? json(nullptr) : view(tag, "U-" + tag);
        std::lock_guard<std::mutex> guard{mtx_};
        auto& fate = objects[id];
        if (ack) {
          fate.allowed = {next};
          fate.seq = ack->second;
          if (!remove)
            mine.push_back(id);
        } else {
          // Without an acknowledgement either state may be stored; the
          // object is written no more.
          fate.allowed.push_back(next);
          fate.uncertain = true;
        }
      } else {
        a = send_request(
            *client, "POST", "/objects",
            object_body(tag, "C-" + tag, related_, category_).dump());
        if (auto ack = record("POST /objects " + tag, a, 201)) {
          std::lock_guard<std::mutex> guard{mtx_};
          auto& fate = objects[ack->first];
          fate.allowed = {view(tag, "C-" + tag)};
          fate.seq = ack->second;
          mine.push_back(ack->first);
        }
      }
      // The process is going away: stop at the first request it refused.
      if (!a.answered() && stopping())
        break;
      if (!a.answered())
        std::this_thread::sleep_for(1ms);
    }
  }

  bool stopping() {
    std::lock_guard<std::mutex> guard{mtx_};
    return shutdown_began_.has_value();
  }

  cqrsd_process& proc_;
  int64_t related_;
  int64_t category_;
  std::vector<std::thread> workers_;
  std::atomic<bool> done_{false};
  std::atomic<long> acknowledged_{0};
  std::mutex mtx_;
  std::optional<clock_type::time_point> shutdown_began_;
};

/// The name and access code of object `id` in the database, or null.
json stored_object(soci::session& sql, int64_t id) {
  std::string name;
  std::string code;
  long long key = id;
  soci::indicator ind = soci::i_null;
  sql << "SELECT t.name, c.access_code FROM top_level_object t JOIN "
         "child_object c ON c.top_level_object_id = t.id WHERE t.id = :id",
      soci::use(key), soci::into(name), soci::into(code, ind);
  if (!sql.got_data())
    return nullptr;
  return json{{"name", name}, {"access_code", code}};
}

/// Checks the database against the load: every acknowledged write is there
/// in its last acknowledged state, its seq is in commit_log naming the
/// object, and nothing is half applied.
void check_durable(soci::session& sql, const object_load& load) {
  BOOST_TEST_MESSAGE("checking " << load.objects.size() << " objects and "
                                 << load.seqs.size()
                                 << " acknowledged seqs in the database");
  auto broken = integrity(sql);
  BOOST_TEST(broken.empty(), broken);
  std::set<int64_t> unique(load.seqs.begin(), load.seqs.end());
  BOOST_TEST(unique.size() == load.seqs.size(), "a seq was acknowledged twice");
  auto max = count(sql, "SELECT coalesce(max(seq), 0) FROM commit_log");
  long missing = 0;
  long wrong = 0;
  for (const auto& [id, fate] : load.objects) {
    auto stored = stored_object(sql, id);
    bool allowed = std::find(fate.allowed.begin(), fate.allowed.end(),
                             stored) != fate.allowed.end();
    if (!allowed) {
      ++(stored.is_null() ? missing : wrong);
      BOOST_TEST(allowed, "object " << id << ": stored " << stored.dump()
                                    << ", acknowledged "
                                    << json(fate.allowed).dump());
    }
    if (fate.seq != 0) {
      BOOST_TEST(fate.seq <= max);
      auto changed = commit_changes(sql, fate.seq);
      BOOST_TEST(changed.has_value(), "no commit_log row for seq " << fate.seq);
      if (changed)
        BOOST_TEST(changed->find("top_level_object:" + std::to_string(id)) !=
                       std::string::npos,
                   "commit_log seq " << fate.seq << " is '" << *changed
                                     << "', not object " << id);
    }
  }
  BOOST_TEST(missing == 0);
  BOOST_TEST(wrong == 0);
}

/// Checks that reads through the restarted process match the database.
void check_reads(cqrsd_process& proc, oracle& db, const object_load& load) {
  auto seq = db.max_seq();
  long checked = 0;
  for (const auto& [id, fate] : load.objects) {
    auto a = proc.get("/objects/" + std::to_string(id),
                      {{"X-Min-Seq", std::to_string(seq)}});
    auto expected = db.object_view(id);
    if (expected.is_null()) {
      BOOST_TEST(a.status == 404, "object " << id << ": " << a.describe());
    } else {
      BOOST_TEST(a.status == 200, "object " << id << ": " << a.describe());
      BOOST_TEST(a.json_body().dump() == expected.dump());
    }
    ++checked;
  }
  BOOST_TEST_MESSAGE(checked << " reads after the restart match the database");
}

/// A process on the test backend with the referenced rows of the load.
struct load_fixture {
  load_fixture() : proc(database.with({})), db(database.open_oracle(proc)) {
    BOOST_TEST_MESSAGE("backend " << backend_name(database.backend));
    category = create("/categories", category_body("Books"));
    related = create("/related-objects", related_body("Cover", "image/png"));
  }

  int64_t create(const std::string& collection, const json& body) {
    auto a = proc.post(collection, body);
    BOOST_TEST_REQUIRE(a.status == 201, collection << ": " << a.describe());
    return a.json_body()["id"].get<int64_t>();
  }

  /// Waits until the load has `n` acknowledged writes (at most 60 s).
  void await_acknowledged(const object_load& load, long n) {
    auto deadline = clock_type::now() + 60s;
    while (load.acknowledged() < n && clock_type::now() < deadline)
      std::this_thread::sleep_for(5ms);
    BOOST_TEST_REQUIRE(load.acknowledged() >= n,
                       "only " << load.acknowledged() << " writes in 60 s");
  }

  test_database database;
  cqrsd_process proc;
  oracle db;
  int64_t category = 0;
  int64_t related = 0;
};

} // namespace

BOOST_AUTO_TEST_SUITE(crashes)

// -- kill -9 and SIGTERM
// --------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(kill_9_under_write_load_loses_no_acknowledged_write,
                        load_fixture) {
  object_load load{proc, related, category};
  BOOST_TEST_MESSAGE("4 clients create, update and delete objects");
  load.start(4);
  await_acknowledged(load, 300);
  load.expect_shutdown();
  BOOST_TEST_MESSAGE("kill -9 after " << load.acknowledged()
                                      << " acknowledged writes");
  BOOST_TEST(proc.kill() == -SIGKILL);
  load.join();
  BOOST_TEST(load.bad_answers.empty(), first(load.bad_answers));
  BOOST_TEST(load.early_errors.empty(), first(load.early_errors));
  BOOST_TEST_MESSAGE(load.acknowledged() << " acknowledged, " << load.no_answer
                                         << " without an answer at the kill");
  {
    auto sql = connect(database, proc);
    check_durable(*sql, load);
  }
  BOOST_TEST_MESSAGE("restart on the same database");
  auto before = db.max_seq();
  proc.start();
  check_reads(proc, db, load);
  BOOST_TEST_MESSAGE("the seq continues after the last commit");
  auto a = proc.post("/categories", category_body("after the crash"));
  BOOST_TEST_REQUIRE(a.status == 201, a.describe());
  BOOST_TEST(a.json_body()["seq"].get<int64_t>() == before + 1);
  auto sql = connect(database, proc);
  auto broken = integrity(*sql);
  BOOST_TEST(broken.empty(), broken);
}

BOOST_FIXTURE_TEST_CASE(sigterm_under_write_load_answers_and_exits_0,
                        load_fixture) {
  object_load load{proc, related, category};
  BOOST_TEST_MESSAGE("4 clients create, update and delete objects");
  load.start(4);
  await_acknowledged(load, 300);
  load.expect_shutdown();
  BOOST_TEST_MESSAGE("SIGTERM after " << load.acknowledged()
                                      << " acknowledged writes");
  auto exit_code = proc.stop(SIGTERM);
  load.join();
  BOOST_TEST(exit_code == 0, proc.log());
  BOOST_TEST(load.bad_answers.empty(), first(load.bad_answers));
  BOOST_TEST(load.early_errors.empty(), first(load.early_errors));
  BOOST_TEST_MESSAGE(load.acknowledged()
                     << " acknowledged, " << load.clean_503 << " clean 503, "
                     << load.no_answer << " refused after the stop");
  {
    auto sql = connect(database, proc);
    check_durable(*sql, load);
  }
  proc.start();
  check_reads(proc, db, load);
}

// -- fault switches -----------------------------------------------------------
//
// The fault switches do not depend on the backend: these cases run on SQLite
// only (`on_sqlite`), and the PostgreSQL run skips them.

namespace {

/// A testing binary with the fault switch `variable` set to `every`, and a
/// restart budget of `max_restarts` for the actors of `section` ("query"
/// or "command"); the other section's budget is ample, so that a test sees
/// which setting the supervisor obeys.
cqrsd_process::options faulty(const std::string& variable, int every,
                              const std::string& section, int max_restarts) {
  cqrsd_process::options opts;
  opts.binary = testing_binary();
  opts.name = "faults";
  opts.env = {{variable, std::to_string(every)}};
  auto other = section == "query" ? "command" : "query";
  opts.settings = {{"query.actors", "2"},
                   {section + ".max_restarts", std::to_string(max_restarts)},
                   {section + ".restart_window_ms", "600000"},
                   {std::string{other} + ".max_restarts", "100000"},
                   {std::string{other} + ".restart_window_ms", "600000"}};
  return opts;
}

/// Waits (at most 20 s) for `proc` to exit by itself, sending `poke` while
/// it runs; every answer must be a clean 503 or none.
int await_give_up(cqrsd_process& proc, const std::string& method,
                  const std::string& url, const json& body) {
  auto client = proc.make_client();
  auto deadline = clock_type::now() + 20s;
  while (clock_type::now() < deadline) {
    if (auto code = proc.wait_exit(0ms))
      return *code;
    auto a =
        send_request(*client, method, url, body.is_null() ? "" : body.dump());
    BOOST_TEST((!a.answered() || is_clean_503(a)), a.describe());
    std::this_thread::sleep_for(20ms);
  }
  return proc.wait_exit(1s).value_or(-1000);
}

} // namespace

BOOST_AUTO_TEST_CASE(crashing_query_actors_are_restarted_and_reads_go_on,
                     *utf::precondition(on_sqlite)) {
  cqrsd_process proc{
      faulty("CQRSD_FAULT_CRASH_QUERY_ACTOR_EVERY", 7, "query", 100000)};
  oracle db{proc.sqlite_path()};
  auto cat = proc.post("/categories", category_body("Books"));
  auto rel = proc.post("/related-objects", related_body("Cover", "image/png"));
  BOOST_TEST_REQUIRE(cat.status == 201);
  BOOST_TEST_REQUIRE(rel.status == 201);
  for (int i = 0; i < 10; ++i)
    BOOST_TEST_REQUIRE(
        proc.post("/objects", object_body("o" + std::to_string(i), "A", 1, 1))
            .status == 201);
  BOOST_TEST_MESSAGE("2 clients read while every 7th read crashes its actor");
  std::atomic<long> ok{0};
  std::atomic<long> unavailable{0};
  std::mutex mtx;
  std::vector<std::string> bad;
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t) {
    clients.emplace_back([&, t] {
      auto client = proc.make_client();
      for (int n = 0; n < 150; ++n) {
        auto id = 1 + (n + t) % 12; // objects 11 and 12 do not exist
        auto a = send_request(*client, "GET", "/objects/" + std::to_string(id));
        if (a.status == (id <= 10 ? 200 : 404))
          ++ok;
        else if (is_clean_503(a))
          ++unavailable;
        else {
          std::lock_guard<std::mutex> guard{mtx};
          bad.push_back("object " + std::to_string(id) + ": " + a.describe());
        }
      }
    });
  }
  for (auto& c : clients)
    c.join();
  BOOST_TEST_MESSAGE(ok << " answered, " << unavailable << " clean 503");
  BOOST_TEST(bad.empty(), first(bad));
  BOOST_TEST(ok > 0);
  BOOST_TEST_MESSAGE("the supervisor respawned the actors");
  auto restarts =
      metric(proc.get("/metrics").body, "cqrsd_query_actor_restarts_total");
  BOOST_TEST(restarts >= 300 / 7 / 2, "restarts: " << restarts);
  auto status = proc.get("/status").json_body();
  BOOST_TEST(status["query_actors"].size() == 2u, status.dump());
  BOOST_TEST(proc.log().find("respawning it") != std::string::npos);
  BOOST_TEST_MESSAGE("answers still match the database");
  for (int id = 1; id <= 10; ++id) {
    auto a = proc.get("/objects/" + std::to_string(id));
    if (a.status == 200)
      BOOST_TEST(a.json_body().dump() == db.object_view(id).dump());
    else
      BOOST_TEST(is_clean_503(a), a.describe());
  }
}

BOOST_AUTO_TEST_CASE(query_actors_past_the_restart_limit_stop_the_node,
                     *utf::precondition(on_sqlite)) {
  cqrsd_process proc{
      faulty("CQRSD_FAULT_CRASH_QUERY_ACTOR_EVERY", 1, "query", 2)};
  BOOST_TEST_MESSAGE("every read crashes its actor; the budget is 2");
  auto code = await_give_up(proc, "GET", "/categories/1", nullptr);
  BOOST_TEST(code == 1, proc.log());
  auto log = proc.log();
  BOOST_TEST(log.find("query actor died too often: past the restart limit of "
                      "2 restarts") != std::string::npos,
             log);
  BOOST_TEST(log.find("query.max_restarts, query.restart_window_ms") !=
             std::string::npos);
  BOOST_TEST(log.find("stopping the node") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(crashing_command_actor_fails_pending_writes_cleanly,
                     *utf::precondition(on_sqlite)) {
  cqrsd_process proc{
      faulty("CQRSD_FAULT_CRASH_COMMAND_ACTOR_EVERY", 5, "command", 100000)};
  auto cat = proc.post("/categories", category_body("Books"));
  auto rel = proc.post("/related-objects", related_body("Cover", "image/png"));
  BOOST_TEST_REQUIRE(cat.status == 201, cat.describe());
  BOOST_TEST_REQUIRE(rel.status == 201, rel.describe());
  BOOST_TEST_MESSAGE("3 clients create objects; every 5th command crashes "
                     "the command actor with its batch queued");
  std::mutex mtx;
  std::map<std::string, int64_t> acked; // name -> seq
  std::set<std::string> refused;        // clean 503
  std::vector<std::string> bad;
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      auto client = proc.make_client();
      for (int n = 0; n < 40; ++n) {
        auto name = "t" + std::to_string(t) + "-" + std::to_string(n);
        auto a = send_request(*client, "POST", "/objects",
                              object_body(name, "A-" + name, 1, 1).dump());
        std::lock_guard<std::mutex> guard{mtx};
        if (a.status == 201)
          acked[name] = a.json_body()["seq"].get<int64_t>();
        else if (is_clean_503(a))
          refused.insert(name);
        else
          bad.push_back(name + ": " + a.describe());
      }
    });
  }
  for (auto& c : clients)
    c.join();
  BOOST_TEST_MESSAGE(acked.size()
                     << " acknowledged, " << refused.size() << " clean 503");
  BOOST_TEST(bad.empty(), first(bad));
  BOOST_TEST(refused.size() > 0u);
  BOOST_TEST(acked.size() > 0u);
  auto restarts =
      metric(proc.get("/metrics").body, "cqrsd_command_actor_restarts_total");
  BOOST_TEST(restarts >= 1, "restarts: " << restarts);
  BOOST_TEST_MESSAGE("acknowledged writes are stored, refused ones are not");
  soci::session sql{soci::sqlite3,
                    "db=\"" + proc.sqlite_path() + "\" timeout=5"};
  auto broken = integrity(sql);
  BOOST_TEST(broken.empty(), broken);
  for (const auto& [name, seq] : acked) {
    long long n = 0;
    sql << "SELECT count(*) FROM top_level_object WHERE name = :name",
        soci::use(name), soci::into(n);
    BOOST_TEST(n == 1, name << " is stored " << n << " times");
    auto changed = commit_changes(sql, seq);
    BOOST_TEST(changed.has_value(), "no commit_log row for seq " << seq);
  }
  for (const auto& name : refused) {
    long long n = 0;
    sql << "SELECT count(*) FROM top_level_object WHERE name = :name",
        soci::use(name), soci::into(n);
    BOOST_TEST(n == 0, name << " got a 503 but is stored");
  }
  BOOST_TEST(count(sql, "SELECT count(*) FROM commit_log") ==
             static_cast<long long>(acked.size()) + 2);
}

BOOST_AUTO_TEST_CASE(command_actor_past_the_restart_limit_stops_the_node,
                     *utf::precondition(on_sqlite)) {
  cqrsd_process proc{
      faulty("CQRSD_FAULT_CRASH_COMMAND_ACTOR_EVERY", 1, "command", 2)};
  BOOST_TEST_MESSAGE("every command crashes the command actor; the budget "
                     "is 2");
  auto code =
      await_give_up(proc, "POST", "/categories", category_body("never"));
  BOOST_TEST(code == 1, proc.log());
  auto log = proc.log();
  BOOST_TEST(log.find("command actor died too often: past the restart "
                      "limit of 2 restarts") != std::string::npos,
             log);
  BOOST_TEST(log.find("command.max_restarts, command.restart_window_ms") !=
             std::string::npos);
  BOOST_TEST(log.find("stopping the node") != std::string::npos);
  soci::session sql{soci::sqlite3,
                    "db=\"" + proc.sqlite_path() + "\" timeout=5"};
  BOOST_TEST(count(sql, "SELECT count(*) FROM category") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
