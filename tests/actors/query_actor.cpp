// Deterministic tests of the query actor and its protocol with the hub:
// hits, misses, single-flight, eviction, stale fills, negative caching,
// X-Min-Seq catch-up and reading evicted entries again (refresh).
#include <boost/test/unit_test.hpp>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/fault_hooks.hpp"
#include "actors/invalidation_hub.hpp"
#include "actors/query_actor.hpp"
#include "common/error.hpp"
#include "fixtures/deterministic.hpp"
#include "fixtures/objects_domain.hpp"
#include "model/row_key.hpp"

using namespace cqrs;
using namespace cqrs::test;

namespace {

/// Fails each query actor on its `nth` read, as cqrsd-testing's faults do.
struct nth_read_fails : fault_injector {
  explicit nth_read_fails(uint64_t nth) : nth(nth) {
    // nop
  }

  struct fault : read_fault {
    explicit fault(uint64_t nth) : nth(nth) {
      // nop
    }

    caf::error on_read() override {
      if (++reads != nth)
        return {};
      return make_cqrs_error(ec::internal, "injected");
    }

    uint64_t nth;
    uint64_t reads = 0;
  };

  std::unique_ptr<read_fault> query_actor(uint32_t) override {
    ++query_actors;
    return std::make_unique<fault>(nth);
  }

  std::unique_ptr<command_fault> command_actor() override { return nullptr; }

  std::unique_ptr<batch_fault> hub() override { return nullptr; }

  uint64_t nth;
  /// Faults made for query actors.
  size_t query_actors = 0;
};

struct fixture : deterministic_system {
  /// With `refresh`, the actor reads again the entries that a commit evicts
  /// after they were read (`query.refresh_on_invalidation`).
  explicit fixture(bool refresh = false) {
    reader = spawn_scripted_reader(sys, db);
    invalidation_hub_config hub_cfg;
    hub_cfg.counters = shared_counters;
    hub_cfg.sync_timeout = std::chrono::milliseconds{500};
    hub = sys.spawn(invalidation_hub_impl, hub_cfg,
                    caf::actor_cast<reader_actor>(reader));
    // Linked to a command node at seq 0: query actors may cache.
    caf::anon_send(hub, atom::connected_v, seq_t{0});
    query_actor_config cfg;
    cfg.counters = shared_counters;
    cfg.min_seq_timeout = std::chrono::milliseconds{200};
    cfg.refresh_on_invalidation = refresh;
    actor_cache = std::make_shared<shared_query_cache>(
        cfg.cache_max_entries, cfg.cache_enabled, refresh);
    cfg.cache = actor_cache;
    actor = sys.spawn(query_actor_impl, cfg,
                      caf::actor_cast<reader_actor>(reader), hub);
    run(); // Let the actor subscribe.
  }

  ~fixture() override {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(reader, caf::exit_reason::user_shutdown);
    run();
  }

  /// Sends a read of object `id` through a client actor; `run()` delivers it.
  std::shared_ptr<read_outcome> read_object(row_id id, seq_t min_seq = 0) {
    auto q = item_query("objects", id);
    auto slot = send_read(sys, actor, {q, cache_key(q), min_seq});
    outcomes.push_back(slot);
    return slot;
  }

  /// Sends a read of the objects list filtered by `category` (0: none).
  std::shared_ptr<read_outcome> read_page(row_id category) {
    auto q = objects_page(category);
    auto slot = send_read(sys, actor, {q, cache_key(q), 0});
    outcomes.push_back(slot);
    return slot;
  }

  /// Completes the oldest pending fill (without running the actors).
  void complete(fill_result result) {
    BOOST_REQUIRE(!db->fills.empty());
    caf::anon_send(reader, atom::apply_v, std::move(result));
  }

  /// Publishes a commit batch as the command actor would.
  void commit(seq_t seq, std::vector<std::string> keys) {
    db->log_commit(seq, keys);
    caf::anon_send(hub, atom::invalidate_v, invalidation{seq, seq, keys});
  }

  /// The actor's cache, as the HTTP threads and the hub see it, once the
  /// actors ran. The actor must still be up (a dead one's cache is closed
  /// and empty).
  const shared_query_cache& cache() {
    run();
    BOOST_REQUIRE_MESSAGE(!terminated(actor), "the query actor is down");
    return *actor_cache;
  }

  std::vector<std::string> deps_of_object(row_id id, row_id category) {
    return {row_key("top_level_object", id), row_key("child_object", id),
            row_key("related_object", 1), row_key("category", category)};
  }

  /// Caches object `id` (in category 7) read at seq 0, and reads it once
  /// from the cache when `read` is set.
  void cache_object(row_id id, bool read) {
    read_object(id);
    run();
    complete(make_fill("v1", 0, deps_of_object(id, 7)));
    run();
    if (read) {
      auto hit = read_object(id);
      run();
      BOOST_TEST_REQUIRE(hit->body() == "v1");
    }
    BOOST_TEST_REQUIRE(db->fills.empty());
  }

  std::shared_ptr<scripted_db> db = std::make_shared<scripted_db>();
  std::shared_ptr<node_counters> shared_counters =
      std::make_shared<node_counters>(objects_domain()->views.size());
  node_counters& counters = *shared_counters;
  scripted_reader_actor reader;
  hub_actor hub;
  std::shared_ptr<shared_query_cache> actor_cache;
  query_actor actor;
  std::vector<std::shared_ptr<read_outcome>> outcomes;
};

/// The fixture with `query.refresh_on_invalidation` on.
struct refreshing : fixture {
  refreshing() : fixture(true) {
    // nop
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(query_actor, fixture)

BOOST_AUTO_TEST_CASE(miss_then_hit) {
  BOOST_TEST_MESSAGE("a first read misses and fills through the reader");
  auto first = read_object(1);
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  BOOST_TEST(!first->done());
  complete(make_fill(R"({"id":1})", 0, deps_of_object(1, 7)));
  run();
  BOOST_TEST_REQUIRE(first->done());
  BOOST_TEST(first->body() == R"({"id":1})");
  BOOST_TEST(counters.total(&node_counters::view_reads::cache_misses) == 1u);
  BOOST_TEST_MESSAGE("a second read hits without touching the reader");
  auto second = read_object(1);
  run();
  BOOST_TEST_REQUIRE(second->done());
  BOOST_TEST(second->body() == R"({"id":1})");
  BOOST_TEST(db->fills.empty());
  BOOST_TEST(counters.total(&node_counters::view_reads::cache_hits) == 1u);
  BOOST_TEST(cache().size() == 1u);
}

BOOST_AUTO_TEST_CASE(single_flight) {
  BOOST_TEST_MESSAGE("three concurrent misses on one key share one fill");
  auto a = read_object(1);
  auto b = read_object(1);
  auto c = read_object(1);
  auto other = read_object(2);
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 2u);
  BOOST_TEST(counters.single_flight_merges.load() == 2u);
  complete(make_fill(R"({"id":1})", 0, deps_of_object(1, 7)));
  run();
  for (auto& x : {a, b, c}) {
    BOOST_TEST_REQUIRE(x->done());
    BOOST_TEST(x->body() == R"({"id":1})");
  }
  BOOST_TEST(!other->done());
  complete(make_fill(R"({"id":2})", 0, deps_of_object(2, 7)));
  run();
  BOOST_TEST(other->body() == R"({"id":2})");
}

BOOST_AUTO_TEST_CASE(pages_and_items_are_cached_apart) {
  BOOST_TEST_MESSAGE("an item, the unfiltered list and two filtered pages of "
                     "the objects view each need their own fill");
  auto item = read_object(7);
  auto all = read_page(0);
  auto seven = read_page(7);
  auto eight = read_page(8);
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 4u);
  BOOST_TEST(counters.single_flight_merges.load() == 0u);
  BOOST_TEST((db->fills[1].q.kind == query_kind::list));
  BOOST_TEST(cache_key(db->fills[2].q) == cache_key(objects_page(7)));
  BOOST_TEST(cache_key(db->fills[2].q) != cache_key(objects_page(8)));
  auto list_deps = [](row_id category) {
    std::vector<std::string> deps{table_key("top_level_object")};
    if (category != 0)
      deps.push_back(column_key("child_object", "category_id",
                                field_value::of_integer(category)));
    return deps;
  };
  complete(make_fill("item", 0, deps_of_object(7, 7)));
  complete(make_fill("all", 0, list_deps(0)));
  complete(make_fill("seven", 0, list_deps(7)));
  complete(make_fill("eight", 0, list_deps(8)));
  run();
  BOOST_TEST(item->body() == "item");
  BOOST_TEST(all->body() == "all");
  BOOST_TEST(seven->body() == "seven");
  BOOST_TEST(eight->body() == "eight");
  BOOST_TEST(cache().size() == 4u);
  BOOST_TEST_MESSAGE("a child moving into category 8 evicts that page only");
  commit(1,
         {row_key("child_object", 3), column_key("child_object", "category_id",
                                                 field_value::of_integer(8))});
  run();
  BOOST_TEST(cache().size() == 3u);
  auto again = read_page(7);
  run();
  BOOST_TEST_REQUIRE(again->done());
  BOOST_TEST(again->body() == "seven");
  auto evicted = read_page(8);
  run();
  BOOST_TEST(!evicted->done());
  BOOST_TEST(db->fills.size() == 1u);
}

BOOST_AUTO_TEST_CASE(reverse_index_evicts_exactly_the_dependents) {
  BOOST_TEST_MESSAGE("objects 1 and 2 are in category 7, object 3 in 8");
  for (row_id id : {1, 2, 3}) {
    read_object(id);
    run();
    complete(make_fill("v1", 0, deps_of_object(id, id == 3 ? 8 : 7)));
    run();
  }
  BOOST_TEST_REQUIRE(cache().size() == 3u);
  BOOST_TEST_MESSAGE("changing category 7 evicts objects 1 and 2 only");
  commit(1, {row_key("category", 7)});
  run();
  BOOST_TEST(cache().size() == 1u);
  BOOST_TEST(cache().applied_seq() == 1u);
  BOOST_TEST(counters.invalidation_evictions.load() == 2u);
  BOOST_TEST(counters.invalidations_applied.load() == 1u);
  auto three = read_object(3);
  run();
  BOOST_TEST(three->done()); // A hit: object 3 survived.
  BOOST_TEST(three->answer->seq == 1u);
  auto one = read_object(1);
  run();
  BOOST_TEST(!one->done()); // A miss: object 1 needs a new fill.
  BOOST_TEST(db->fills.size() == 1u);
  complete(make_fill("v2", 1, deps_of_object(1, 7)));
  run();
  BOOST_TEST(one->body() == "v2");
}

BOOST_AUTO_TEST_CASE(stale_fill_is_answered_but_not_cached) {
  BOOST_TEST_MESSAGE("a fill reads the database at seq 0...");
  auto first = read_object(1);
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  BOOST_TEST_MESSAGE("...then commit 1 changes category 7 before it returns");
  commit(1, {row_key("category", 7)});
  run();
  complete(make_fill("old", 0, deps_of_object(1, 7)));
  run();
  BOOST_TEST_REQUIRE(first->done());
  BOOST_TEST(first->body() == "old");
  BOOST_TEST(first->answer->seq == 0u);
  BOOST_TEST(counters.stale_fills_refused.load() == 1u);
  BOOST_TEST(cache().size() == 0u);
  BOOST_TEST_MESSAGE("the next read fills again and sees the change");
  auto second = read_object(1);
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  complete(make_fill("new", 1, deps_of_object(1, 7)));
  run();
  BOOST_TEST(second->body() == "new");
  BOOST_TEST(cache().size() == 1u);
}

BOOST_AUTO_TEST_CASE(fill_overtaken_by_unrelated_commit_is_cached) {
  auto first = read_object(1);
  run();
  commit(1, {row_key("category", 8)});
  run();
  complete(make_fill("v", 0, deps_of_object(1, 7)));
  run();
  BOOST_TEST(first->body() == "v");
  BOOST_TEST(counters.stale_fills_refused.load() == 0u);
  BOOST_TEST(cache().size() == 1u);
}

BOOST_AUTO_TEST_CASE(negative_results_are_cached_until_the_insert) {
  auto first = read_object(9);
  run();
  complete(make_fill("", 0, {row_key("top_level_object", 9)}, false));
  run();
  BOOST_TEST_REQUIRE(first->done());
  BOOST_TEST(!first->answer->found);
  BOOST_TEST_MESSAGE("a second read of the missing object is a hit");
  auto second = read_object(9);
  run();
  BOOST_TEST_REQUIRE(second->done());
  BOOST_TEST(!second->answer->found);
  BOOST_TEST(db->fills.empty());
  BOOST_TEST(counters.total(&node_counters::view_reads::cache_hits) == 1u);
  BOOST_TEST_MESSAGE("creating object 9 evicts the negative entry");
  commit(1, {row_key("top_level_object", 9), row_key("child_object", 4)});
  run();
  auto third = read_object(9);
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  complete(make_fill("created", 1, deps_of_object(9, 7)));
  run();
  BOOST_TEST(third->answer->found);
  BOOST_TEST(third->body() == "created");
}

BOOST_AUTO_TEST_CASE(min_seq_catches_up_from_commit_log) {
  BOOST_TEST_MESSAGE("object 1 is cached at seq 0");
  read_object(1);
  run();
  complete(make_fill("v1", 0, deps_of_object(1, 7)));
  run();
  BOOST_TEST_MESSAGE("commits 1 and 2 are in commit_log, but their "
                     "invalidations never reached the hub");
  db->log_commit(1, {row_key("category", 8)});
  db->log_commit(2, {row_key("category", 7)});
  auto fresh = read_object(1, 2);
  run();
  BOOST_TEST(db->commit_reads == 1u);
  BOOST_TEST(counters.catch_ups.load() == 1u);
  BOOST_TEST(cache().applied_seq() == 2u);
  BOOST_TEST_MESSAGE("the stale entry was evicted: the read waits for a fill");
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  BOOST_TEST(!fresh->done());
  complete(make_fill("v2", 2, deps_of_object(1, 7)));
  run();
  BOOST_TEST_REQUIRE(fresh->done());
  BOOST_TEST(fresh->body() == "v2");
  BOOST_TEST(fresh->answer->seq == 2u);
  BOOST_TEST_MESSAGE("a later batch that repeats commits 1..2 is ignored");
  commit(3, {row_key("category", 9)});
  run();
  BOOST_TEST(cache().applied_seq() == 3u);
  BOOST_TEST(cache().size() == 1u);
}

BOOST_AUTO_TEST_CASE(min_seq_waits_for_a_fill_that_is_new_enough) {
  BOOST_TEST_MESSAGE("a plain read starts a fill at seq 0");
  auto plain = read_object(1);
  run();
  BOOST_TEST_MESSAGE("commit 1 (unrelated) is applied; a read needs seq 1");
  commit(1, {row_key("category", 8)});
  run();
  auto strict = read_object(1, 1);
  run();
  BOOST_TEST(db->fills.size() == 1u); // It joined the fill in flight.
  complete(make_fill("at0", 0, deps_of_object(1, 7)));
  run();
  BOOST_TEST(plain->body() == "at0");
  BOOST_TEST_MESSAGE("the strict read is not answered from seq 0; it reads "
                     "again after a short pause");
  BOOST_TEST(!strict->done());
  BOOST_TEST(db->fills.empty());
  sched.advance_time(std::chrono::milliseconds{10});
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  complete(make_fill("at1", 1, deps_of_object(1, 7)));
  run();
  BOOST_TEST_REQUIRE(strict->done());
  BOOST_TEST(strict->body() == "at1");
  BOOST_TEST(strict->answer->seq >= 1u);
}

BOOST_AUTO_TEST_CASE(min_seq_read_gives_up_on_a_lagging_replica) {
  BOOST_TEST_MESSAGE("commit 1 is applied, but every fill reads seq 0");
  commit(1, {row_key("category", 8)});
  run();
  auto strict = read_object(1, 1);
  run();
  for (int i = 0; i < 100 && !strict->done(); ++i) {
    if (!db->fills.empty())
      complete(make_fill("at0", 0, deps_of_object(1, 7)));
    run();
    sched.advance_time(std::chrono::milliseconds{10});
    run();
  }
  BOOST_TEST_REQUIRE(strict->done());
  BOOST_TEST_REQUIRE(strict->error.has_value());
  BOOST_TEST(error_code(*strict->error) == ec::min_seq_timeout);
  BOOST_TEST(cache().size() == 0u);
}

BOOST_AUTO_TEST_CASE(min_seq_beyond_commit_log_times_out) {
  auto late = read_object(1, 100);
  run();
  BOOST_TEST(!late->done());
  fire_timeouts();
  fire_timeouts();
  BOOST_TEST_REQUIRE(late->done());
  BOOST_TEST_REQUIRE(late->error.has_value());
  BOOST_TEST(error_code(*late->error) == ec::min_seq_timeout);
}

BOOST_AUTO_TEST_CASE(a_dying_actor_fails_its_waiting_reads) {
  auto pending = read_object(1);
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  caf::anon_send_exit(actor, caf::exit_reason::kill);
  run();
  BOOST_TEST_REQUIRE(pending->done());
  BOOST_TEST_REQUIRE(pending->error.has_value());
  BOOST_TEST(error_code(*pending->error) == ec::actor_unavailable);
}

BOOST_AUTO_TEST_CASE(a_fault_hook_fails_the_actor_with_its_reads_pending) {
  BOOST_TEST_MESSAGE("an actor whose fault strikes on its second read");
  auto faults = std::make_shared<nth_read_fails>(2);
  query_actor_config cfg;
  cfg.counters = shared_counters;
  cfg.faults = faults;
  auto faulty = sys.spawn(query_actor_impl, cfg,
                          caf::actor_cast<reader_actor>(reader), hub);
  run();
  BOOST_TEST(faults->query_actors == 1u);
  auto q = item_query("objects", 1);
  auto first = send_read(sys, faulty, {q, cache_key(q), 0});
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  BOOST_TEST(!terminated(faulty));
  BOOST_TEST_MESSAGE("the second read joins the fill, then the actor fails");
  auto second = send_read(sys, faulty, {q, cache_key(q), 0});
  run();
  BOOST_TEST(terminated(faulty));
  for (auto& read : {first, second}) {
    BOOST_TEST_REQUIRE(read->error.has_value());
    BOOST_TEST(error_code(*read->error) == ec::actor_unavailable);
  }
  db->fills.clear(); // The dead actor's fill.
  BOOST_TEST_MESSAGE("the actor without faults is untouched");
  auto other = read_object(1);
  run();
  complete(make_fill("v", 0, deps_of_object(1, 7)));
  run();
  BOOST_TEST(other->body() == "v");
}

BOOST_FIXTURE_TEST_CASE(an_evicted_entry_that_was_read_is_read_again,
                        refreshing) {
  cache_object(1, true);
  BOOST_TEST_MESSAGE("commit 1 changes object 1: the actor reads it again");
  commit(1, {row_key("top_level_object", 1)});
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  BOOST_TEST(cache_key(db->fills[0].q) == cache_key(item_query("objects", 1)));
  BOOST_TEST(counters.cache_refreshes.load() == 1u);
  complete(make_fill("v2", 1, deps_of_object(1, 7)));
  run();
  BOOST_TEST_MESSAGE("the next read hits, with the new view");
  auto after = read_object(1);
  run();
  BOOST_TEST_REQUIRE(after->done());
  BOOST_TEST(after->body() == "v2");
  BOOST_TEST(after->answer->seq == 1u);
  BOOST_TEST(counters.total(&node_counters::view_reads::cache_misses) == 1u);
  BOOST_TEST(counters.total(&node_counters::view_reads::cache_hits) == 2u);
}

BOOST_FIXTURE_TEST_CASE(an_evicted_entry_nobody_read_is_only_evicted,
                        refreshing) {
  cache_object(1, false);
  cache_object(2, true);
  BOOST_TEST_MESSAGE("category 7 changes: only object 2 was read since its "
                     "fill, so only object 2 is read again");
  commit(1, {row_key("category", 7)});
  run();
  BOOST_TEST(cache().size() == 0u);
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  BOOST_TEST(cache_key(db->fills[0].q) == cache_key(item_query("objects", 2)));
  BOOST_TEST(counters.cache_refreshes.load() == 1u);
  complete(make_fill("v2", 1, deps_of_object(2, 7)));
  run();
  BOOST_TEST(cache().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_read_during_the_refresh_joins_it, refreshing) {
  cache_object(1, true);
  commit(1, {row_key("top_level_object", 1)});
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  auto during = read_object(1);
  run();
  BOOST_TEST(!during->done());
  BOOST_TEST(db->fills.size() == 1u);
  BOOST_TEST(counters.single_flight_merges.load() == 1u);
  complete(make_fill("v2", 1, deps_of_object(1, 7)));
  run();
  BOOST_TEST_REQUIRE(during->done());
  BOOST_TEST(during->body() == "v2");
}

BOOST_FIXTURE_TEST_CASE(a_refresh_overtaken_by_a_commit_is_not_cached,
                        refreshing) {
  cache_object(1, true);
  commit(1, {row_key("top_level_object", 1)});
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  BOOST_TEST_MESSAGE("commit 2 changes object 1 again before the read again "
                     "of commit 1 returns");
  commit(2, {row_key("top_level_object", 1)});
  run();
  complete(make_fill("v2", 1, deps_of_object(1, 7)));
  run();
  BOOST_TEST(counters.stale_fills_refused.load() == 1u);
  BOOST_TEST(cache().size() == 0u);
  BOOST_TEST_MESSAGE("so the next read misses and sees commit 2");
  auto after = read_object(1);
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  complete(make_fill("v3", 2, deps_of_object(1, 7)));
  run();
  BOOST_TEST(after->body() == "v3");
}

BOOST_AUTO_TEST_CASE(without_refresh_an_evicted_entry_waits_for_a_read) {
  cache_object(1, true);
  commit(1, {row_key("top_level_object", 1)});
  run();
  BOOST_TEST(db->fills.empty());
  BOOST_TEST(counters.cache_refreshes.load() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
