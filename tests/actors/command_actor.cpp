// Deterministic tests of the command actor: group commit, seqs and the
// invalidation published after each commit.
#include <boost/test/unit_test.hpp>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/command_actor.hpp"
#include "common/error.hpp"
#include "fixtures/deterministic.hpp"
#include "fixtures/objects_domain.hpp"
#include "fixtures/temp_db.hpp"

using namespace cqrs;
using namespace cqrs::test;

namespace {

/// Stands in for the command node: records every batch the command actor
/// publishes.
struct publisher_probe_state {
  static inline constexpr const char* name = "publisher_probe";
  std::shared_ptr<std::vector<invalidation>> seen;
};

command_node_actor::behavior_type publisher_probe(
    command_node_actor::stateful_pointer<publisher_probe_state> self,
    std::shared_ptr<std::vector<invalidation>> seen) {
  self->state.seen = std::move(seen);
  return {
      [](atom::apply, command&) -> caf::result<write_result> {
        return make_cqrs_error(ec::internal, "not a command actor");
      },
      [](atom::subscribe, hub_actor&, std::string&) {
        return caf::result<seq_t, std::string>{seq_t{0}, "probe"};
      },
      [](atom::ping) { return seq_t{0}; },
      [self](atom::invalidate, invalidation& inv) {
        self->state.seen->push_back(std::move(inv));
      },
      [](atom::heartbeat) {},
  };
}

struct fixture : deterministic_system {
  fixture() {
    publisher = sys.spawn(publisher_probe, published);
    start();
  }

  ~fixture() override {
    caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(publisher, caf::exit_reason::user_shutdown);
    run();
  }

  void start() {
    command_actor_config cfg;
    cfg.database = db.settings;
    cfg.dom = objects_domain();
    cfg.counters = shared_counters;
    writer = sys.spawn(command_actor_impl, cfg, publisher);
    run();
  }

  /// Sends a command through a client actor; `run()` delivers it.
  std::shared_ptr<caf::expected<write_result>> send(command cmd) {
    auto slot = std::make_shared<caf::expected<write_result>>(caf::error{});
    auto target = writer;
    sys.spawn([target, cmd, slot](caf::event_based_actor* client) {
      client->request(target, caf::infinite, atom::apply_v, cmd)
          .then([slot](write_result& r) { *slot = std::move(r); },
                [slot](caf::error& e) { *slot = std::move(e); });
    });
    return slot;
  }

  temp_db db;
  std::shared_ptr<node_counters> shared_counters =
      std::make_shared<node_counters>();
  node_counters& counters = *shared_counters;
  std::shared_ptr<std::vector<invalidation>> published =
      std::make_shared<std::vector<invalidation>>();
  command_node_actor publisher;
  command_actor writer;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(command_actor, fixture)

BOOST_AUTO_TEST_CASE(queued_commands_share_one_commit_and_one_batch) {
  BOOST_TEST_MESSAGE("three writes and one bad write queue up together");
  auto a = send(new_category("a"));
  auto b = send(new_category("b"));
  auto c = send(remove_command("categories", 99));
  auto d = send(new_category("d"));
  run();
  BOOST_TEST_REQUIRE(static_cast<bool>(*a));
  BOOST_TEST_REQUIRE(static_cast<bool>(*b));
  BOOST_TEST_REQUIRE(static_cast<bool>(*d));
  BOOST_TEST((*a)->seq == 1u);
  BOOST_TEST((*b)->seq == 2u);
  BOOST_TEST((*d)->seq == 3u);
  BOOST_TEST_REQUIRE(!*c);
  BOOST_TEST(error_code(c->error()) == ec::not_found);
  BOOST_TEST_MESSAGE("one invalidation covers the whole group");
  BOOST_TEST_REQUIRE(published->size() == 1u);
  auto& inv = published->front();
  BOOST_TEST(inv.from_seq == 1u);
  BOOST_TEST(inv.to_seq == 3u);
  std::vector<std::string> expected{"category:1", "category:2", "category:3"};
  BOOST_TEST(inv.keys == expected, boost::test_tools::per_element());
  BOOST_TEST(counters.commits.load() == 3u);
  BOOST_TEST(counters.write_transactions.load() == 1u);
  BOOST_TEST(counters.current_seq.load() == 3u);
}

BOOST_AUTO_TEST_CASE(a_restarted_command_actor_continues_the_seq) {
  auto a = send(new_category("a"));
  run();
  BOOST_TEST_REQUIRE(static_cast<bool>(*a));
  caf::anon_send_exit(writer, caf::exit_reason::kill);
  run();
  start();
  auto b = send(new_category("b"));
  run();
  BOOST_TEST_REQUIRE(static_cast<bool>(*b));
  BOOST_TEST((*b)->seq == 2u);
  BOOST_TEST(published->size() == 2u);
}

BOOST_AUTO_TEST_CASE(failed_writes_publish_nothing) {
  auto r = send(update_category(5, "x"));
  run();
  BOOST_TEST_REQUIRE(!*r);
  BOOST_TEST(error_code(r->error()) == ec::not_found);
  BOOST_TEST(published->empty());
  BOOST_TEST(counters.commits.load() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
