// Command-node failover (issue 16) against real processes on loopback: two
// command-capable nodes and a query node on one PostgreSQL database
// (CQRSD_TEST_POSTGRESQL, started by scripts/test.sh). The holder of the
// advisory lock leads; these cases kill, freeze and restart it while
// clients write with an Idempotency-Key, and then check the database
// directly: every acknowledged write exactly once, commit_log gapless, and
// reads through every live node equal to the database.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "fixtures/acknowledged_write.hpp"
#include "fixtures/api_model.hpp"
#include "fixtures/cluster.hpp"
#include "fixtures/cqrsd_process.hpp"
#include "fixtures/failover_cluster.hpp"
#include "fixtures/temp_db.hpp"

using namespace cqrs::test;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

/// The bound: after a kill -9 of the leader, writes succeed again
/// within 5 s. The only timing these cases assert.
constexpr long long takeover_bound_ms = 5000;

/// How long a node may take to start, link, lead or step down: generous for
/// a loaded 2-core machine; a deadline, not a measurement.
constexpr auto settle_timeout = 20s;

long long ms_between(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from)
      .count();
}

/// A metric of `node` that must exist.
double metric_on(cqrsd_process& node, const std::string& name) {
  auto value = metric_of(node, name);
  BOOST_TEST_REQUIRE(value.has_value(), node.name()
                                            << ": /metrics lacks " << name);
  return *value;
}

/// A metric of `node` once two reads 200 ms apart agree (at most 5 s): the
/// answer to a write may overtake the update of a counter.
double settled_metric_on(cqrsd_process& node, const std::string& name) {
  auto deadline = clock_type::now() + 5s;
  auto value = metric_on(node, name);
  for (;;) {
    std::this_thread::sleep_for(200ms);
    auto again = metric_on(node, name);
    if (again == value || clock_type::now() >= deadline)
      return again;
    value = again;
  }
}

/// Requires `node` to report `role` with leader `leader` within
/// `settle_timeout`.
void require_leadership(const cqrsd_process& node, const std::string& role,
                        const std::string& leader) {
  auto state = wait_leadership(node, role, leader, settle_timeout);
  BOOST_TEST_REQUIRE(state.is(role, leader),
                     node.name() << ": /status did not report leadership "
                                 << role << " with leader " << leader
                                 << "; last: " << state.raw);
}

/// Requires exactly one running command-capable node to lead within
/// `settle_timeout`, and that it is node `expected`.
void require_leader(failover_cluster& c, size_t expected) {
  std::string said;
  auto leader = c.wait_one_leader(settle_timeout, &said);
  BOOST_TEST_REQUIRE((leader == std::optional<size_t>{expected}),
                     "expected "
                         << failover_cluster::command_name(expected)
                         << " as the one leader; the nodes said:" << said);
}

/// The nodes of most cases: a and b command-capable, q a query node.
struct abq {
  cqrsd_process& a;
  cqrsd_process& b;
  cqrsd_process& q;
};

/// Starts a alone (so it leads), then b (a standby) and q, and waits until
/// each reports that and q is linked with its caches in use.
abq start_abq(failover_cluster& c,
              failover_cluster::node_options a_options = {}) {
  BOOST_TEST_MESSAGE("start a (alone, so it leads), then b and the query "
                     "node q, on PostgreSQL database "
                     << c.database().database);
  auto& a = c.start_command(0, std::move(a_options));
  require_leadership(a, "leader", "a");
  auto& b = c.start_command(1);
  require_leadership(b, "standby", "a");
  auto& q = c.start_query("q");
  require_leadership(q, "query", "a");
  auto link = wait_link_state(q, "linked", "in_use", settle_timeout);
  BOOST_TEST_REQUIRE(link.is("linked", "in_use"), link.raw);
  return {a, b, q};
}

/// Stops `load` and requires that no write got an answer other than 201,
/// 503 or none.
void finish_load(keyed_load& load) {
  load.finish();
  BOOST_TEST_MESSAGE("  load: " << load.statuses());
  auto odd = load.odd_answers();
  std::ostringstream text;
  for (const auto& line : odd)
    text << "\n    " << line;
  BOOST_TEST(odd.empty(), "writes answered neither 201 nor 503:" << text.str());
}

/// The checks after every case that writes: the database holds each
/// acknowledged write of `writes` exactly once and a gapless commit_log, and
/// every node of `readers` reads what the database holds.
void require_consistent(failover_cluster& c,
                        const std::vector<keyed_write>& writes,
                        const std::vector<cqrsd_process*>& readers) {
  BOOST_TEST_MESSAGE("every acknowledged write is in the database exactly "
                     "once, and commit_log is gapless");
  auto sql = c.database().connect();
  require_exactly_once(writes, *sql);
  auto last_seq = require_gapless_commit_log(*sql);
  BOOST_TEST_MESSAGE("differential check: reads through every live node "
                     "equal the database at seq "
                     << last_seq);
  auto db = c.make_oracle();
  for (auto* node : readers) {
    auto status = wait_applied_seq(*node, last_seq, settle_timeout);
    BOOST_TEST(status.value("applied_seq", int64_t{-1}) == last_seq,
               node->name() << ": " << status.dump());
    require_reads_match_database(*node, *db);
  }
}

/// Kills the leader `leader` while `load` writes and returns the time from
/// the kill to the first write acknowledged after it: the first answer to an
/// attempt sent after the leader was reaped, so that it cannot come from it.
long long kill_and_time_takeover(failover_cluster& c, size_t leader,
                                 const keyed_load& load) {
  auto killed_at = clock_type::now();
  auto rc = c.kill(leader);
  auto reaped_at = clock_type::now();
  BOOST_TEST(rc == -SIGKILL);
  auto first = load.wait_ack_sent_after(reaped_at, settle_timeout);
  BOOST_TEST_REQUIRE(first.has_value(),
                     "no write was acknowledged within "
                         << settle_timeout.count()
                         << " s of the kill: " << load.statuses());
  auto took = ms_between(killed_at, *first);
  BOOST_TEST_MESSAGE("  kill -9 of " << failover_cluster::command_name(leader)
                                     << " -> first acknowledged write: " << took
                                     << " ms");
  BOOST_TEST(took <= takeover_bound_ms,
             "writes succeeded again only " << took << " ms after the kill");
  return took;
}

// -- the deposed leader -------------------------------------------------------

/// What the old leader a did after SIGCONT in the frozen-leader scenario.
struct deposed_leader_run {
  /// a's cqrsd_commits_total just before SIGSTOP, with no write in flight.
  double commits_before = -1;
  /// The highest cqrsd_commits_total that a reported after SIGCONT (-1 when
  /// /metrics never answered).
  double commits_after = -1;
  /// The writes sent straight to a after SIGCONT.
  std::vector<keyed_write> direct;
};

/// The frozen-leader scenario, the same with fencing on and off: a leads, b
/// is a standby and `load` writes through q. With the load paused (so that
/// nothing is in flight on a), reads a's commit count; SIGSTOPs a for
/// 2 × lease + 2 s while the load goes on, requiring b to take over within
/// that time; SIGCONTs a and at once sends `direct_writes` writes straight
/// to a (one attempt each). Reads a's commit count after each, and then for
/// lease + 1 s: a counter, so the last read covers every commit a made.
deposed_leader_run freeze_leader_then_write_to_it(failover_cluster& c,
                                                  keyed_load& load,
                                                  const object_references& refs,
                                                  int direct_writes) {
  auto& a = c.command(0);
  auto lease = std::chrono::milliseconds{c.config().leader_lease_ms};
  auto frozen_for = 2 * lease + 2s;
  deposed_leader_run run;

  BOOST_TEST_REQUIRE(load.pause(settle_timeout),
                     "the load did not come to rest: " << load.statuses());
  run.commits_before = settled_metric_on(a, "cqrsd_commits_total");
  BOOST_TEST_MESSAGE("SIGSTOP a for " << frozen_for.count() << " ms after "
                                      << run.commits_before
                                      << " commits; the writes through q go "
                                         "on");
  c.freeze(0);
  auto frozen_at = clock_type::now();
  load.resume();
  std::string said;
  auto leader = c.wait_one_leader(frozen_for, &said);
  BOOST_TEST((leader == std::optional<size_t>{1}),
             "b did not take over while a was frozen; the nodes said:" << said);
  if (leader)
    BOOST_TEST_MESSAGE("  b leads " << ms_between(frozen_at, clock_type::now())
                                    << " ms after SIGSTOP");
  auto remaining = frozen_at + frozen_for - clock_type::now();
  auto acked = load.wait_ack_sent_after(
      frozen_at,
      std::max(std::chrono::duration_cast<std::chrono::milliseconds>(remaining),
               0ms));
  BOOST_TEST(acked.has_value(), "no write through q was acknowledged while "
                                "a was frozen: "
                                    << load.statuses());
  std::this_thread::sleep_until(frozen_at + frozen_for);
  // The load rests while a wakes up: with b committing at the same time, a
  // deposed leader's commits would also collide with b's seqs in commit_log
  // (the second layer), and the case could not tell fencing from that.
  BOOST_TEST_REQUIRE(load.pause(settle_timeout),
                     "the load did not come to rest: " << load.statuses());

  BOOST_TEST_MESSAGE("SIGCONT a, and at once " << direct_writes
                                               << " writes straight to a");
  c.thaw(0);
  auto sample = [&] {
    if (auto commits = metric_of(a, "cqrsd_commits_total"))
      run.commits_after = std::max(run.commits_after, *commits);
  };
  auto client = a.make_client();
  client->set_connection_timeout(2, 0);
  client->set_read_timeout(10, 0);
  for (int i = 0; i < direct_writes; ++i) {
    keyed_write w;
    w.key = "failover-direct-" + std::to_string(i);
    w.name = "object written straight to a " + std::to_string(i);
    send_keyed_write(*client, w, refs, clock_type::now(), 0ms);
    BOOST_TEST_MESSAGE("  straight to a: " << w.last_answer);
    run.direct.push_back(std::move(w));
    sample();
  }
  auto watch_until = clock_type::now() + lease + 1s;
  while (clock_type::now() < watch_until) {
    sample();
    std::this_thread::sleep_for(100ms);
  }
  sample();
  load.resume();
  BOOST_TEST_MESSAGE("  a's cqrsd_commits_total: " << run.commits_before
                                                   << " before SIGSTOP, at "
                                                      "most "
                                                   << run.commits_after
                                                   << " after SIGCONT");
  return run;
}

/// Runs the cases about fencing switched off only on request: they show
/// that the frozen-leader case can fail.
boost::test_tools::assertion_result
fencing_off_requested(boost::unit_test::test_unit_id) {
  const char* value = std::getenv("CQRSD_TEST_FENCING_OFF");
  boost::test_tools::assertion_result result{value != nullptr &&
                                             std::string{value} == "1"};
  result.message() << "set CQRSD_TEST_FENCING_OFF=1 to run the "
                      "frozen-leader case against cqrsd-testing with "
                      "CQRSD_FAULT_NO_FENCING=1 and see it commit";
  return result;
}

/// Writes `text` to a new file `path`.
void write_text(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::trunc};
  out << text;
  out.close();
  BOOST_TEST_REQUIRE(out.good(), "cannot write " << path);
}

} // namespace

BOOST_AUTO_TEST_SUITE(failover)

// -- 1. kill -9 of the leader under write load --------------------------------

BOOST_AUTO_TEST_CASE(leader_killed_under_write_load) {
  failover_cluster c;
  auto nodes = start_abq(c);
  auto& b = nodes.b;
  auto& q = nodes.q;
  auto refs = create_references(q);

  BOOST_TEST_MESSAGE("4 client threads write through q, every write with "
                     "its own Idempotency-Key, retried on 503 or no answer");
  keyed_load load{q, refs, "kill", {}};
  BOOST_TEST_REQUIRE(load.wait_acks(40, 30s), load.statuses());
  BOOST_TEST_MESSAGE("kill -9 a mid-load");
  kill_and_time_takeover(c, 0, load);
  auto acks_after = load.acks();
  BOOST_TEST_REQUIRE(
      load.wait_acks(acks_after + 40, 30s),
      "the load stalled after the takeover: " << load.statuses());
  finish_load(load);

  BOOST_TEST_MESSAGE("b leads, counts its takeover, and q is linked to it");
  require_leader(c, 1);
  auto state = read_leadership(b);
  BOOST_TEST(state.is("leader", "b"), state.raw);
  BOOST_TEST(state.takeovers >= 1, state.raw);
  BOOST_TEST(metric_on(b, "cqrsd_leader") == 1);
  BOOST_TEST(metric_on(b, "cqrsd_standby") == 0);
  BOOST_TEST(metric_on(b, "cqrsd_takeovers_total") >= 1);
  BOOST_TEST(!matching_lines(b.log(), "took the lead").empty(),
             "b's log does not say it took the lead");
  require_leadership(q, "query", "b");

  require_consistent(c, load.writes(), {&b, &q});
}

// -- 2. a frozen leader is fenced ---------------------------------------------

BOOST_AUTO_TEST_CASE(frozen_leader_is_fenced) {
  failover_cluster c;
  auto nodes = start_abq(c);
  auto& a = nodes.a;
  auto& b = nodes.b;
  auto& q = nodes.q;
  auto refs = create_references(q);
  keyed_load::options two_threads;
  two_threads.threads = 2;
  keyed_load load{q, refs, "freeze", two_threads};
  BOOST_TEST_REQUIRE(load.wait_acks(20, 30s), load.statuses());

  auto run = freeze_leader_then_write_to_it(c, load, refs, 5);
  BOOST_TEST(run.commits_after >= 0, "a's /metrics never answered after "
                                     "SIGCONT");
  BOOST_TEST(run.commits_after <= run.commits_before,
             "a, deposed, committed " << run.commits_after - run.commits_before
                                      << " writes after SIGCONT");

  BOOST_TEST_MESSAGE("a steps down and ends as a standby of b, still "
                     "without a commit");
  require_leadership(a, "standby", "b");
  BOOST_TEST(!wait_log_lines(a, "stepped down", settle_timeout).empty(),
             "a's log does not say it stepped down");
  BOOST_TEST(metric_on(a, "cqrsd_commits_total") <= run.commits_before);
  BOOST_TEST(metric_on(a, "cqrsd_leader") == 0);
  BOOST_TEST(metric_on(a, "cqrsd_standby") == 1);

  auto acks_after = load.acks();
  BOOST_TEST_REQUIRE(load.wait_acks(acks_after + 20, 30s),
                     "the load stalled: " << load.statuses());
  finish_load(load);
  require_leader(c, 1);
  auto state = read_leadership(b);
  BOOST_TEST(state.takeovers >= 1, state.raw);

  auto writes = load.writes();
  writes.insert(writes.end(), run.direct.begin(), run.direct.end());
  require_consistent(c, writes, {&a, &b, &q});
}

// The same scenario against cqrsd-testing with fencing switched off: the
// deposed leader reconnects and commits. It shows that the case above
// notices a commit by a deposed leader; it runs on request only.
BOOST_AUTO_TEST_CASE(fencing_disabled_lets_a_deposed_leader_commit,
                     *boost::unit_test::precondition(fencing_off_requested)) {
  failover_cluster c;
  failover_cluster::node_options unfenced;
  unfenced.binary = testing_binary();
  unfenced.env = {{"CQRSD_FAULT_NO_FENCING", "1"}};
  auto nodes = start_abq(c, unfenced);
  auto refs = create_references(nodes.q);
  keyed_load::options two_threads;
  two_threads.threads = 2;
  keyed_load load{nodes.q, refs, "unfenced", two_threads};
  BOOST_TEST_REQUIRE(load.wait_acks(20, 30s), load.statuses());

  auto run = freeze_leader_then_write_to_it(c, load, refs, 10);
  load.finish();
  BOOST_TEST(run.commits_after > run.commits_before,
             "with fencing off, a committed nothing after SIGCONT ("
                 << run.commits_before << " before, at most "
                 << run.commits_after
                 << " after): the frozen-leader case could not tell fencing "
                    "from luck");
}

// -- 3. the old leader comes back as a standby --------------------------------

BOOST_AUTO_TEST_CASE(old_leader_restarts_as_standby) {
  failover_cluster c;
  auto nodes = start_abq(c);
  auto& a = nodes.a;
  auto& b = nodes.b;
  auto& q = nodes.q;
  auto refs = create_references(q);
  auto client_of = [](const cqrsd_process& node) {
    auto client = node.make_client();
    client->set_read_timeout(10, 0);
    return client;
  };
  std::vector<keyed_write> writes;
  // Writes through `node`, retried for a while: a takeover may be under way.
  auto write_through = [&](cqrsd_process& node, const std::string& tag) {
    auto client = client_of(node);
    for (int i = 0; i < 3; ++i) {
      keyed_write w;
      w.key = "failover-" + tag + "-" + std::to_string(i);
      w.name = "object " + tag + " " + std::to_string(i);
      send_keyed_write(*client, w, refs, clock_type::now() + settle_timeout,
                       50ms);
      BOOST_TEST(w.acked, node.name() << ": " << w.last_answer);
      writes.push_back(std::move(w));
    }
  };
  write_through(q, "before");

  BOOST_TEST_MESSAGE("kill -9 a: b takes over");
  BOOST_TEST(c.kill(0) == -SIGKILL);
  require_leader(c, 1);
  require_leadership(q, "query", "b");
  write_through(q, "after-a");

  BOOST_TEST_MESSAGE("restart a: a standby of b, and writes through it are "
                     "forwarded");
  auto took_the_lead = count_of(a.log(), "took the lead");
  a.start();
  auto state = read_leadership(a);
  BOOST_TEST(state.is("standby", "b"), state.raw);
  auto takeovers_as_standby = state.takeovers;
  BOOST_TEST(!matching_lines(a.log(), "is a standby").empty(),
             "a's log does not say it is a standby");
  BOOST_TEST(metric_on(a, "cqrsd_leader") == 0);
  BOOST_TEST(metric_on(a, "cqrsd_standby") == 1);
  write_through(a, "through-standby-a");
  BOOST_TEST(read_leadership(b).is("leader", "b"));

  BOOST_TEST_MESSAGE("kill -9 b: a takes over again");
  BOOST_TEST(c.kill(1) == -SIGKILL);
  require_leader(c, 0);
  state = read_leadership(a);
  BOOST_TEST(state.is("leader", "a"), state.raw);
  BOOST_TEST(state.takeovers > takeovers_as_standby, state.raw);
  BOOST_TEST(count_of(a.log(), "took the lead") > took_the_lead);
  BOOST_TEST(metric_on(a, "cqrsd_leader") == 1);
  BOOST_TEST(metric_on(a, "cqrsd_standby") == 0);
  require_leadership(q, "query", "a");
  write_through(q, "after-b");
  write_through(a, "through-leader-a");

  require_consistent(c, writes, {&a, &q});
}

// -- 4. both start at the same moment -----------------------------------------

BOOST_AUTO_TEST_CASE(simultaneous_start_elects_one_leader) {
  failover_cluster c;
  BOOST_TEST_MESSAGE("create a and b once (one after the other), then stop "
                     "both");
  auto& a = c.start_command(0);
  auto& b = c.start_command(1);
  b.stop();
  a.stop();
  constexpr int rounds = 10;
  int a_led = 0;
  for (int round = 1; round <= rounds; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      c.launch_together({0, 1});
      for (auto* node : {&a, &b}) {
        auto why = wait_readyz(*node, settle_timeout);
        BOOST_TEST_REQUIRE(why.empty(), why);
      }
      auto sa = read_leadership(a);
      auto sb = read_leadership(b);
      auto leaders = (sa.leadership == "leader" ? 1 : 0) +
                     (sb.leadership == "leader" ? 1 : 0);
      BOOST_TEST(leaders == 1, "a: " << sa.raw << "; b: " << sb.raw);
      auto& leader = sa.leadership == "leader" ? sa : sb;
      auto leader_name = &leader == &sa ? "a" : "b";
      BOOST_TEST(leader.is("leader", leader_name), leader.raw);
      // /readyz is 200 before the standby's link has found the leader.
      auto standby = wait_leadership(&leader == &sa ? b : a, "standby",
                                     leader_name, settle_timeout);
      BOOST_TEST(standby.is("standby", leader_name), standby.raw);
      a_led += &leader == &sa ? 1 : 0;
      BOOST_TEST_MESSAGE("  round " << round << ": " << leader_name
                                    << " leads");
      // The standby first, so that it does not take over meanwhile.
      if (&leader == &sa) {
        b.stop();
        a.stop();
      } else {
        a.stop();
        b.stop();
      }
    }
  }
  BOOST_TEST_MESSAGE("a led " << a_led << " of " << rounds << " rounds, b "
                              << rounds - a_led);
}

// -- 5. SQLite: one command node only -----------------------------------------

// No PostgreSQL here: a standby needs the advisory lock, so a second node
// writing the same SQLite file must refuse to start instead.
BOOST_AUTO_TEST_CASE(second_sqlite_command_node_refuses_to_start) {
  temp_db file{cqrs::database_backend::sqlite};
  cqrsd_process::options first_options;
  first_options.name = "first";
  first_options.settings = {
      {"node.role", "command"},
      {"database.backend", "sqlite"},
      {"database.sqlite_path", quote_yaml(file.path)},
      {"cluster.listen",
       quote_yaml("127.0.0.1:" + std::to_string(pick_free_port()))},
  };
  cqrsd_process first{std::move(first_options)};
  int64_t last_seq = 0;
  acknowledged_write(first, "POST", "/categories",
                     category_body("before the second node").dump(), 201,
                     last_seq);

  for (std::string role : {"command", "standalone"}) {
    BOOST_TEST_CONTEXT("a second " << role << " node") {
      BOOST_TEST_MESSAGE("a second " << role << " node on " << file.path);
      std::ostringstream yaml;
      yaml << "node:\n  name: " << quote_yaml("second-" + role)
           << "\n  role: " << role << "\nhttp:\n  listen: "
           << quote_yaml("127.0.0.1:" + std::to_string(pick_free_port()))
           << "\ndatabase:\n  backend: sqlite\n  sqlite_path: "
           << quote_yaml(file.path) << "\nlog:\n  level: info\n";
      if (role == "command")
        yaml << "cluster:\n  listen: "
             << quote_yaml("127.0.0.1:" + std::to_string(pick_free_port()))
             << "\n";
      auto config = file.dir + "/second-" + role + ".yaml";
      write_text(config, yaml.str());
      // A node that does not refuse serves until run_cqrsd kills it.
      auto result = run_cqrsd({"--config", config}, {}, 15s);
      auto output = result.out + result.err;
      BOOST_TEST(result.exit_code == 1, "exit " << result.exit_code
                                                << "; its output:\n"
                                                << output);
      for (const auto& needle :
           {std::string{"already written by another cqrsd node"}, file.path,
            std::string{"use PostgreSQL"}})
        BOOST_TEST(output.find(needle) != std::string::npos,
                   "its output lacks '" << needle << "'");
      BOOST_TEST_MESSAGE("  the first node still serves writes");
      acknowledged_write(first, "POST", "/categories",
                         category_body("after a second " + role).dump(), 201,
                         last_seq);
    }
  }
  auto sql = file.connect();
  BOOST_TEST(require_gapless_commit_log(*sql) == last_seq);
}

// -- 6. takeover time over ten kills ------------------------------------------

// A measurement for the closing note of the issue: kill -9 of the leader
// under light load, ten times, each time restarting it as a standby.
// Asserted is only the 5 s bound per run.
BOOST_AUTO_TEST_CASE(takeover_time_over_ten_kills) {
  failover_cluster c;
  auto nodes = start_abq(c);
  auto& q = nodes.q;
  auto refs = create_references(q);
  keyed_load::options light;
  light.threads = 1;
  light.pause = 20ms;
  light.retry_pause = 20ms;
  keyed_load load{q, refs, "kills", light};

  constexpr int runs = 10;
  std::vector<long long> times;
  for (int run = 1; run <= runs; ++run) {
    BOOST_TEST_CONTEXT("run " << run) {
      std::string said;
      auto leader = c.wait_one_leader(settle_timeout, &said);
      BOOST_TEST_REQUIRE(leader.has_value(), "no single leader:" << said);
      auto other = 1 - *leader;
      auto leader_name = failover_cluster::command_name(*leader);
      // The standby must be linked before the kill, or the run measures its
      // start-up too.
      require_leadership(c.command(other), "standby", leader_name);
      BOOST_TEST_REQUIRE(load.wait_acks(load.acks() + 5, 30s), load.statuses());
      times.push_back(kill_and_time_takeover(c, *leader, load));
      require_leader(c, other);
      c.command(*leader).start();
      require_leadership(c.command(*leader), "standby",
                         failover_cluster::command_name(other));
    }
  }
  finish_load(load);
  auto sorted = times;
  std::sort(sorted.begin(), sorted.end());
  std::ostringstream all;
  for (auto t : times)
    all << ' ' << t;
  BOOST_TEST_REQUIRE(sorted.size() == size_t{runs});
  // The median of ten: the mean of the 5th and 6th.
  BOOST_TEST_MESSAGE("kill -9 -> first acknowledged write over "
                     << runs << " runs: p50 " << (sorted[4] + sorted[5]) / 2
                     << " ms, max " << sorted.back()
                     << " ms (all, in ms:" << all.str() << ")");
  require_consistent(c, load.writes(), {&c.command(0), &c.command(1), &q});
}

BOOST_AUTO_TEST_SUITE_END()
