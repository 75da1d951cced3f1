// Unit tests of the supervisors' sliding-window restart budget, driven with
// explicit time points.
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "actors/restart_budget.hpp"

using namespace cqrs;
using namespace std::chrono_literals;

namespace {

/// A fixed origin so every test sees the same time line.
struct fixture {
  restart_budget::clock::time_point t0 =
      restart_budget::clock::time_point{} + std::chrono::hours{1000};

  /// Returns the time point `offset` after `t0`.
  restart_budget::clock::time_point at(restart_budget::clock::duration offset) {
    return t0 + offset;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(restart_budget, fixture)

BOOST_AUTO_TEST_CASE(allows_up_to_the_limit_within_the_window) {
  cqrs::restart_budget budget{3, 10s};
  BOOST_TEST(budget.try_restart(at(0s)));
  BOOST_TEST(budget.try_restart(at(1s)));
  BOOST_TEST(budget.try_restart(at(2s)));
  BOOST_TEST(!budget.try_restart(at(3s)));
  BOOST_TEST(!budget.try_restart(at(9999ms)));
}

BOOST_AUTO_TEST_CASE(old_restarts_slide_out_of_the_window) {
  cqrs::restart_budget budget{3, 10s};
  BOOST_REQUIRE(budget.try_restart(at(0s)));
  BOOST_REQUIRE(budget.try_restart(at(1s)));
  BOOST_REQUIRE(budget.try_restart(at(2s)));
  BOOST_TEST_MESSAGE("the restart at 0s leaves the window at 10s");
  BOOST_TEST(!budget.try_restart(at(9999ms)));
  BOOST_TEST(budget.try_restart(at(10s)));
  BOOST_TEST_MESSAGE("now 1s, 2s and 10s are in the window");
  BOOST_TEST(!budget.try_restart(at(10500ms)));
  BOOST_TEST(budget.try_restart(at(11s)));
  BOOST_TEST(budget.try_restart(at(12s)));
  BOOST_TEST(!budget.try_restart(at(12s)));
  BOOST_TEST(!budget.try_restart(at(19s)));
  BOOST_TEST(budget.try_restart(at(20s)));
}

BOOST_AUTO_TEST_CASE(rejected_attempts_do_not_count) {
  cqrs::restart_budget budget{1, 10s};
  BOOST_TEST(budget.try_restart(at(0s)));
  for (auto t : {1s, 5s, 9s})
    BOOST_TEST(!budget.try_restart(at(t)));
  // Had the rejections counted, 9s would block until 19s.
  BOOST_TEST(budget.try_restart(at(10s)));
  BOOST_TEST(!budget.try_restart(at(19s)));
  BOOST_TEST(budget.try_restart(at(20s)));
}

BOOST_AUTO_TEST_CASE(a_burst_at_one_instant) {
  cqrs::restart_budget budget{2, 10s};
  BOOST_TEST(budget.try_restart(at(5s)));
  BOOST_TEST(budget.try_restart(at(5s)));
  BOOST_TEST(!budget.try_restart(at(5s)));
  BOOST_TEST(!budget.try_restart(at(14s)));
  BOOST_TEST_MESSAGE("both restarts leave the window together");
  BOOST_TEST(budget.try_restart(at(15s)));
  BOOST_TEST(budget.try_restart(at(15s)));
  BOOST_TEST(!budget.try_restart(at(15s)));
}

BOOST_AUTO_TEST_CASE(restarts_spread_wider_than_the_window_never_run_out) {
  cqrs::restart_budget budget{1, 10s};
  for (int i = 0; i < 1000; ++i)
    BOOST_TEST_REQUIRE(budget.try_restart(at(i * 10s)), "restart " << i);
}

BOOST_AUTO_TEST_CASE(steady_rate_above_the_budget_is_cut_off) {
  // 5 per minute allowed; one every 5 seconds is 12 per minute.
  cqrs::restart_budget budget{5, 60s};
  int allowed = 0;
  for (int i = 0; i < 12; ++i)
    allowed += budget.try_restart(at(i * 5s)) ? 1 : 0;
  BOOST_TEST(allowed == 5);
  // At 60s the first restart (0s) leaves; the others at 5s..20s remain.
  BOOST_TEST(budget.try_restart(at(60s)));
  BOOST_TEST(!budget.try_restart(at(64s)));
  BOOST_TEST(budget.try_restart(at(65s)));
}

BOOST_AUTO_TEST_CASE(zero_budget_allows_nothing) {
  cqrs::restart_budget budget{0, 10s};
  BOOST_TEST(!budget.try_restart(at(0s)));
  BOOST_TEST(!budget.try_restart(at(1h)));
}

BOOST_AUTO_TEST_CASE(default_time_is_now) {
  cqrs::restart_budget budget{2, 1h};
  BOOST_TEST(budget.try_restart());
  BOOST_TEST(budget.try_restart());
  BOOST_TEST(!budget.try_restart());
}

BOOST_AUTO_TEST_SUITE_END()
