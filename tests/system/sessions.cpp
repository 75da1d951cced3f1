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

void check_one_node(const std::string& routing) {
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
  check_sessions(report, clients, ops_per_client);
}

} // namespace

BOOST_AUTO_TEST_SUITE(sessions)

BOOST_AUTO_TEST_CASE(plain_reads_keep_each_connection_s_session_key_affinity) {
  check_one_node("key_affinity");
}

BOOST_AUTO_TEST_CASE(plain_reads_keep_each_connection_s_session_round_robin) {
  check_one_node("round_robin");
}

BOOST_AUTO_TEST_SUITE_END()
