// The gateway's pooled blocking actors (http/actor_bridge.hpp): an answer
// awaited with `receive_within` arrives or times out, and leaves nothing in
// the pooled actor's mailbox after its timeout has passed. (CAF's own
// request timeouts delivered a late `request_timeout` to every requester,
// which a blocking actor keeps in its mailbox for good.)
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "http/actor_bridge.hpp"

using namespace std::chrono_literals;

namespace {

caf::behavior increment() {
  return {[](int x) { return x + 1; }};
}

caf::behavior never_answers(caf::event_based_actor* self) {
  return {[self](int) {
    // Keeps the promise unanswered while the actor lives.
    return self->make_response_promise<int>();
  }};
}

struct bridge_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  cqrs::http::actor_bridge bridge{sys};
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(actor_bridge, bridge_fixture)

BOOST_AUTO_TEST_CASE(an_answer_leaves_nothing_behind_after_its_timeout) {
  auto worker = sys.spawn(increment);
  auto self = bridge.acquire();
  for (int i = 0; i < 10; ++i) {
    auto asked = cqrs::http::actor_bridge::request(self.get(), worker, i);
    int answer = -1;
    cqrs::http::actor_bridge::receive_within(
        self.get(), asked.id(), 50ms, [&](int x) { answer = x; },
        [&](caf::error& err) {
          BOOST_FAIL("unexpected error: " << caf::to_string(err));
        });
    BOOST_CHECK_EQUAL(answer, i + 1);
  }
  // Past every request's timeout: no late message may have come.
  std::this_thread::sleep_for(150ms);
  BOOST_CHECK_EQUAL(self->mailbox().size(), 0u);
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_missing_answer_times_out) {
  auto worker = sys.spawn(never_answers);
  auto self = bridge.acquire();
  auto asked = cqrs::http::actor_bridge::request(self.get(), worker, 1);
  caf::error got;
  auto started = std::chrono::steady_clock::now();
  cqrs::http::actor_bridge::receive_within(
      self.get(), asked.id(), 50ms,
      [&](int) {
        BOOST_FAIL("an answer came from an actor that never answers");
      },
      [&](caf::error& err) { got = err; });
  BOOST_CHECK(got == caf::sec::request_timeout);
  BOOST_CHECK(std::chrono::steady_clock::now() - started >= 50ms);
  self.discard();
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
