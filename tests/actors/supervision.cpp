// Deterministic tests of the query supervisor: a killed query actor is
// respawned with an empty cache while reads keep being answered, and the
// node gives up past the restart limit.
#include <boost/test/unit_test.hpp>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/command_node.hpp"
#include "actors/invalidation_hub.hpp"
#include "actors/query_supervisor.hpp"
#include "common/error.hpp"
#include "fixtures/deterministic.hpp"
#include "fixtures/objects_domain.hpp"
#include "model/row_key.hpp"

using namespace cqrs;
using namespace cqrs::test;

namespace {

struct fixture : deterministic_system {
  fixture() {
    reader = spawn_scripted_reader(sys, db);
    invalidation_hub_config hub_cfg;
    hub_cfg.counters = shared_counters;
    hub = sys.spawn(invalidation_hub_impl, hub_cfg,
                    caf::actor_cast<reader_actor>(reader));
    // Linked to a command node at seq 0: query actors may cache.
    caf::anon_send(hub, atom::connected_v, seq_t{0});
    query_supervisor_config cfg;
    cfg.actors = 2;
    cfg.actor.counters = shared_counters;
    cfg.supervision.max_restarts = 2;
    cfg.supervision.window = std::chrono::seconds{60};
    cfg.supervision.on_give_up = [this](const std::string& why) {
      gave_up = why;
    };
    supervisor = sys.spawn(query_supervisor_impl, cfg,
                           caf::actor_cast<reader_actor>(reader), hub, routes);
    run();
  }

  ~fixture() override {
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(reader, caf::exit_reason::user_shutdown);
    run();
  }

  /// Reads object `id` through the actor the routing table picks, as the
  /// gateway does.
  std::shared_ptr<read_outcome> read_object(row_id id) {
    auto q = item_query("objects", id);
    read_request req{q, cache_key(q), 0};
    auto target = routes->pick(req.key);
    BOOST_REQUIRE(target);
    return send_read(sys, target.actor, req);
  }

  /// Answers every pending fill with a found view.
  void complete_fills() {
    while (!db->fills.empty()) {
      auto id = db->fills.front().q.id;
      caf::anon_send(reader, atom::apply_v,
                     make_fill("object " + std::to_string(id), 0,
                               {row_key("top_level_object", id)}));
      run();
    }
  }

  query_actor actor_at(size_t index) {
    auto table = routes->snapshot();
    BOOST_REQUIRE(index < table->size());
    return (*table)[index].actor;
  }

  std::shared_ptr<scripted_db> db = std::make_shared<scripted_db>();
  std::shared_ptr<node_counters> shared_counters =
      std::make_shared<node_counters>();
  node_counters& counters = *shared_counters;
  scripted_reader_actor reader;
  hub_actor hub;
  std::shared_ptr<query_routes> routes =
      std::make_shared<query_routes>(routing_policy::round_robin);
  query_supervisor_actor supervisor;
  std::optional<std::string> gave_up;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(supervision, fixture)

BOOST_AUTO_TEST_CASE(killed_query_actor_is_respawned_and_reads_go_on) {
  BOOST_TEST_REQUIRE(routes->snapshot()->size() == 2u);
  BOOST_TEST(counters.query_actors.load() == 2u);
  BOOST_TEST_MESSAGE("both actors answer and cache object 1");
  for (int i = 0; i < 2; ++i) {
    auto r = read_object(1);
    run();
    complete_fills();
    BOOST_TEST_REQUIRE(r->answer.has_value());
  }
  auto first = actor_at(0);
  BOOST_TEST_MESSAGE("a read is in flight on actor 0 when it is killed");
  auto in_flight = read_object(2); // round robin: actor 0
  run();
  BOOST_TEST_REQUIRE(db->fills.size() == 1u);
  caf::anon_send_exit(first, caf::exit_reason::kill);
  run();
  BOOST_TEST_REQUIRE(in_flight->error.has_value());
  BOOST_TEST(error_code(*in_flight->error) == ec::actor_unavailable);
  db->fills.clear(); // The dead actor's fill.
  BOOST_TEST_MESSAGE("the supervisor put a fresh actor in its slot");
  BOOST_TEST(counters.query_actor_restarts.load() == 1u);
  BOOST_TEST((actor_at(0) != first));
  BOOST_TEST(!gave_up.has_value());
  BOOST_TEST_MESSAGE("reads through both slots are answered again");
  for (int i = 0; i < 4; ++i) {
    auto r = read_object(2);
    run();
    complete_fills();
    BOOST_TEST_REQUIRE(r->answer.has_value());
    BOOST_TEST(*r->answer->body == "object 2");
  }
  BOOST_TEST_MESSAGE("the new actor started with an empty cache");
  auto table = routes->snapshot();
  BOOST_TEST_REQUIRE(table->size() == 2u);
  for (const auto& route : *table)
    BOOST_TEST_REQUIRE(!terminated(route.actor));
  BOOST_TEST((*table)[0].cache->size() == 1u); // object 2 only
  BOOST_TEST((*table)[1].cache->size() == 2u); // objects 1 and 2
}

BOOST_AUTO_TEST_CASE(past_the_restart_limit_the_node_gives_up) {
  for (int i = 0; i < 2; ++i) {
    caf::anon_send_exit(actor_at(0), caf::exit_reason::kill);
    run();
    BOOST_TEST(!gave_up.has_value());
  }
  BOOST_TEST(counters.query_actor_restarts.load() == 2u);
  BOOST_TEST_MESSAGE("the third death within the window exceeds the budget");
  caf::anon_send_exit(actor_at(1), caf::exit_reason::kill);
  run();
  BOOST_TEST_REQUIRE(gave_up.has_value());
  BOOST_TEST(gave_up->find("query actor died too often") != std::string::npos);
  BOOST_TEST(counters.query_actor_restarts.load() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
