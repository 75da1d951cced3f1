// Deterministic tests of the invalidation hub: batches applied in seq order
// to every subscribed cache, gaps repaired from commit_log, `sync` answered
// once its seq is fanned out (or failed after sync_timeout), and caching
// switched off by a lost command node or missed heartbeats and back on after
// catch-up. The caches are shared_query_caches subscribed as query actors
// subscribe theirs, each under a stand-in query actor; the test fills them
// with the cache's own API and reads them as the HTTP threads do (`hit`).
#include <boost/test/unit_test.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/fault_hooks.hpp"
#include "actors/invalidation_hub.hpp"
#include "actors/query_cache.hpp"
#include "common/error.hpp"
#include "fixtures/deterministic.hpp"
#include "model/row_key.hpp"

using namespace cqrs;
using namespace cqrs::test;

namespace {

using keys = std::vector<std::string>;
using fill_outcome = shared_query_cache::fill_outcome;

/// A query actor that only owns a cache: the hub needs its handle to
/// monitor it, and tells it of entries to read again, which it ignores.
query_actor::behavior_type stand_in_query_actor(query_actor::pointer) {
  return {
      [](atom::read, read_request&) -> caf::result<read_answer> {
        return read_answer{};
      },
      [](atom::retry, std::string&) {
        // nop
      },
      [](atom::refresh) {
        // nop
      },
  };
}

/// Has a hub drop its first `count` batches, as cqrsd-testing's faults do.
struct drop_first_batches : fault_injector {
  explicit drop_first_batches(size_t count) : count(count) {
    // nop
  }

  struct fault : batch_fault {
    explicit fault(drop_first_batches* parent) : parent(parent) {
      // nop
    }

    bool drop(const invalidation&) override {
      if (parent->dropped == parent->count)
        return false;
      ++parent->dropped;
      return true;
    }

    drop_first_batches* parent;
  };

  std::unique_ptr<read_fault> query_actor(uint32_t) override { return nullptr; }

  std::unique_ptr<command_fault> command_actor() override { return nullptr; }

  std::unique_ptr<batch_fault> hub() override {
    return std::make_unique<fault>(this);
  }

  size_t count;
  size_t dropped = 0;
};

/// What a `sync` sent by `sync` got back, once the actors ran.
struct sync_outcome {
  std::optional<seq_t> seq;
  std::optional<caf::error> error;

  bool done() const { return seq || error; }
};

struct fixture : deterministic_system {
  /// Starts a hub at seq 0 (checking heartbeats when `heartbeat_timeout` is
  /// not 0) and links it to a command node at seq 0: caches may serve.
  explicit fixture(caf::timespan heartbeat_timeout = caf::timespan{0}) {
    reader = spawn_scripted_reader(sys, db);
    hub_cfg.counters = shared_counters;
    hub_cfg.sync_timeout = std::chrono::milliseconds{100};
    hub_cfg.retry_interval = std::chrono::milliseconds{5};
    hub_cfg.heartbeat_timeout = heartbeat_timeout;
    hub = sys.spawn(invalidation_hub_impl, hub_cfg,
                    caf::actor_cast<reader_actor>(reader));
    caf::anon_send(hub, atom::connected_v, seq_t{0});
    run();
  }

  ~fixture() override {
    for (auto& sub : subscribers)
      caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(reader, caf::exit_reason::user_shutdown);
    run();
  }

  /// Subscribes a new cache at the hub under a stand-in query actor, as a
  /// query actor does when it starts.
  query_cache_ptr subscribe() {
    auto cache = std::make_shared<shared_query_cache>(100);
    auto sub = sys.spawn(stand_in_query_actor);
    subscribers.push_back(sub);
    caf::anon_send(hub, atom::subscribe_v, sub, cache);
    run();
    return cache;
  }

  /// Offers `cache` a fill of `key` read at `read_seq` that depends on
  /// `deps`, as a query actor does when the reader answers.
  static fill_outcome fill(shared_query_cache& cache, const std::string& key,
                           keys deps, seq_t read_seq = 0) {
    query_cache::entry value;
    value.found = true;
    value.body = std::make_shared<const std::string>(key);
    value.read_seq = read_seq;
    value.dependencies = std::move(deps);
    size_t evicted = 0;
    return cache.finish_fill(cache.start_fill(), key, std::move(value),
                             evicted);
  }

  /// Caches `key` in `cache`; the fill must have been cached.
  static void put(shared_query_cache& cache, const std::string& key, keys deps,
                  seq_t read_seq = 0) {
    BOOST_REQUIRE(fill(cache, key, std::move(deps), read_seq) ==
                  fill_outcome::cached);
  }

  /// Whether a read of `key` is answered from `cache` (a hit).
  static bool serves(shared_query_cache& cache, const std::string& key) {
    return cache.hit(key).has_value();
  }

  /// Publishes the batch of commits `from..to` as the command node does,
  /// without writing commit_log.
  void publish(seq_t from, seq_t to, keys changed) {
    caf::anon_send(hub, atom::invalidate_v,
                   invalidation{from, to, std::move(changed)});
  }

  /// Writes commit `seq` to commit_log and publishes its batch.
  void commit(seq_t seq, keys changed) {
    db->log_commit(seq, changed);
    publish(seq, seq, std::move(changed));
  }

  /// Sends `sync` for `seq` from a client actor; `run()` delivers it.
  std::shared_ptr<sync_outcome> sync(seq_t seq) {
    auto slot = std::make_shared<sync_outcome>();
    sys.spawn([target = hub, seq, slot](caf::event_based_actor* client) {
      client->request(target, caf::infinite, atom::sync_v, seq)
          .then([slot](seq_t applied) { slot->seq = applied; },
                [slot](caf::error& e) { slot->error = std::move(e); });
    });
    return slot;
  }

  /// The hub's applied seq, as /metrics shows it (`cqrsd_applied_seq`),
  /// once the actors ran. The hub must still be up.
  seq_t applied_seq() {
    run();
    BOOST_REQUIRE_MESSAGE(!terminated(hub), "the hub is down");
    return node_counters::get(counters.applied_seq);
  }

  std::shared_ptr<scripted_db> db = std::make_shared<scripted_db>();
  std::shared_ptr<node_counters> shared_counters =
      std::make_shared<node_counters>();
  node_counters& counters = *shared_counters;
  invalidation_hub_config hub_cfg;
  scripted_reader_actor reader;
  hub_actor hub;
  std::vector<query_actor> subscribers;
};

/// A hub that drops caching after a second without a heartbeat.
struct heartbeat_fixture : fixture {
  heartbeat_fixture() : fixture(std::chrono::seconds{1}) {
    // nop
  }
};

const std::string category_7 = row_key("category", 7);
const std::string category_8 = row_key("category", 8);
const std::string category_9 = row_key("category", 9);

} // namespace

BOOST_FIXTURE_TEST_SUITE(invalidation_hub, fixture)

BOOST_AUTO_TEST_CASE(batches_in_order_reach_every_cache) {
  BOOST_TEST_MESSAGE("two caches hold a view of category 7 and one of 8");
  auto first = subscribe();
  auto second = subscribe();
  for (auto& cache : {first, second}) {
    put(*cache, "seven", {category_7});
    put(*cache, "eight", {category_8});
    BOOST_TEST_REQUIRE(serves(*cache, "seven"));
  }
  BOOST_TEST_MESSAGE("commit 1 changes category 7: both caches evict its "
                     "view and keep the other one");
  commit(1, {category_7});
  run();
  BOOST_TEST(applied_seq() == 1u);
  for (auto& cache : {first, second}) {
    BOOST_TEST(!serves(*cache, "seven"));
    BOOST_TEST_REQUIRE(serves(*cache, "eight"));
    BOOST_TEST(cache->hit("eight")->seq == 1u);
    BOOST_TEST(cache->applied_seq() == 1u);
  }
  BOOST_TEST(counters.invalidation_evictions.load() == 2u);
  BOOST_TEST(counters.invalidations_applied.load() == 2u);
  BOOST_TEST_MESSAGE("a batch of commits 2..3 changes category 8");
  publish(2, 3, {category_8});
  run();
  BOOST_TEST(applied_seq() == 3u);
  BOOST_TEST(counters.applied_seq.load() == 3u);
  for (auto& cache : {first, second}) {
    BOOST_TEST(!serves(*cache, "eight"));
    BOOST_TEST(cache->applied_seq() == 3u);
  }
  BOOST_TEST_MESSAGE("no commit_log read was needed");
  BOOST_TEST(db->commit_reads == 0u);
  BOOST_TEST(counters.catch_ups.load() == 0u);
}

BOOST_AUTO_TEST_CASE(a_late_subscriber_starts_at_the_applied_seq) {
  commit(1, {category_9});
  commit(2, {category_9});
  run();
  auto cache = subscribe();
  BOOST_TEST(cache->applied_seq() == 2u);
  BOOST_TEST_MESSAGE("so a fill read before commit 2 is not cached, one read "
                     "at 2 is");
  BOOST_TEST((fill(*cache, "seven", {category_7}, 1) == fill_outcome::refused));
  put(*cache, "seven", {category_7}, 2);
  BOOST_TEST_REQUIRE(serves(*cache, "seven"));
  BOOST_TEST(cache->hit("seven")->seq == 2u);
  BOOST_TEST_MESSAGE("a batch it already applied changes nothing");
  publish(1, 2, {category_7});
  run();
  BOOST_TEST(serves(*cache, "seven"));
}

BOOST_AUTO_TEST_CASE(a_gap_is_repaired_from_commit_log) {
  auto cache = subscribe();
  put(*cache, "seven", {category_7});
  put(*cache, "eight", {category_8});
  put(*cache, "nine", {category_9});
  commit(1, {row_key("category", 1)});
  run();
  BOOST_TEST_REQUIRE(applied_seq() == 1u);
  BOOST_TEST_MESSAGE("the batch of commit 2 (category 7) is lost; the batch "
                     "of commit 3 (category 8) arrives");
  db->log_commit(2, {category_7});
  commit(3, {category_8});
  run();
  BOOST_TEST(db->commit_reads == 1u);
  BOOST_TEST(counters.catch_ups.load() == 1u);
  BOOST_TEST(applied_seq() == 3u);
  BOOST_TEST_MESSAGE("the missed commit evicted category 7, the batch "
                     "category 8; category 9 survives");
  BOOST_TEST(!serves(*cache, "seven"));
  BOOST_TEST(!serves(*cache, "eight"));
  BOOST_TEST_REQUIRE(serves(*cache, "nine"));
  BOOST_TEST(cache->hit("nine")->seq == 3u);
}

BOOST_AUTO_TEST_CASE(a_batch_dropped_by_a_fault_hook_is_repaired) {
  BOOST_TEST_MESSAGE("a second hub, whose fault drops its first batch");
  auto faults = std::make_shared<drop_first_batches>(1);
  auto faulty_counters = std::make_shared<node_counters>();
  auto cfg = hub_cfg;
  cfg.counters = faulty_counters;
  cfg.faults = faults;
  auto faulty = sys.spawn(invalidation_hub_impl, cfg,
                          caf::actor_cast<reader_actor>(reader));
  caf::anon_send(faulty, atom::connected_v, seq_t{0});
  db->log_commit(1, {category_7});
  caf::anon_send(faulty, atom::invalidate_v, invalidation{1, 1, {category_7}});
  run();
  BOOST_TEST(faults->dropped == 1u);
  BOOST_TEST(node_counters::get(faulty_counters->applied_seq) == 0u);
  BOOST_TEST_MESSAGE("the next batch reveals the gap, read from commit_log");
  db->log_commit(2, {category_8});
  caf::anon_send(faulty, atom::invalidate_v, invalidation{2, 2, {category_8}});
  run();
  BOOST_TEST(faults->dropped == 1u);
  BOOST_TEST(node_counters::get(faulty_counters->catch_ups) == 1u);
  BOOST_TEST(node_counters::get(faulty_counters->applied_seq) == 2u);
  caf::anon_send_exit(faulty, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(a_batch_after_an_unreadable_gap_waits) {
  auto cache = subscribe();
  put(*cache, "seven", {category_7});
  put(*cache, "eight", {category_8});
  BOOST_TEST_MESSAGE("commit 1 is lost and not readable yet (a lagging "
                     "replica); the batch of commit 2 arrives");
  commit(2, {category_8});
  run();
  BOOST_TEST(db->commit_reads == 1u);
  BOOST_TEST_MESSAGE("commit 2 is not applied ahead of commit 1");
  BOOST_TEST(applied_seq() == 0u);
  BOOST_TEST(serves(*cache, "eight"));
  BOOST_TEST_MESSAGE("once commit 1 is readable, the next retry applies both");
  db->log_commit(1, {category_7});
  for (int i = 0; i < 10 && applied_seq() < 2u; ++i)
    fire_timeouts();
  BOOST_TEST(applied_seq() == 2u);
  BOOST_TEST(db->commit_reads >= 2u);
  BOOST_TEST(!serves(*cache, "seven"));
  BOOST_TEST(!serves(*cache, "eight"));
}

BOOST_AUTO_TEST_CASE(sync_catches_up_from_commit_log) {
  auto cache = subscribe();
  put(*cache, "seven", {category_7});
  put(*cache, "nine", {category_9});
  BOOST_TEST_MESSAGE("a sync of a seq already applied answers at once");
  auto now = sync(0);
  run();
  BOOST_TEST_REQUIRE(now->seq.has_value());
  BOOST_TEST(*now->seq == 0u);
  BOOST_TEST(db->commit_reads == 0u);
  BOOST_TEST_MESSAGE("commits 1 and 2 are in commit_log, their batches "
                     "never reached the hub");
  db->log_commit(1, {category_8});
  db->log_commit(2, {category_7});
  auto later = sync(2);
  run();
  BOOST_TEST_REQUIRE(later->seq.has_value());
  BOOST_TEST(*later->seq == 2u);
  BOOST_TEST(db->commit_reads == 1u);
  BOOST_TEST(applied_seq() == 2u);
  BOOST_TEST_MESSAGE("the sync answered after the caches applied commit 2");
  BOOST_TEST(!serves(*cache, "seven"));
  BOOST_TEST_REQUIRE(serves(*cache, "nine"));
  BOOST_TEST(cache->hit("nine")->seq == 2u);
}

BOOST_AUTO_TEST_CASE(sync_beyond_commit_log_fails_after_sync_timeout) {
  BOOST_TEST_MESSAGE("commit_log ends at 1; a sync waits for 5");
  db->log_commit(1, {category_7});
  auto late = sync(5);
  run();
  BOOST_TEST(!late->done());
  BOOST_TEST(applied_seq() == 1u);
  BOOST_TEST_MESSAGE("the hub reads commit_log again every retry_interval "
                     "and gives up after sync_timeout");
  for (int i = 0; i < 100 && !late->done(); ++i) {
    sched.advance_time(hub_cfg.retry_interval);
    run();
  }
  BOOST_TEST_REQUIRE(late->done());
  BOOST_TEST_REQUIRE(late->error.has_value());
  BOOST_TEST(error_code(*late->error) == ec::min_seq_timeout);
  BOOST_TEST(db->commit_reads > 1u);
  BOOST_TEST(applied_seq() == 1u);
  BOOST_TEST_MESSAGE("a sync the log can satisfy still answers afterwards");
  db->log_commit(2, {category_7});
  auto next = sync(2);
  run();
  BOOST_TEST_REQUIRE(next->seq.has_value());
  BOOST_TEST(*next->seq == 2u);
}

BOOST_AUTO_TEST_CASE(disconnect_stops_caching_until_connected_and_caught_up) {
  auto cache = subscribe();
  put(*cache, "seven", {category_7});
  BOOST_TEST_REQUIRE(serves(*cache, "seven"));
  BOOST_TEST(counters.caches_in_use.load() == 1u);
  BOOST_TEST_MESSAGE("the link to the command node goes down: the cache is "
                     "flushed and does not take fills");
  caf::anon_send(hub, atom::disconnect_v);
  run();
  BOOST_TEST(!serves(*cache, "seven"));
  BOOST_TEST(cache->size() == 0u);
  BOOST_TEST(
      (fill(*cache, "seven", {category_7}) == fill_outcome::not_caching));
  BOOST_TEST(counters.caches_in_use.load() == 0u);
  BOOST_TEST(counters.cache_flushes.load() == 1u);
  BOOST_TEST(counters.command_node_linked.load() == 0u);
  BOOST_TEST_MESSAGE("meanwhile commits 1 and 2 happen; the link comes back "
                     "at seq 2 while commit_log shows only commit 1");
  db->log_commit(1, {category_8});
  caf::anon_send(hub, atom::connected_v, seq_t{2});
  run();
  BOOST_TEST(db->commit_reads == 1u);
  BOOST_TEST(applied_seq() == 1u);
  BOOST_TEST(counters.command_node_linked.load() == 1u);
  BOOST_TEST(
      (fill(*cache, "seven", {category_7}) == fill_outcome::not_caching));
  BOOST_TEST(counters.caches_in_use.load() == 0u);
  BOOST_TEST_MESSAGE("once commit 2 is read back, caching is on again");
  db->log_commit(2, {category_9});
  for (int i = 0; i < 10 && applied_seq() < 2u; ++i)
    fire_timeouts();
  BOOST_TEST(applied_seq() == 2u);
  BOOST_TEST(counters.caches_in_use.load() == 1u);
  put(*cache, "seven", {category_7}, 2);
  BOOST_TEST_REQUIRE(serves(*cache, "seven"));
  BOOST_TEST(cache->hit("seven")->seq == 2u);
}

BOOST_FIXTURE_TEST_CASE(missed_heartbeats_stop_caching, heartbeat_fixture) {
  auto cache = subscribe();
  put(*cache, "seven", {category_7});
  BOOST_TEST_MESSAGE("a heartbeat after 600 ms keeps the cache at the check "
                     "after 1 s");
  sched.advance_time(std::chrono::milliseconds{600});
  caf::anon_send(hub, atom::heartbeat_v, seq_t{0});
  run();
  sched.advance_time(std::chrono::milliseconds{400});
  run();
  BOOST_TEST(serves(*cache, "seven"));
  BOOST_TEST(counters.caches_in_use.load() == 1u);
  BOOST_TEST_MESSAGE("no heartbeat for 1.4 s at the next check: flushed");
  sched.advance_time(std::chrono::seconds{1});
  run();
  BOOST_TEST(!serves(*cache, "seven"));
  BOOST_TEST(
      (fill(*cache, "seven", {category_7}) == fill_outcome::not_caching));
  BOOST_TEST(counters.caches_in_use.load() == 0u);
  BOOST_TEST(counters.cache_flushes.load() == 1u);
  BOOST_TEST_MESSAGE("the next heartbeat turns caching back on");
  caf::anon_send(hub, atom::heartbeat_v, seq_t{0});
  run();
  BOOST_TEST(counters.caches_in_use.load() == 1u);
  put(*cache, "seven", {category_7});
  BOOST_TEST(serves(*cache, "seven"));
}

BOOST_FIXTURE_TEST_CASE(a_heartbeat_ahead_of_the_hub_catches_up_first,
                        heartbeat_fixture) {
  auto cache = subscribe();
  put(*cache, "seven", {category_7});
  sched.advance_time(std::chrono::seconds{2});
  run();
  BOOST_TEST_REQUIRE(!serves(*cache, "seven"));
  BOOST_TEST_MESSAGE("the heartbeat reports seq 1, which the hub missed: it "
                     "reads commit 1 before caching again");
  db->log_commit(1, {category_8});
  caf::anon_send(hub, atom::heartbeat_v, seq_t{1});
  run();
  BOOST_TEST(db->commit_reads == 1u);
  BOOST_TEST(applied_seq() == 1u);
  BOOST_TEST(counters.caches_in_use.load() == 1u);
  put(*cache, "seven", {category_7}, 1);
  BOOST_TEST(serves(*cache, "seven"));
}

BOOST_AUTO_TEST_SUITE_END()
