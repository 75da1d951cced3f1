// Deterministic tests of the cluster link with a command node in the same
// process (`cluster_link_config::local`, as actors/node.cpp sets it on the
// command node): the hub is subscribed with the domain digest, a refused
// domain is reported and retried with backoff, and the hub hears
// `connected` and `disconnect` as the command node comes and goes. The
// command node and the hub are stand-ins that record what they are told.
//
// Left out: the remote path (`host`/`port`, plain or TLS). It connects
// through the CAF middleman's actor over real sockets, which the
// deterministic scheduler cannot drive; the cluster suites cover it with
// whole processes.
#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/cluster_link.hpp"
#include "actors/command_route.hpp"
#include "common/error.hpp"
#include "fixtures/deterministic.hpp"

using namespace cqrs;
using namespace cqrs::test;

namespace {

/// What the stand-in command node serves and what it was asked.
struct command_node_script {
  /// The digest of the domain it serves.
  std::string digest;
  /// Its last committed seq, answered to a subscription.
  seq_t last_seq = 0;
  /// The digest of every subscription, in order.
  std::vector<std::string> subscriptions;
  /// The hubs it accepted.
  std::vector<hub_actor> hubs;
};

/// A command node that accepts hubs of its own domain, as the command
/// supervisor does, and refuses the others with `domain_mismatch`.
command_node_actor::behavior_type
stand_in_command_node(command_node_actor::pointer,
                      std::shared_ptr<command_node_script> script) {
  return {
      [](atom::apply, command&) -> caf::result<write_result> {
        return write_result{};
      },
      [script](atom::subscribe, hub_actor& hub,
               const std::string& digest) -> caf::result<seq_t, std::string> {
        script->subscriptions.push_back(digest);
        if (digest != script->digest)
          return make_cqrs_error(ec::domain_mismatch,
                                 "the command node serves digest " +
                                     script->digest);
        script->hubs.push_back(std::move(hub));
        return caf::result<seq_t, std::string>{script->last_seq, "stand-in"};
      },
      [script](atom::ping) { return script->last_seq; },
      [](atom::invalidate, invalidation&) {
        // nop
      },
      [](atom::heartbeat) {
        // nop
      },
  };
}

/// A hub that writes down `connected` and `disconnect`.
hub_actor::behavior_type
recording_hub(hub_actor::pointer,
              std::shared_ptr<std::vector<std::string>> events) {
  return {
      [](atom::invalidate, invalidation&) {
        // nop
      },
      [](atom::subscribe, query_actor&, query_cache_ptr&) {
        // nop
      },
      [](atom::sync, seq_t seq) { return seq; },
      [](atom::retry) {
        // nop
      },
      [](atom::heartbeat, seq_t) {
        // nop
      },
      [events](atom::connected, seq_t seq) {
        events->push_back("connected " + std::to_string(seq));
      },
      [events](atom::disconnect) { events->push_back("disconnect"); },
      [](atom::tick) {
        // nop
      },
  };
}

using strings = std::vector<std::string>;

struct fixture : deterministic_system {
  fixture() {
    script->digest = "digest-a";
    script->last_seq = 7;
    node = sys.spawn(stand_in_command_node, script);
    hub = sys.spawn(recording_hub, hub_events);
  }

  ~fixture() override {
    caf::anon_send_exit(link, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
    run();
  }

  /// Starts a link of a node serving the domain with `digest` to the local
  /// command node.
  void start_link(std::string digest) {
    cluster_link_config cfg;
    cfg.local = node;
    cfg.domain_digest = std::move(digest);
    cfg.counters = shared_counters;
    cfg.initial_backoff = std::chrono::milliseconds{100};
    cfg.max_backoff = std::chrono::milliseconds{400};
    link = sys.spawn(cluster_link_impl, cfg, hub, route);
    run();
  }

  /// Whether writes are routed to the stand-in command node.
  bool routed() const {
    auto target = route->current()->node;
    return target && target.address() == node.address();
  }

  std::shared_ptr<command_node_script> script =
      std::make_shared<command_node_script>();
  std::shared_ptr<strings> hub_events = std::make_shared<strings>();
  std::shared_ptr<node_counters> shared_counters =
      std::make_shared<node_counters>();
  node_counters& counters = *shared_counters;
  std::shared_ptr<command_route> route = std::make_shared<command_route>();
  command_node_actor node;
  hub_actor hub;
  link_actor link;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(cluster_link, fixture)

BOOST_AUTO_TEST_CASE(subscribes_the_hub_with_the_domain_digest) {
  BOOST_TEST(!route->current()->node);
  start_link("digest-a");
  BOOST_TEST_MESSAGE("the command node was asked once, for the node's hub "
                     "and with its domain digest");
  BOOST_TEST(script->subscriptions == strings{"digest-a"},
             boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(script->hubs.size() == 1u);
  BOOST_TEST((script->hubs.front().address() == hub.address()));
  BOOST_TEST_MESSAGE("the hub hears the command node's seq; writes go there");
  BOOST_TEST(*hub_events == strings{"connected 7"},
             boost::test_tools::per_element());
  BOOST_TEST(routed());
  BOOST_TEST(counters.domain_mismatch.load() == 0u);
  BOOST_TEST_MESSAGE("a linked node does not subscribe again");
  fire_timeouts();
  BOOST_TEST(script->subscriptions.size() == 1u);
  BOOST_TEST(hub_events->size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_refused_domain_is_reported_and_retried) {
  BOOST_TEST_MESSAGE("the command node serves another domain");
  script->digest = "digest-b";
  start_link("digest-a");
  BOOST_TEST(script->subscriptions == strings{"digest-a"},
             boost::test_tools::per_element());
  BOOST_TEST(counters.domain_mismatch.load() == 1u);
  BOOST_TEST(script->hubs.empty());
  BOOST_TEST(hub_events->empty());
  BOOST_TEST(!route->current()->node);
  BOOST_TEST_MESSAGE("the link asks again after its backoff, and is refused "
                     "again");
  fire_timeouts();
  BOOST_TEST(script->subscriptions.size() == 2u);
  BOOST_TEST(counters.domain_mismatch.load() == 1u);
  BOOST_TEST(hub_events->empty());
  BOOST_TEST(!route->current()->node);
  BOOST_TEST_MESSAGE("once the command node serves the node's domain, the "
                     "next try links and clears the report");
  script->digest = "digest-a";
  fire_timeouts();
  BOOST_TEST(script->subscriptions.size() == 3u);
  BOOST_TEST(counters.domain_mismatch.load() == 0u);
  BOOST_TEST(*hub_events == strings{"connected 7"},
             boost::test_tools::per_element());
  BOOST_TEST(routed());
}

BOOST_AUTO_TEST_CASE(losing_the_command_node_disconnects_the_hub) {
  script->last_seq = 0;
  start_link("digest-a");
  BOOST_TEST_REQUIRE(*hub_events == strings{"connected 0"},
                     boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(routed());
  BOOST_TEST_MESSAGE("the command node goes down: the hub is told, writes "
                     "have nowhere to go");
  caf::anon_send_exit(node, caf::exit_reason::kill);
  run();
  BOOST_TEST(*hub_events == (strings{"connected 0", "disconnect"}),
             boost::test_tools::per_element());
  BOOST_TEST(!route->current()->node);
  BOOST_TEST_MESSAGE("the link keeps trying, but a dead node never links the "
                     "hub again");
  for (int i = 0; i < 3; ++i)
    fire_timeouts();
  BOOST_TEST(hub_events->size() == 2u);
  BOOST_TEST(!route->current()->node);
}

BOOST_AUTO_TEST_CASE(losing_the_command_node_answers_the_writes_in_flight) {
  script->last_seq = 0;
  BOOST_TEST_MESSAGE("node::start routes writes to the local command node "
                     "before the link subscribes; the link setting the same "
                     "node again keeps the route's generation");
  route->set(node);
  auto generation = route->current()->generation;
  start_link("digest-a");
  BOOST_TEST_REQUIRE(routed());
  BOOST_TEST(route->current()->generation == generation);

  BOOST_TEST_MESSAGE("a write in flight: its request waits on an actor that "
                     "never answers");
  auto silent = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](int) -> caf::delegated<int> { return {}; }};
  });
  auto answer = self->request(silent, caf::infinite, 1);
  auto ticket =
      route->track(*route->current(),
                   caf::actor_cast<caf::strong_actor_ptr>(self), answer.id());
  BOOST_TEST_REQUIRE(ticket != 0u);
  auto stale = *route->current();

  BOOST_TEST_MESSAGE("the command node goes down: the write gets "
                     "command_node_lost");
  caf::anon_send_exit(node, caf::exit_reason::kill);
  run();
  BOOST_TEST(!route->current()->node);
  caf::error got;
  answer.receive([](int) { BOOST_ERROR("the silent actor answered"); },
                 [&](caf::error& err) { got = std::move(err); });
  BOOST_TEST(error_code(got) == ec::command_node_lost, caf::to_string(got));
  BOOST_TEST(!route->forget(ticket), "clear() kept the ticket");

  BOOST_TEST_MESSAGE("a write sent through the lost route is refused at once");
  BOOST_TEST(route->track(stale, caf::actor_cast<caf::strong_actor_ptr>(self),
                          answer.id()) == 0u);
  caf::anon_send_exit(silent, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_SUITE_END()
