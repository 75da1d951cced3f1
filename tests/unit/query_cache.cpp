// Unit tests of the query actors' cache: LRU bound, reverse index,
// table-wide and column dependencies, negative entries, `touches()`, and the
// shared cache that HTTP threads answer hits from.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/query_cache.hpp"
#include "model/row_key.hpp"
#include "model/value.hpp"

using namespace cqrs;

namespace {

using keys = std::vector<std::string>;

/// Builds cache entries and checks which keys a cache holds.
struct fixture {
  /// Returns a found entry with `body`, read at `seq`, depending on `deps`.
  static cqrs::query_cache::entry found(const std::string& body, keys deps,
                                        seq_t seq = 1) {
    cqrs::query_cache::entry result;
    result.found = true;
    result.body = std::make_shared<const std::string>(body);
    result.read_seq = seq;
    result.dependencies = std::move(deps);
    return result;
  }

  /// Returns a negative entry (a 404) depending on `deps`.
  static cqrs::query_cache::entry missing(keys deps, seq_t seq = 1) {
    cqrs::query_cache::entry result;
    result.found = false;
    result.read_seq = seq;
    result.dependencies = std::move(deps);
    return result;
  }

  /// Caches `value` under `key` as a fill that no batch overtook; returns
  /// how many entries it evicted for room.
  static size_t fill(shared_query_cache& cache, const std::string& key,
                     cqrs::query_cache::entry value) {
    size_t evicted = 0;
    cache.finish_fill(cache.start_fill(), key, std::move(value), evicted);
    return evicted;
  }

  /// Applies the batch of commits `seq` that changed `changed`, as the hub
  /// does; returns how many entries it evicted.
  static size_t invalidate(shared_query_cache& cache, keys changed, seq_t seq) {
    return cache.apply(
        cache_invalidation::of(invalidation{seq, seq, std::move(changed)}));
  }

  /// Whether `cache` holds `key`. Note: refreshes the key's recency.
  static bool holds(cqrs::query_cache& cache, const std::string& key) {
    return cache.find(key) != nullptr;
  }

  /// Returns the body of `key`, or "<none>".
  static std::string body_of(cqrs::query_cache& cache, const std::string& key) {
    auto x = cache.find(key);
    if (x == nullptr)
      return "<none>";
    if (x->body == nullptr)
      return "<null>";
    return *x->body;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(query_cache, fixture)

// -- find and insert ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(find_on_empty_cache_misses) {
  cqrs::query_cache cache{10};
  BOOST_TEST(cache.size() == 0u);
  BOOST_TEST(cache.max_entries() == 10u);
  BOOST_TEST(cache.find("object/1") == nullptr);
  BOOST_TEST(cache.find("") == nullptr);
}

BOOST_AUTO_TEST_CASE(insert_then_find_returns_the_entry) {
  cqrs::query_cache cache{10};
  BOOST_TEST(cache.insert("object/1",
                          found("{\"id\":1}",
                                {"top_level_object:1", "category:7"}, 42)) ==
             0u);
  BOOST_TEST(cache.size() == 1u);
  auto x = cache.find("object/1");
  BOOST_REQUIRE(x != nullptr);
  BOOST_TEST(x->found);
  BOOST_REQUIRE(x->body != nullptr);
  BOOST_TEST(*x->body == "{\"id\":1}");
  BOOST_TEST(x->read_seq == 42u);
  BOOST_TEST(x->dependencies == (keys{"top_level_object:1", "category:7"}),
             boost::test_tools::per_element());
  BOOST_TEST(cache.find("object/2") == nullptr);
  BOOST_TEST(cache.find("object/10") == nullptr);
}

BOOST_AUTO_TEST_CASE(cached_body_is_shared_not_copied) {
  cqrs::query_cache cache{10};
  auto entry = found("body", {"category:1"});
  auto body = entry.body;
  cache.insert("category/1", std::move(entry));
  auto x = cache.find("category/1");
  BOOST_REQUIRE(x != nullptr);
  BOOST_TEST(x->body.get() == body.get());
}

// -- LRU order and the size bound --------------------------------------------

BOOST_AUTO_TEST_CASE(insert_beyond_bound_evicts_least_recently_used) {
  cqrs::query_cache cache{3};
  BOOST_TEST(cache.insert("a", found("A", {"category:1"})) == 0u);
  BOOST_TEST(cache.insert("b", found("B", {"category:2"})) == 0u);
  BOOST_TEST(cache.insert("c", found("C", {"category:3"})) == 0u);
  BOOST_TEST(cache.size() == 3u);
  BOOST_TEST(cache.insert("d", found("D", {"category:4"})) == 1u);
  BOOST_TEST(cache.size() == 3u);
  BOOST_TEST(!holds(cache, "a"));
  BOOST_TEST(holds(cache, "b"));
  BOOST_TEST(holds(cache, "c"));
  BOOST_TEST(holds(cache, "d"));
}

BOOST_AUTO_TEST_CASE(find_refreshes_recency) {
  cqrs::query_cache cache{3};
  cache.insert("a", found("A", {}));
  cache.insert("b", found("B", {}));
  cache.insert("c", found("C", {}));
  BOOST_REQUIRE(cache.find("a") != nullptr);
  BOOST_TEST(cache.insert("d", found("D", {})) == 1u);
  BOOST_TEST(!holds(cache, "b"));
  // Recency is now d, a, c: "c" is the oldest and goes next.
  BOOST_TEST(cache.insert("e", found("E", {})) == 1u);
  BOOST_TEST(cache.size() == 3u);
  BOOST_TEST(cache.find("c") == nullptr);
  BOOST_TEST(cache.find("a") != nullptr);
  BOOST_TEST(cache.find("d") != nullptr);
  BOOST_TEST(cache.find("e") != nullptr);
}

BOOST_AUTO_TEST_CASE(eviction_follows_lru_order_exactly) {
  cqrs::query_cache cache{4};
  for (auto key : {"k1", "k2", "k3", "k4"})
    cache.insert(key, found(key, {}));
  // Touch in the order k3, k1: recency is k1, k3, k4, k2.
  cache.find("k3");
  cache.find("k1");
  cache.insert("k5", found("k5", {}));
  BOOST_TEST(cache.find("k2") == nullptr);
  cache.insert("k6", found("k6", {}));
  // The probe of k2 did not change anything; next oldest was k4.
  BOOST_TEST(cache.find("k4") == nullptr);
  BOOST_TEST(cache.size() == 4u);
  for (auto key : {"k1", "k3", "k5", "k6"})
    BOOST_TEST(holds(cache, key), key << " missing");
}

BOOST_AUTO_TEST_CASE(cache_of_one_entry) {
  cqrs::query_cache cache{1};
  cache.insert("a", found("A", {"category:1"}));
  BOOST_TEST(cache.insert("b", found("B", {"category:2"})) == 1u);
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(!holds(cache, "a"));
  BOOST_TEST(body_of(cache, "b") == "B");
  // The evicted entry left nothing behind in the reverse index.
  BOOST_TEST(cache.invalidate({"category:1"}) == 0u);
  BOOST_TEST(cache.size() == 1u);
}

// -- replacing an entry -------------------------------------------------------

BOOST_AUTO_TEST_CASE(replace_updates_value_without_growing) {
  cqrs::query_cache cache{3};
  cache.insert("a", found("old", {"category:1"}, 5));
  BOOST_TEST(cache.insert("a", found("new", {"category:1"}, 9)) == 0u);
  BOOST_TEST(cache.size() == 1u);
  auto x = cache.find("a");
  BOOST_REQUIRE(x != nullptr);
  BOOST_TEST(*x->body == "new");
  BOOST_TEST(x->read_seq == 9u);
}

BOOST_AUTO_TEST_CASE(replace_in_a_full_cache_evicts_nothing) {
  cqrs::query_cache cache{2};
  cache.insert("a", found("A", {}));
  cache.insert("b", found("B", {}));
  BOOST_TEST(cache.insert("b", found("B2", {})) == 0u);
  BOOST_TEST(cache.size() == 2u);
  BOOST_TEST(holds(cache, "a"));
  BOOST_TEST(body_of(cache, "b") == "B2");
}

BOOST_AUTO_TEST_CASE(replace_refreshes_recency) {
  cqrs::query_cache cache{3};
  cache.insert("a", found("A", {}));
  cache.insert("b", found("B", {}));
  cache.insert("c", found("C", {}));
  cache.insert("a", found("A2", {}));
  cache.insert("d", found("D", {}));
  BOOST_TEST(!holds(cache, "b"));
  BOOST_TEST(body_of(cache, "a") == "A2");
}

BOOST_AUTO_TEST_CASE(replace_updates_dependencies) {
  cqrs::query_cache cache{10};
  cache.insert("object/1", found("v1", {"top_level_object:1", "category:1"}));
  cache.insert("object/1", found("v2", {"top_level_object:1", "category:2"}));
  BOOST_TEST_MESSAGE("the old dependency no longer evicts the entry");
  BOOST_TEST(cache.invalidate({"category:1"}) == 0u);
  BOOST_TEST(body_of(cache, "object/1") == "v2");
  BOOST_TEST_MESSAGE("the new dependency does");
  BOOST_TEST(cache.invalidate({"category:2"}) == 1u);
  BOOST_TEST(!holds(cache, "object/1"));
  BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(replace_keeps_shared_dependencies) {
  cqrs::query_cache cache{10};
  cache.insert("object/1", found("v1", {"top_level_object:1", "category:1"}));
  cache.insert("object/1", found("v2", {"top_level_object:1"}));
  BOOST_TEST(cache.invalidate({"category:1"}) == 0u);
  BOOST_TEST(cache.invalidate({"top_level_object:1"}) == 1u);
  BOOST_TEST(cache.size() == 0u);
}

// -- invalidation through the reverse index ----------------------------------

BOOST_AUTO_TEST_CASE(invalidate_evicts_exactly_the_dependents) {
  cqrs::query_cache cache{100};
  cache.insert("object/1", found("o1", {"top_level_object:1", "child_object:1",
                                        "related_object:3", "category:7"}));
  cache.insert("object/2", found("o2", {"top_level_object:2", "child_object:2",
                                        "related_object:4", "category:7"}));
  cache.insert("object/3", found("o3", {"top_level_object:3", "child_object:3",
                                        "related_object:3", "category:8"}));
  cache.insert("category/7", found("c7", {"category:7"}));
  cache.insert("category/70", found("c70", {"category:70"}));
  cache.insert("related_object/7", found("r7", {"related_object:7"}));
  BOOST_TEST(cache.size() == 6u);
  BOOST_TEST(cache.invalidate({"category:7"}) == 3u);
  BOOST_TEST(cache.size() == 3u);
  BOOST_TEST(!holds(cache, "object/1"));
  BOOST_TEST(!holds(cache, "object/2"));
  BOOST_TEST(!holds(cache, "category/7"));
  BOOST_TEST(holds(cache, "object/3"));
  BOOST_TEST(holds(cache, "category/70"));
  BOOST_TEST(holds(cache, "related_object/7"));
  BOOST_TEST_MESSAGE("a second invalidation finds nothing left");
  BOOST_TEST(cache.invalidate({"category:7"}) == 0u);
  BOOST_TEST(cache.size() == 3u);
}

BOOST_AUTO_TEST_CASE(two_objects_in_one_category) {
  cqrs::query_cache cache{100};
  cache.insert("object/1", found("o1", {"top_level_object:1", "category:7"}));
  cache.insert("object/2", found("o2", {"top_level_object:2", "category:7"}));
  cache.insert("object/3", found("o3", {"top_level_object:3", "category:8"}));
  BOOST_TEST(cache.invalidate({"category:7"}) == 2u);
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(holds(cache, "object/3"));
  BOOST_TEST(cache.invalidate({"category:8"}) == 1u);
  BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(entry_hit_by_several_keys_counts_once) {
  cqrs::query_cache cache{10};
  cache.insert("object/1", found("o1", {"top_level_object:1",
                                        "related_object:3", "category:7"}));
  cache.insert("object/2", found("o2", {"top_level_object:2", "category:9"}));
  BOOST_TEST(cache.invalidate({"category:7", "related_object:3",
                               "top_level_object:1"}) == 1u);
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(holds(cache, "object/2"));
}

BOOST_AUTO_TEST_CASE(invalidate_with_several_keys_sums_evictions) {
  cqrs::query_cache cache{10};
  cache.insert("category/1", found("c1", {"category:1"}));
  cache.insert("category/2", found("c2", {"category:2"}));
  cache.insert("category/3", found("c3", {"category:3"}));
  BOOST_TEST(cache.invalidate({"category:1", "category:3", "category:4"}) ==
             2u);
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(holds(cache, "category/2"));
}

BOOST_AUTO_TEST_CASE(row_keys_match_exactly_not_by_prefix) {
  cqrs::query_cache cache{10};
  cache.insert("category/1", found("c1", {"category:1"}));
  cache.insert("category/10", found("c10", {"category:10"}));
  cache.insert("related_object/1", found("r1", {"related_object:1"}));
  BOOST_TEST(cache.invalidate({"category:1"}) == 1u);
  BOOST_TEST(holds(cache, "category/10"));
  BOOST_TEST(holds(cache, "related_object/1"));
  BOOST_TEST(cache.invalidate({"category:100", "object:1", "category"}) == 0u);
  BOOST_TEST(cache.size() == 2u);
}

BOOST_AUTO_TEST_CASE(invalidate_of_nothing_evicts_nothing) {
  cqrs::query_cache cache{10};
  BOOST_TEST(cache.invalidate({}) == 0u);
  BOOST_TEST(cache.invalidate({"category:1"}) == 0u);
  cache.insert("category/1", found("c1", {"category:1"}));
  BOOST_TEST(cache.invalidate({}) == 0u);
  BOOST_TEST(cache.invalidate({"category:2", ""}) == 0u);
  BOOST_TEST(cache.size() == 1u);
}

BOOST_AUTO_TEST_CASE(entry_without_dependencies_is_never_invalidated) {
  cqrs::query_cache cache{10};
  cache.insert("status", found("s", {}));
  BOOST_TEST(cache.invalidate({"category:1", "top_level_object:1"}) == 0u);
  BOOST_TEST(holds(cache, "status"));
}

BOOST_AUTO_TEST_CASE(table_wide_dependencies) {
  cqrs::query_cache cache{10};
  auto list_deps =
      keys{table_key("top_level_object"), table_key("child_object")};
  cache.insert("objects?category_id=0&after=0&limit=50",
               found("page1", list_deps));
  cache.insert("objects?category_id=7&after=0&limit=50",
               found("page2", list_deps));
  cache.insert("object/5", found("o5", {"top_level_object:5", "category:7"}));
  cache.insert("category/3", found("c3", {"category:3"}));
  BOOST_TEST_MESSAGE("a change to another table leaves the lists alone");
  BOOST_TEST(cache.invalidate({"category:3"}) == 1u);
  BOOST_TEST(cache.size() == 3u);
  BOOST_TEST_MESSAGE("any object row evicts every table-wide dependent");
  BOOST_TEST(cache.invalidate({row_key("top_level_object", 9)}) == 2u);
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(holds(cache, "object/5"));
  BOOST_TEST_MESSAGE("and the direct dependent of that row as well");
  cache.insert("objects?category_id=0&after=0&limit=50",
               found("page1", list_deps));
  BOOST_TEST(cache.invalidate({"top_level_object:5"}) == 2u);
  BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(table_wide_dependency_via_child_rows) {
  cqrs::query_cache cache{10};
  cache.insert("objects?category_id=0&after=0&limit=50",
               found("page", {"top_level_object:*", "child_object:*"}));
  BOOST_TEST(cache.invalidate({"child_object:41"}) == 1u);
  BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(invalidating_a_table_key_evicts_table_dependents) {
  cqrs::query_cache cache{10};
  cache.insert("list", found("page", {"top_level_object:*"}));
  BOOST_TEST(cache.invalidate({"top_level_object:*"}) == 1u);
  BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(column_keys_evict_exactly_their_row_set) {
  // A page filtered by category depends on "the children in category N"; a
  // commit names that set for the old and the new value of the column.
  cqrs::query_cache cache{10};
  auto in_category = [](int64_t id) {
    return column_key("child_object", "category_id",
                      field_value::of_integer(id));
  };
  auto text_set =
      column_key("child_object", "access_code", field_value::of_text("a:b/c"));
  cache.insert("page7", found("p7", {in_category(7)}));
  cache.insert("page70", found("p70", {in_category(70)}));
  cache.insert("coded", found("c", {text_set}));
  BOOST_TEST_MESSAGE("a row key alone names no row set");
  BOOST_TEST(cache.invalidate({row_key("child_object", 7)}) == 0u);
  BOOST_TEST(cache.invalidate({table_key("child_object")}) == 0u);
  BOOST_TEST(cache.size() == 3u);
  BOOST_TEST_MESSAGE("a value matches exactly, not by prefix");
  BOOST_TEST(cache.invalidate({in_category(7)}) == 1u);
  BOOST_TEST(holds(cache, "page70"));
  BOOST_TEST(cache.invalidate({column_key("child_object", "access_code",
                                          field_value::of_text("a"))}) == 0u);
  BOOST_TEST(cache.invalidate({text_set}) == 1u);
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(holds(cache, "page70"));
}

// -- negative entries ---------------------------------------------------------

BOOST_AUTO_TEST_CASE(negative_entries_are_cached_and_evicted_by_their_key) {
  cqrs::query_cache cache{10};
  cache.insert("category/42", missing({"category:42"}, 3));
  cache.insert("object/42", missing({"top_level_object:42"}, 3));
  auto x = cache.find("category/42");
  BOOST_REQUIRE(x != nullptr);
  BOOST_TEST(!x->found);
  BOOST_TEST(x->read_seq == 3u);
  BOOST_TEST_MESSAGE("an unrelated change keeps the negative entry");
  BOOST_TEST(cache.invalidate({"category:41"}) == 0u);
  BOOST_TEST(holds(cache, "category/42"));
  BOOST_TEST_MESSAGE("creating the row evicts it");
  BOOST_TEST(cache.invalidate({"category:42"}) == 1u);
  BOOST_TEST(cache.find("category/42") == nullptr);
  BOOST_TEST(holds(cache, "object/42"));
  BOOST_TEST(cache.invalidate({"top_level_object:42"}) == 1u);
  BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(negative_entry_replaced_by_positive) {
  cqrs::query_cache cache{10};
  cache.insert("category/42", missing({"category:42"}, 3));
  cache.insert("category/42", found("c42", {"category:42"}, 4));
  auto x = cache.find("category/42");
  BOOST_REQUIRE(x != nullptr);
  BOOST_TEST(x->found);
  BOOST_TEST(x->read_seq == 4u);
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(cache.invalidate({"category:42"}) == 1u);
}

// -- clear --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(clear_drops_everything) {
  cqrs::query_cache cache{10};
  cache.insert("category/1", found("c1", {"category:1"}));
  cache.insert("object/1", found("o1", {"top_level_object:1", "category:1"}));
  cache.insert("category/2", missing({"category:2"}));
  cache.clear();
  BOOST_TEST(cache.size() == 0u);
  BOOST_TEST(cache.max_entries() == 10u);
  BOOST_TEST(cache.find("category/1") == nullptr);
  BOOST_TEST(cache.find("object/1") == nullptr);
  BOOST_TEST(cache.find("category/2") == nullptr);
  BOOST_TEST(cache.invalidate({"category:1", "category:2"}) == 0u);
  BOOST_TEST_MESSAGE("the cache works normally after clear");
  cache.insert("category/1", found("c1b", {"category:9"}));
  BOOST_TEST(cache.invalidate({"category:1"}) == 0u);
  BOOST_TEST(body_of(cache, "category/1") == "c1b");
  BOOST_TEST(cache.invalidate({"category:9"}) == 1u);
  for (int i = 0; i < 10; ++i)
    BOOST_TEST(cache.insert("k" + std::to_string(i), found("x", {})) == 0u);
  BOOST_TEST(cache.insert("k10", found("x", {})) == 1u);
}

// -- the bound under load -----------------------------------------------------

BOOST_AUTO_TEST_CASE(bound_holds_and_reverse_index_does_not_leak) {
  cqrs::query_cache cache{100};
  size_t evicted_by_insert = 0;
  BOOST_TEST_MESSAGE("insert 1000 distinct keys into a cache of 100");
  for (int i = 0; i < 1000; ++i) {
    evicted_by_insert += cache.insert(
        "object/" + std::to_string(i),
        found("o", {row_key("top_level_object", i), "category:1"}));
    BOOST_TEST_REQUIRE(cache.size() <= 100u);
  }
  BOOST_TEST(cache.size() == 100u);
  BOOST_TEST(evicted_by_insert == 900u);
  BOOST_TEST_MESSAGE("the newest 100 survive");
  for (int i = 0; i < 1000; ++i)
    BOOST_TEST(holds(cache, "object/" + std::to_string(i)) == (i >= 900),
               "object/" << i);
  BOOST_TEST_MESSAGE("evicted keys reinserted with other dependencies are "
                     "not hit by their old ones");
  cqrs::query_cache small{100};
  for (int i = 0; i < 200; ++i)
    small.insert("object/" + std::to_string(i),
                 found("o", {row_key("top_level_object", i)}));
  small.insert("object/0", found("again", {"category:500"}));
  // "object/0" pushed out "object/100", the oldest then.
  BOOST_TEST(small.invalidate({"top_level_object:0"}) == 0u);
  BOOST_TEST(body_of(small, "object/0") == "again");
  size_t evicted_by_invalidate = 0;
  for (int i = 0; i < 200; ++i)
    evicted_by_invalidate += small.invalidate({row_key("top_level_object", i)});
  BOOST_TEST(evicted_by_invalidate == 99u);
  BOOST_TEST(small.size() == 1u);
  BOOST_TEST(small.invalidate({"category:500"}) == 1u);
  BOOST_TEST(small.size() == 0u);
  BOOST_TEST_MESSAGE("invalidating every row key evicts only live entries");
  size_t evicted_total = 0;
  for (int i = 0; i < 1000; ++i) {
    auto n = cache.invalidate({row_key("top_level_object", i)});
    BOOST_TEST(n == (i >= 900 ? 1u : 0u), "top_level_object:" << i);
    evicted_total += n;
  }
  BOOST_TEST(evicted_total == 100u);
  BOOST_TEST(cache.size() == 0u);
  BOOST_TEST(cache.invalidate({"category:1"}) == 0u);
}

BOOST_AUTO_TEST_CASE(shared_dependency_evicts_only_live_entries) {
  cqrs::query_cache cache{100};
  for (int i = 0; i < 1000; ++i)
    cache.insert("object/" + std::to_string(i),
                 found("o", {row_key("top_level_object", i), "category:1"}));
  BOOST_TEST(cache.invalidate({"category:1"}) == 100u);
  BOOST_TEST(cache.size() == 0u);
  size_t rest = 0;
  for (int i = 0; i < 1000; ++i)
    rest += cache.invalidate({row_key("top_level_object", i)});
  BOOST_TEST(rest == 0u);
}

BOOST_AUTO_TEST_CASE(repeated_replacement_does_not_grow) {
  cqrs::query_cache cache{5};
  for (int round = 0; round < 1000; ++round) {
    auto key = "object/" + std::to_string(round % 5);
    BOOST_TEST_REQUIRE(
        cache.insert(key, found(std::to_string(round),
                                {"category:" + std::to_string(round)})) == 0u);
  }
  BOOST_TEST(cache.size() == 5u);
  // Only the last dependency of each key is still indexed.
  size_t evicted = 0;
  for (int round = 0; round < 995; ++round)
    evicted += cache.invalidate({"category:" + std::to_string(round)});
  BOOST_TEST(evicted == 0u);
  BOOST_TEST(cache.size() == 5u);
  for (int round = 995; round < 1000; ++round)
    evicted += cache.invalidate({"category:" + std::to_string(round)});
  BOOST_TEST(evicted == 5u);
  BOOST_TEST(cache.size() == 0u);
}

// -- shared with the HTTP threads ---------------------------------------------

BOOST_AUTO_TEST_CASE(shared_cache_serves_only_while_caching) {
  shared_query_cache cache{10};
  BOOST_TEST_MESSAGE("a new cache does not serve, nor cache");
  BOOST_TEST(fill(cache, "object:1", found("one", {"category:1"})) == 0u);
  BOOST_TEST(cache.size() == 0u);
  BOOST_TEST(!cache.hit("object:1"));
  cache.set_caching(true);
  fill(cache, "object:1", found("one", {"category:1"}, 3));
  auto a = cache.hit("object:1");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST(a->found);
  BOOST_TEST(*a->body == "one");
  BOOST_TEST(a->seq == 3u);
  BOOST_TEST_MESSAGE("switching caching off drops every entry");
  cache.set_caching(false);
  BOOST_TEST(!cache.hit("object:1"));
  BOOST_TEST(cache.size() == 0u);
  cache.set_caching(true);
  BOOST_TEST(!cache.hit("object:1"));
}

// -- refresh ------------------------------------------------------------------

namespace {

/// A found entry for object `id`, read at `seq`, that remembers the read
/// that filled it.
cqrs::query_cache::entry object_entry(row_id id, seq_t seq = 1) {
  auto e = fixture::found("object " + std::to_string(id),
                          {row_key("top_level_object", id)}, seq);
  e.q.id = id;
  return e;
}

/// Applies the batch of commit `seq` that changed object `id`; returns
/// whether the owner should be told of entries to read again.
bool change_object(shared_query_cache& cache, row_id id, seq_t seq) {
  bool due = false;
  cache.apply(cache_invalidation::of(
                  invalidation{seq, seq, {row_key("top_level_object", id)}}),
              &due);
  return due;
}

} // namespace

BOOST_AUTO_TEST_CASE(refresh_keeps_the_evicted_entries_that_were_read) {
  shared_query_cache cache{10, true, true};
  cache.set_caching(true);
  fill(cache, "object/1", object_entry(1));
  fill(cache, "object/2", object_entry(2));
  BOOST_TEST_REQUIRE(cache.hit("object/2").has_value());
  BOOST_TEST_MESSAGE("object 1 was never read: evicted only");
  BOOST_TEST(!change_object(cache, 1, 1));
  BOOST_TEST(cache.take_refreshes().empty());
  BOOST_TEST_MESSAGE("object 2 was read: evicted and kept to read again, "
                     "and the owner is told once");
  BOOST_TEST(change_object(cache, 2, 2));
  BOOST_TEST(cache.size() == 0u);
  fill(cache, "object/3", object_entry(3, 2));
  BOOST_TEST_REQUIRE(cache.hit("object/3").has_value());
  BOOST_TEST(!change_object(cache, 3, 3));
  auto again = cache.take_refreshes();
  BOOST_TEST_REQUIRE(again.size() == 2u);
  BOOST_TEST(again[0].id == 2);
  BOOST_TEST(again[1].id == 3);
  BOOST_TEST(cache.take_refreshes().empty());
  BOOST_TEST_MESSAGE("a refill starts unread: the next batch only evicts it");
  fill(cache, "object/2", object_entry(2, 3));
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(!change_object(cache, 2, 4));
  BOOST_TEST(cache.take_refreshes().empty());
}

BOOST_AUTO_TEST_CASE(without_refresh_nothing_is_kept_to_read_again) {
  shared_query_cache cache{10};
  cache.set_caching(true);
  fill(cache, "object/1", object_entry(1));
  BOOST_TEST_REQUIRE(cache.hit("object/1").has_value());
  BOOST_TEST(!change_object(cache, 1, 1));
  BOOST_TEST(cache.size() == 0u);
  BOOST_TEST(cache.take_refreshes().empty());
}

BOOST_AUTO_TEST_CASE(refreshes_are_bounded_and_dropped_with_the_cache) {
  const auto many = shared_query_cache::max_refreshes + 10;
  shared_query_cache cache{many, true, true};
  cache.set_caching(true);
  for (row_id id = 1; id <= static_cast<row_id>(many); ++id) {
    auto e = object_entry(id);
    e.dependencies.push_back(row_key("category", 1));
    fill(cache, "object/" + std::to_string(id), std::move(e));
    BOOST_TEST_REQUIRE(cache.hit("object/" + std::to_string(id)).has_value());
  }
  BOOST_TEST_MESSAGE("one batch evicts every entry: the first max_refreshes "
                     "are kept");
  bool due = false;
  cache.apply(
      cache_invalidation::of(invalidation{1, 1, {row_key("category", 1)}}),
      &due);
  BOOST_TEST(due);
  BOOST_TEST(cache.size() == 0u);
  BOOST_TEST(cache.take_refreshes().size() ==
             shared_query_cache::max_refreshes);
  BOOST_TEST_MESSAGE("queries not taken yet go when caching stops");
  fill(cache, "object/1", object_entry(1, 1));
  BOOST_TEST_REQUIRE(cache.hit("object/1").has_value());
  BOOST_TEST(change_object(cache, 1, 2));
  cache.set_caching(false);
  BOOST_TEST(cache.take_refreshes().empty());
}

BOOST_AUTO_TEST_CASE(shared_cache_hits_report_the_applied_seq) {
  shared_query_cache cache{10};
  cache.set_caching(true);
  fill(cache, "object:1", found("one", {"top_level_object:1"}, 2));
  fill(cache, "object:2", missing({"top_level_object:2"}, 2));
  cache.advance(5);
  BOOST_TEST(cache.hit("object:1")->seq == 5u);
  BOOST_TEST_MESSAGE("an unrelated invalidation advances the seq of hits");
  BOOST_TEST(invalidate(cache, {"category:9"}, 8) == 0u);
  BOOST_TEST(cache.hit("object:1")->seq == 8u);
  BOOST_TEST(!cache.hit("object:2")->found);
  BOOST_TEST_MESSAGE("a related one evicts, in the same step");
  BOOST_TEST(invalidate(cache, {"top_level_object:2"}, 9) == 1u);
  BOOST_TEST(!cache.hit("object:2"));
  BOOST_TEST(cache.hit("object:1")->seq == 9u);
  BOOST_TEST_MESSAGE("the seq never goes back");
  cache.advance(4);
  invalidate(cache, {}, 7);
  BOOST_TEST(cache.hit("object:1")->seq == 9u);
}

BOOST_AUTO_TEST_CASE(shared_cache_misses_reads_ahead_of_it) {
  shared_query_cache cache{10};
  cache.set_caching(true);
  cache.advance(4);
  fill(cache, "object:1", found("one", {"top_level_object:1"}, 4));
  BOOST_TEST(cache.hit("object:1", 4).has_value());
  BOOST_TEST(!cache.hit("object:1", 5));
  invalidate(cache, {"category:1"}, 5);
  BOOST_TEST(cache.hit("object:1", 5).has_value());
}

BOOST_AUTO_TEST_CASE(closed_shared_cache_never_serves_again) {
  shared_query_cache cache{10};
  cache.set_caching(true);
  fill(cache, "object:1", found("one", {"top_level_object:1"}));
  auto in_flight = cache.start_fill();
  cache.close();
  BOOST_TEST(!cache.hit("object:1"));
  BOOST_TEST(cache.size() == 0u);
  cache.set_caching(true);
  BOOST_TEST(fill(cache, "object:1", found("one", {"top_level_object:1"})) ==
             0u);
  BOOST_TEST(!cache.hit("object:1"));
  BOOST_TEST_MESSAGE("the hub may still apply batches until it hears the "
                     "actor died: a closed cache remembers none of them");
  invalidate(cache, {"top_level_object:1"}, 1);
  BOOST_TEST(cache.remembered_batches() == 0u);
  size_t evicted = 0;
  BOOST_TEST((cache.finish_fill(
                  in_flight, "object:1", found("one", {"top_level_object:1"}),
                  evicted) == shared_query_cache::fill_outcome::not_caching));
}

BOOST_AUTO_TEST_CASE(shared_cache_keeps_its_bound) {
  shared_query_cache cache{3};
  cache.set_caching(true);
  size_t evicted = 0;
  for (int i = 1; i <= 30; ++i)
    evicted += fill(cache, "object:" + std::to_string(i),
                    found("x", {"top_level_object:" + std::to_string(i)}));
  BOOST_TEST(cache.size() == 3u);
  BOOST_TEST(evicted == 27u);
  BOOST_TEST(cache.hit("object:30").has_value());
  BOOST_TEST(!cache.hit("object:1"));
}

BOOST_AUTO_TEST_CASE(
    shared_cache_never_serves_an_evicted_entry_across_threads) {
  // HTTP threads hit while the owner invalidates and refills: a hit must
  // never show a body older than the seq it reports.
  shared_query_cache cache{16};
  cache.set_caching(true);
  // Bounded in rounds; it stops early once the readers have checked enough
  // hits.
  constexpr seq_t max_seq = 4000000;
  constexpr uint64_t enough_hits = 200000;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> wrong{0};
  auto reader = [&] {
    while (!done.load()) {
      auto a = cache.hit("object:1");
      if (!a)
        continue;
      ++hits;
      // The body names the seq it was written at; the hit reports a seq
      // at least that new and no invalidation of object 1 since.
      auto written = static_cast<seq_t>(std::stoull(*a->body));
      if (written > a->seq || a->seq >= written + 2)
        ++wrong;
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i)
    readers.emplace_back(reader);
  for (seq_t seq = 1; seq <= max_seq && hits.load() < enough_hits; seq += 2) {
    // Commit `seq` changes object 1; commit `seq + 1` changes something
    // else. The refill of object 1 reads at `seq`.
    invalidate(cache, {"top_level_object:1"}, seq);
    fill(cache, "object:1",
         found(std::to_string(seq), {"top_level_object:1"}, seq));
    invalidate(cache, {"category:1"}, seq + 1);
  }
  done = true;
  for (auto& t : readers)
    t.join();
  BOOST_TEST(wrong.load() == 0u);
  BOOST_TEST(hits.load() > 0u);
  BOOST_TEST_MESSAGE(hits.load() << " concurrent hits checked");
}

// -- fills racing batches -----------------------------------------------------

BOOST_AUTO_TEST_CASE(fill_overtaken_by_a_batch_that_touches_it_is_refused) {
  shared_query_cache cache{10};
  cache.set_caching(true);
  BOOST_TEST_MESSAGE("a fill reads object 1 at seq 0, then commit 1 changes "
                     "its category before the fill returns");
  auto ticket = cache.start_fill();
  invalidate(cache, {"category:7"}, 1);
  BOOST_TEST(cache.remembered_batches() == 1u);
  size_t evicted = 0;
  auto outcome = cache.finish_fill(ticket, "object:1",
                                   found("old", {"category:7"}, 0), evicted);
  BOOST_TEST((outcome == shared_query_cache::fill_outcome::refused));
  BOOST_TEST(!cache.hit("object:1"));
  BOOST_TEST(cache.remembered_batches() == 0u);
}

BOOST_AUTO_TEST_CASE(
    fill_overtaken_by_unrelated_or_included_batches_is_cached) {
  shared_query_cache cache{10};
  cache.set_caching(true);
  size_t evicted = 0;
  BOOST_TEST_MESSAGE("commit 1 changes another category: no conflict");
  auto a = cache.start_fill();
  invalidate(cache, {"category:8"}, 1);
  BOOST_TEST(
      (cache.finish_fill(a, "object:1", found("v", {"category:7"}, 0),
                         evicted) == shared_query_cache::fill_outcome::cached));
  BOOST_TEST_MESSAGE("commit 2 changes the category, but the fill's snapshot "
                     "already shows it");
  auto b = cache.start_fill();
  invalidate(cache, {"category:9"}, 2);
  BOOST_TEST(
      (cache.finish_fill(b, "object:2", found("v", {"category:9"}, 2),
                         evicted) == shared_query_cache::fill_outcome::cached));
  BOOST_TEST(cache.hit("object:1").has_value());
  BOOST_TEST(cache.hit("object:2").has_value());
}

BOOST_AUTO_TEST_CASE(fill_older_than_the_applied_seq_is_refused) {
  // A lagging read replica: the snapshot predates batches applied before
  // the fill started, which are no longer remembered.
  shared_query_cache cache{10};
  cache.set_caching(true);
  invalidate(cache, {"category:7"}, 5);
  auto ticket = cache.start_fill();
  size_t evicted = 0;
  BOOST_TEST((cache.finish_fill(ticket, "object:1",
                                found("old", {"category:7"}, 4), evicted) ==
              shared_query_cache::fill_outcome::refused));
  BOOST_TEST(!cache.hit("object:1"));
}

BOOST_AUTO_TEST_CASE(fill_that_outlived_a_flush_is_refused) {
  // The hub flushes caches when it may have missed batches (lost command
  // node); those batches never reach the log, so a fill that started
  // before the flush is never cached, even once caching is back.
  shared_query_cache cache{10};
  cache.set_caching(true);
  auto ticket = cache.start_fill();
  cache.set_caching(false);
  cache.set_caching(true);
  size_t evicted = 0;
  BOOST_TEST((cache.finish_fill(ticket, "object:1",
                                found("v", {"category:7"}, 0), evicted) ==
              shared_query_cache::fill_outcome::refused));
  BOOST_TEST(!cache.hit("object:1"));
  BOOST_TEST_MESSAGE("a fill that started while bypassed is not cached");
  cache.set_caching(false);
  auto bypassed = cache.start_fill();
  BOOST_TEST((cache.finish_fill(bypassed, "object:1",
                                found("v", {"category:7"}, 0), evicted) ==
              shared_query_cache::fill_outcome::not_caching));
  cache.set_caching(true);
  BOOST_TEST(!cache.hit("object:1"));
}

BOOST_AUTO_TEST_CASE(disabled_cache_never_caches) {
  shared_query_cache cache{10, false};
  cache.set_caching(true);
  BOOST_TEST(fill(cache, "object:1", found("v", {"category:7"})) == 0u);
  BOOST_TEST(!cache.hit("object:1"));
  BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(batches_are_remembered_only_while_fills_need_them) {
  shared_query_cache cache{10};
  cache.set_caching(true);
  invalidate(cache, {"category:1"}, 1);
  BOOST_TEST(cache.remembered_batches() == 0u);
  auto older = cache.start_fill();
  invalidate(cache, {"category:2"}, 2);
  auto newer = cache.start_fill();
  invalidate(cache, {"category:3"}, 3);
  BOOST_TEST(cache.remembered_batches() == 2u);
  BOOST_TEST_MESSAGE("the newer fill only needs the batch after its start");
  cache.abandon_fill(older);
  BOOST_TEST(cache.remembered_batches() == 1u);
  size_t evicted = 0;
  BOOST_TEST((cache.finish_fill(newer, "object:1",
                                found("v", {"category:3"}, 2), evicted) ==
              shared_query_cache::fill_outcome::refused));
  BOOST_TEST(cache.remembered_batches() == 0u);
}

BOOST_AUTO_TEST_CASE(fills_racing_batches_never_leave_a_stale_entry) {
  // The protocol end to end, across threads: one writer commits to a
  // stand-in database and applies each batch (as the hub does), fillers
  // read the database outside the cache's lock and finish their fills, and
  // readers hit. Once the writer is done, every cached entry must show the
  // database's current value: a stale fill that slipped in would not.
  constexpr int objects = 8;
  constexpr seq_t commits = 20000;
  shared_query_cache cache{objects};
  cache.set_caching(true);
  std::mutex db_mtx;
  seq_t db_seq = 0;
  std::vector<seq_t> db_value(objects, 0);
  auto dep = [](int id) { return "top_level_object:" + std::to_string(id); };
  auto key = [](int id) { return "object:" + std::to_string(id); };
  std::atomic<bool> done{false};
  std::atomic<uint64_t> refused{0};
  auto filler = [&](int seed) {
    for (int round = 0; !done.load(); ++round) {
      auto id = (round * 7 + seed) % objects;
      auto ticket = cache.start_fill();
      seq_t read_seq = 0;
      seq_t value = 0;
      {
        std::lock_guard<std::mutex> guard{db_mtx};
        read_seq = db_seq;
        value = db_value[id];
      }
      std::this_thread::yield();
      size_t evicted = 0;
      if (cache.finish_fill(ticket, key(id),
                            found(std::to_string(value), {dep(id)}, read_seq),
                            evicted) ==
          shared_query_cache::fill_outcome::refused)
        ++refused;
    }
  };
  std::atomic<uint64_t> ahead{0};
  auto reader = [&] {
    while (!done.load())
      for (int id = 0; id < objects; ++id)
        if (auto a = cache.hit(key(id)); a && std::stoull(*a->body) > a->seq)
          ++ahead; // A body newer than the seq it claims.
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i)
    threads.emplace_back(filler, i);
  threads.emplace_back(reader);
  for (seq_t seq = 1; seq <= commits; ++seq) {
    auto id = static_cast<int>(seq % objects);
    {
      std::lock_guard<std::mutex> guard{db_mtx};
      db_seq = seq;
      db_value[id] = seq;
    }
    invalidate(cache, {dep(id)}, seq);
  }
  done = true;
  for (auto& t : threads)
    t.join();
  BOOST_TEST_MESSAGE(refused.load() << " stale fills refused");
  BOOST_TEST(ahead.load() == 0u);
  for (int id = 0; id < objects; ++id)
    if (auto a = cache.hit(key(id)))
      BOOST_TEST(*a->body == std::to_string(db_value[id]),
                 key(id) << " is cached stale");
  BOOST_TEST(cache.remembered_batches() == 0u);
}

// -- touches ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(touches_direct_dependencies) {
  keys deps{"top_level_object:1", "child_object:1", "category:7"};
  BOOST_TEST(touches({"category:7"}, deps));
  BOOST_TEST(touches({"related_object:9", "child_object:1"}, deps));
  BOOST_TEST(!touches({"category:8"}, deps));
  BOOST_TEST(!touches({"category:70", "category:"}, deps));
  BOOST_TEST(!touches({"related_object:7"}, deps));
}

BOOST_AUTO_TEST_CASE(touches_table_wide_dependencies) {
  keys deps{"top_level_object:*", "child_object:*"};
  BOOST_TEST(touches({"top_level_object:123"}, deps));
  BOOST_TEST(touches({"child_object:1"}, deps));
  BOOST_TEST(!touches({"category:1", "related_object:1"}, deps));
}

BOOST_AUTO_TEST_CASE(touches_nothing_when_empty) {
  BOOST_TEST(!touches({}, {"category:1"}));
  BOOST_TEST(!touches({"category:1"}, {}));
  BOOST_TEST(!touches({}, {}));
}

BOOST_AUTO_TEST_CASE(touches_agrees_with_invalidate) {
  std::vector<keys> dependencies{
      {"category:7"},
      {"top_level_object:*"},
      {"top_level_object:3", "category:8"},
      {"related_object:1"},
      {},
  };
  std::vector<keys> changes{{"category:7"},         {"category:8"},
                            {"top_level_object:3"}, {"related_object:2"},
                            {"top_level_object:*"}, {"child_object:1"},
                            {"related_object:1"},   {}};
  for (const auto& change : changes)
    for (const auto& deps : dependencies) {
      cqrs::query_cache cache{10};
      cache.insert("k", found("v", deps));
      bool evicted = cache.invalidate(change) == 1;
      BOOST_TEST(touches(change, deps) == evicted,
                 "touches and invalidate disagree");
    }
}

BOOST_AUTO_TEST_SUITE_END()
