// Session guarantees on one node (query.session_consistency: connection):
// eight clients, each on its own keep-alive connection, write and read
// plain, and no read is older than its client's own writes and earlier
// reads. The cluster suite checks the same through every node of a cluster.
// With CQRSD_TEST_SESSION_CONSISTENCY=none these cases fail.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "fixtures/cqrsd_process.hpp"
#include "fixtures/sessions.hpp"

using namespace cqrs::test;

namespace {

constexpr size_t clients = 8;
constexpr size_t ops_per_client = 400;

void check_sessions(const std::string& routing) {
  test_database database;
  cqrsd_process proc{database.with(
      {{"query.routing", routing},
       {"query.actors", "8"},
       {"query.session_consistency", tested_session_consistency()}})};
  BOOST_TEST_MESSAGE("routing " << routing << ", session_consistency "
                                << tested_session_consistency() << ": "
                                << clients << " clients, " << ops_per_client
                                << " operations each");
  auto report = run_sessions(std::vector<cqrsd_process*>(clients, &proc),
                             ops_per_client, 20261206);
  BOOST_TEST_MESSAGE("  " << report.writes << " writes, " << report.reads
                          << " reads, " << report.violations.size()
                          << " violations");
  BOOST_TEST(report.errors.empty(), report.errors.size()
                                        << " failed requests, the first: "
                                        << first_of(report.errors));
  BOOST_TEST(report.reads >= clients * ops_per_client / 2);
  BOOST_TEST(report.violations.empty(),
             report.violations.size() << " reads broke a session guarantee, "
                                         "the first: "
                                      << first_of(report.violations));
}

} // namespace

BOOST_AUTO_TEST_SUITE(sessions)

BOOST_AUTO_TEST_CASE(plain_reads_keep_each_connection_s_session_key_affinity) {
  check_sessions("key_affinity");
}

BOOST_AUTO_TEST_CASE(plain_reads_keep_each_connection_s_session_round_robin) {
  check_sessions("round_robin");
}

BOOST_AUTO_TEST_SUITE_END()
