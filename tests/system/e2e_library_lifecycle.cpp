// End-to-end tests of a declared domain's life cycle: a real cqrsd serving the
// shipped domains/library.yaml on the backend named by CQRSD_TEST_BACKEND
// keeps its rows and seqs over a restart and over SIGTERM with writes in
// flight, and describes the domain in /openapi.json and /status.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "fixtures/library_process.hpp"

using namespace cqrs::test;
using namespace cqrs::test::library;

BOOST_AUTO_TEST_SUITE(e2e_library_lifecycle)

// -- restart and SIGTERM ------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(restart_keeps_rows_seq_and_domain, fixture) {
  auto r = make_base();
  auto kept = create(
      "/books", book("Brand", "b-1", "hardcover", 7.25, true, r.ibsen,
                     json::array({copy(
                         "K-1", r.central,
                         json::array({loan(r.ada, "2026-07-01", false)}))})));
  auto gone =
      create("/books", book("Gone", "b-2", "ebook", 1.5, false, r.woolf));
  remove("/books", gone);
  const std::vector<std::string> targets{
      path("/books", kept),      path("/members", r.ada),
      path("/authors", r.ibsen), path("/branches", r.central),
      "/books?limit=500",        "/loans"};
  std::vector<std::string> before;
  for (const auto& target : targets)
    before.push_back(read(target).dump());
  auto status = proc.get("/status").json_body();
  auto seq_before = last_seq;

  BOOST_TEST_MESSAGE("stop with SIGTERM and start on the same database");
  BOOST_TEST_REQUIRE(proc.stop(SIGTERM) == 0, proc.log());
  proc.start();
  for (size_t i = 0; i < targets.size(); ++i)
    BOOST_TEST(read(targets[i]).dump() == before[i], targets[i]);
  read_missing(path("/books", gone));
  auto again = proc.get("/status").json_body();
  BOOST_TEST(again["seq"] == seq_before);
  BOOST_TEST(again["domain"] == status["domain"]);

  BOOST_TEST_MESSAGE("the seq continues and ids are not reused");
  auto next =
      create("/books", book("Gone", "b-2", "ebook", 1.5, false, r.woolf));
  BOOST_TEST(last_seq == seq_before + 1);
  BOOST_TEST(next > gone);
  BOOST_TEST(db.max_seq() == last_seq);
}

BOOST_FIXTURE_TEST_CASE(sigterm_keeps_every_acknowledged_write, fixture) {
  auto r = make_base();
  struct ack {
    int64_t id = 0;
    int64_t seq = 0;
    std::string title;
  };
  constexpr int threads = 2;
  std::vector<std::vector<ack>> acks(threads);
  std::vector<std::vector<std::string>> odd(threads);
  std::atomic<int> acknowledged{0};
  std::atomic<bool> stopping{false};
  std::vector<std::thread> workers;
  BOOST_TEST_MESSAGE("2 clients write books with a copy each");
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto client = proc.make_client();
      for (int n = 0; n < 5000; ++n) {
        auto key = std::to_string(t) + "-" + std::to_string(n);
        auto body = book("T " + key, "t-" + key, "ebook", 2.5, true, r.ibsen,
                         json::array({copy("T-" + key, r.harbour)}));
        auto a = send_request(*client, "POST", "/books", body.dump());
        if (!a.answered() && stopping)
          break;
        if (a.status != 201) {
          odd[t].push_back(a.describe());
          continue;
        }
        auto j = a.json_body();
        acks[t].push_back(
            {j["id"].get<int64_t>(), j["seq"].get<int64_t>(), "T " + key});
        ++acknowledged;
      }
    });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  while (acknowledged < 60 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  BOOST_TEST_MESSAGE("SIGTERM after " << acknowledged << " acknowledged");
  stopping = true;
  auto exit_code = proc.stop(SIGTERM);
  for (auto& w : workers)
    w.join();
  BOOST_TEST(exit_code == 0, proc.log());
  for (const auto& list : odd)
    for (const auto& x : list)
      BOOST_TEST(x.empty(), "a write answered " << x);

  BOOST_TEST_MESSAGE("after a restart every acknowledged book is there");
  proc.start();
  auto status = proc.get("/status").json_body();
  BOOST_TEST_REQUIRE(status["seq"].is_number_integer(), status.dump());
  last_seq = status["seq"].get<int64_t>();
  std::set<int64_t> seqs;
  size_t total = 0;
  for (const auto& list : acks) {
    for (const auto& x : list) {
      ++total;
      seqs.insert(x.seq);
      BOOST_TEST(x.seq <= last_seq);
      auto view = read(path("/books", x.id));
      BOOST_TEST(view["title"] == x.title);
      BOOST_TEST(view["copies"].size() == 1u);
    }
  }
  BOOST_TEST(seqs.size() == total, "two acknowledgements share a seq");
  BOOST_TEST(total >= 60u);
  BOOST_TEST(db.max_seq() == last_seq);
  create("/countries", country("SE", "Sweden"));
}

// -- the API's description ----------------------------------------------------

BOOST_FIXTURE_TEST_CASE(openapi_and_status_describe_the_library, fixture) {
  auto a = proc.get("/openapi.json");
  BOOST_TEST_REQUIRE(a.status == 200, a.describe());
  BOOST_TEST(a.header("Content-Type").rfind("application/json", 0) == 0);
  auto doc = a.json_body();
  BOOST_TEST_REQUIRE(doc.is_object(), a.body.substr(0, 300));
  BOOST_TEST((doc.contains("openapi") && doc["openapi"].is_string() &&
              doc["openapi"].get<std::string>().rfind("3.", 0) == 0));
  BOOST_TEST_REQUIRE((doc.contains("paths") && doc["paths"].is_object()));
  const auto& paths = doc["paths"];
  auto offers = [&](const std::string& p, const std::string& method) {
    return paths.contains(p) && paths[p].contains(method);
  };
  auto file = YAML::LoadFile(domain_path());
  for (const auto& resource : file["resources"]) {
    auto segment = "/" + resource.first.as<std::string>();
    BOOST_TEST_CONTEXT("resource " << segment) {
      BOOST_TEST(offers(segment, "post"));
      BOOST_TEST(offers(segment + "/{id}", "put"));
      BOOST_TEST(offers(segment + "/{id}", "delete"));
    }
  }
  for (const auto& view : file["views"]) {
    auto segment = "/" + view.first.as<std::string>();
    BOOST_TEST_CONTEXT("view " << segment) {
      BOOST_TEST(offers(segment + "/{id}", "get"));
      BOOST_TEST(offers(segment, "get") == bool{view.second["list"]});
    }
  }
  for (const auto& builtin : {"/categories", "/objects", "/related-objects"})
    BOOST_TEST(!paths.contains(builtin), builtin << " of the built-in domain");
  check_error(proc.get("/objects"), 404, "not_found");

  a = proc.get("/status");
  BOOST_TEST_REQUIRE(a.status == 200, a.describe());
  auto status = a.json_body();
  BOOST_TEST(status["domain"]["name"] == "library", status.dump());
  auto digest = status["domain"]["digest"];
  BOOST_TEST_REQUIRE(digest.is_string(), status.dump());
  auto text = digest.get<std::string>();
  BOOST_TEST(text.size() == 64u);
  BOOST_TEST(text.find_first_not_of("0123456789abcdef") == std::string::npos,
             text);
}

BOOST_AUTO_TEST_SUITE_END()
