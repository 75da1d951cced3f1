// Overload tests against a real cqrsd process: connections past the bound
// get 503 at once, slow clients lose their worker thread after
// http.read_timeout_ms, huge headers are refused, and under twice the load
// the node can hold, memory stays flat while requests keep being served.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "fixtures/cqrsd_process.hpp"
#include "fixtures/raw_http.hpp"

using namespace cqrs::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

/// A TCP connection to the server that sends bytes as the test says, for
/// clients that misbehave. Every wait is bounded.
class raw_connection {
public:
  explicit raw_connection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    BOOST_REQUIRE_MESSAGE(
        ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0,
        "cannot connect to 127.0.0.1:" << port);
  }

  ~raw_connection() { ::close(fd_); }

  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  /// Sends `bytes`; false when the server closed the connection.
  bool send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 5000) <= 0)
        return false;
      auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent,
                      MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n <= 0 && errno != EAGAIN && errno != EINTR)
        return false;
      if (n > 0)
        sent += static_cast<size_t>(n);
    }
    return true;
  }

  /// Whether the server sent something (or closed) within `timeout`.
  bool readable(std::chrono::milliseconds timeout) {
    if (!buffer_.empty())
      return true;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  }

  /// Reads one answer (head and Content-Length body) within `timeout`;
  /// status 0 when none came or the connection broke first.
  raw_answer read_answer(std::chrono::milliseconds timeout = 10s) {
    auto deadline = clock_type::now() + timeout;
    return take_raw_answer(buffer_, [&] { return fill(deadline); });
  }

  /// Whether the server closed the connection within `timeout`, reading and
  /// dropping whatever it still sends.
  bool closed_by_server(std::chrono::milliseconds timeout) {
    auto deadline = clock_type::now() + timeout;
    for (;;) {
      buffer_.clear();
      if (!fill(deadline))
        return !timed_out_;
    }
  }

private:
  // Reads more; false on EOF, error or deadline.
  bool fill(clock_type::time_point deadline) {
    timed_out_ = false;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - clock_type::now());
      if (left.count() <= 0) {
        timed_out_ = true;
        return false;
      }
      pollfd p{fd_, POLLIN, 0};
      auto r = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        continue;
      char buf[4096];
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0)
        return false;
      buffer_.append(buf, static_cast<size_t>(n));
      return true;
    }
  }

  int fd_ = -1;
  std::string buffer_;
  bool timed_out_ = false;
};

std::string get_request(const std::string& path,
                        const std::string& extra_headers = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers +
         "\r\n";
}

/// Checks that `a` is the overload answer: 503, Retry-After: 1, and the
/// JSON error `overloaded`.
void check_overloaded(const raw_answer& a, bool closes) {
  BOOST_TEST(a.status == 503, "expected 503, got " << a.describe());
  BOOST_TEST(a.header("retry-after") == "1");
  BOOST_TEST(a.header("content-type").rfind("application/json", 0) == 0);
  auto body = json::parse(a.body, nullptr, false);
  BOOST_TEST(!body.is_discarded(), "not JSON: " << a.body);
  if (!body.is_discarded()) {
    BOOST_TEST(body["error"]["code"] == "overloaded");
    BOOST_TEST(!body["error"]["message"].get<std::string>().empty());
  }
  if (closes)
    BOOST_TEST(a.header("connection") == "close");
}

/// Resident memory of process `pid` in kB, from /proc/<pid>/status.
long rss_kb(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

/// Polls `get` (at most `timeout`) until it answers `status`.
bool eventually_answers(cqrsd_process& p, const std::string& path, int status,
                        std::chrono::milliseconds timeout = 20s) {
  auto deadline = clock_type::now() + timeout;
  while (clock_type::now() < deadline) {
    raw_connection c{p.port()};
    c.send(get_request(path, "Connection: close\r\n"));
    if (c.read_answer(5s).status == status)
      return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

/// A read that holds its worker thread until query.min_seq_timeout_ms: it
/// waits for a seq that no write will reach.
std::string slow_read() {
  return get_request("/categories/1", "X-Min-Seq: 1000000\r\n");
}

} // namespace

BOOST_AUTO_TEST_SUITE(overload)

BOOST_AUTO_TEST_CASE(connections_past_the_bound_get_503_at_once) {
  // 2 worker threads and 1 queued connection: 3 connections fit.
  cqrsd_process p{{{"http.threads", "2"},
                   {"http.max_queued_connections", "1"},
                   {"query.min_seq_timeout_ms", "4000"}}};
  BOOST_REQUIRE(p.post("/categories", {{"description", "Books"}}).status ==
                201);
  p.client().stop();
  BOOST_TEST_MESSAGE("8 slow reads at once: at most 3 fit, 5 or more do not");
  std::vector<std::unique_ptr<raw_connection>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<raw_connection>(p.port()));
    BOOST_REQUIRE(slow.back()->send(slow_read()));
  }
  // Whatever answers within the (generous) deadline must be the overload
  // answer; the admitted reads are still waiting for their seq.
  int shed = 0;
  auto deadline = clock_type::now() + 3s;
  for (auto& c : slow) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - clock_type::now());
    if (!c->readable(std::max(left, 0ms)))
      continue;
    auto a = c->read_answer(5s);
    if (a.status == 504)
      continue; // An admitted read that timed out already: a slow machine.
    check_overloaded(a, true);
    ++shed;
    BOOST_TEST(c->closed_by_server(5s), "a shed connection stays open");
  }
  BOOST_TEST(shed >= 5, shed << " of 8 connections were shed, expected >= 5");
  BOOST_TEST_MESSAGE("probes are answered while every worker is busy");
  {
    raw_connection c{p.port()};
    c.send(get_request("/healthz"));
    auto a = c.read_answer();
    BOOST_TEST(a.status == 200, a.describe());
    BOOST_TEST(json::parse(a.body, nullptr, false) == json({{"status", "ok"}}));
  }
  {
    raw_connection c{p.port()};
    c.send(get_request("/metrics"));
    auto a = c.read_answer();
    BOOST_TEST(a.status == 200, a.describe());
    BOOST_TEST(metric(a.body, "cqrsd_http_shed_total{reason=\"queue_full\"}") >=
               shed);
  }
  {
    raw_connection c{p.port()};
    c.send(get_request("/readyz"));
    auto a = c.read_answer();
    BOOST_TEST(a.status == 200, a.describe());
  }
  BOOST_TEST_MESSAGE("after the load ends, reads are served again");
  slow.clear();
  BOOST_TEST(eventually_answers(p, "/categories/1", 200));
  BOOST_TEST(p.log().find("overloaded: answered 503") != std::string::npos,
             "no warning about shed load in the log");
}

BOOST_AUTO_TEST_CASE(requests_past_max_in_flight_get_503_at_once) {
  cqrsd_process p{{{"http.threads", "4"},
                   {"http.max_in_flight", "1"},
                   {"query.min_seq_timeout_ms", "4000"}}};
  BOOST_REQUIRE(p.post("/categories", {{"description", "Books"}}).status ==
                201);
  BOOST_TEST_MESSAGE("one slow read is in flight");
  raw_connection first{p.port()};
  BOOST_REQUIRE(first.send(slow_read()));
  // Wait until the slow read is in flight (/metrics is a probe and does not
  // count): a read sent earlier could take the only slot first.
  auto deadline = clock_type::now() + 10s;
  while (clock_type::now() < deadline &&
         metric(p.get("/metrics").body, "cqrsd_http_in_flight") < 1)
    std::this_thread::sleep_for(20ms);
  // Then the next read is refused.
  raw_answer refused;
  {
    raw_connection c{p.port()};
    c.send(get_request("/categories/1"));
    refused = c.read_answer();
  }
  BOOST_REQUIRE_MESSAGE(refused.status == 503,
                        "no 503 while the slow read was in flight; it got "
                            << first.read_answer(100ms).describe());
  check_overloaded(refused, false);
  BOOST_TEST_MESSAGE("probes do not count against the bound");
  {
    raw_connection c{p.port()};
    c.send(get_request("/healthz"));
    BOOST_TEST(c.read_answer().status == 200);
  }
  auto metrics = p.get("/metrics");
  BOOST_TEST(metrics.status == 200);
  BOOST_TEST(
      metric(metrics.body, "cqrsd_http_shed_total{reason=\"in_flight\"}") >= 1);
  BOOST_TEST_MESSAGE("the slow read ends with its 504; then reads pass again");
  BOOST_TEST(first.read_answer(15s).status == 504);
  BOOST_TEST(eventually_answers(p, "/categories/1", 200));
}

BOOST_AUTO_TEST_CASE(slow_clients_lose_their_thread_after_the_read_timeout) {
  // As many slow clients as worker threads; others must still be served.
  constexpr int threads = 2;
  cqrsd_process p{{{"http.threads", std::to_string(threads)},
                   {"http.max_queued_connections", "16"},
                   {"http.read_timeout_ms", "1000"}}};
  BOOST_REQUIRE(p.post("/categories", {{"description", "Books"}}).status ==
                201);
  p.client().stop();
  BOOST_TEST_MESSAGE("dribblers send their headers a byte at a time, forever");
  std::atomic<bool> done{false};
  std::atomic<int> answered{0};
  std::mutex mtx;
  std::vector<raw_answer> dribbler_answers;
  std::vector<std::unique_ptr<raw_connection>> dribbler_connections;
  for (int i = 0; i < threads; ++i)
    dribbler_connections.push_back(std::make_unique<raw_connection>(p.port()));
  std::vector<std::thread> dribblers;
  for (auto& conn : dribbler_connections) {
    dribblers.emplace_back([&, c = conn.get()] {
      std::string bytes = "GET /categories/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n";
      for (size_t k = 0; !done; ++k) {
        if (k < bytes.size())
          c->send(bytes.substr(k, 1));
        else
          c->send("X"); // An endless header line.
        if (c->readable(100ms)) {
          auto a = c->read_answer(5s);
          std::lock_guard<std::mutex> guard{mtx};
          dribbler_answers.push_back(a);
          ++answered;
          return;
        }
      }
    });
  }
  BOOST_TEST_MESSAGE("a client that never sends the body it announced");
  raw_connection no_body{p.port()};
  no_body.send("POST /categories HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
               "{\"desc");
  BOOST_TEST_MESSAGE("others are served while the slow clients are connected");
  for (int i = 0; i < 3; ++i) {
    raw_connection c{p.port()};
    c.send(get_request("/categories/1"));
    auto a = c.read_answer(20s);
    BOOST_TEST(a.status == 200, "request " << i << ": " << a.describe());
  }
  auto a = no_body.read_answer(20s);
  BOOST_TEST(a.status == 408, a.describe());
  BOOST_TEST(a.header("connection") == "close");
  BOOST_TEST(json::parse(a.body, nullptr, false)["error"]["code"] ==
             "request_timeout");
  BOOST_TEST(no_body.closed_by_server(5s));
  // The dribblers end once answered; `done` only bounds the test.
  auto deadline = clock_type::now() + 20s;
  while (answered < threads && clock_type::now() < deadline)
    std::this_thread::sleep_for(50ms);
  done = true;
  for (auto& t : dribblers)
    t.join();
  BOOST_TEST(dribbler_answers.size() == size_t{threads},
             "dribblers still held their threads after 20 s");
  for (auto& d : dribbler_answers) {
    BOOST_TEST(d.status == 408, "dribbler got " << d.describe());
    BOOST_TEST(d.header("connection") == "close");
  }
  auto metrics = p.get("/metrics");
  BOOST_TEST(metric(metrics.body, "cqrsd_http_read_timeouts_total") >=
             threads + 1);
  BOOST_TEST(p.get("/healthz").status == 200);
}

BOOST_AUTO_TEST_CASE(huge_headers_are_refused_and_the_server_stays_healthy) {
  cqrsd_process p{{{"http.max_header_bytes", "16384"}}};
  BOOST_REQUIRE(p.post("/categories", {{"description", "Books"}}).status ==
                201);
  auto refused = [&](const std::string& request, int status,
                     const std::string& code) {
    raw_connection c{p.port()};
    c.send(request);
    auto a = c.read_answer();
    BOOST_TEST(a.status == status, a.describe());
    BOOST_TEST(a.header("connection") == "close");
    auto body = json::parse(a.body, nullptr, false);
    BOOST_TEST(!body.is_discarded(), a.body);
    if (!body.is_discarded())
      BOOST_TEST(body["error"]["code"] == code);
    BOOST_TEST(c.closed_by_server(5s));
  };
  BOOST_TEST_MESSAGE("one header of 100 KB");
  refused(get_request("/categories/1",
                      "X-Big: " + std::string(100 * 1024, 'a') + "\r\n"),
          431, "header_too_large");
  BOOST_TEST_MESSAGE("many small headers, 60 KB in all");
  std::string many;
  for (int i = 0; i < 2000; ++i)
    many += "X-Header-" + std::to_string(i) + ": abcdefghijklmnop\r\n";
  refused(get_request("/categories/1", many), 431, "header_too_large");
  BOOST_TEST_MESSAGE("a request line of 20 KB");
  refused(get_request("/categories/1?" + std::string(20 * 1024, 'q')), 414,
          "uri_too_long");
  BOOST_TEST_MESSAGE("a 100 KB header on a POST with a body");
  refused("POST /categories HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " +
              std::string(100 * 1024, 'b') +
              "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
              "{}",
          431, "header_too_large");
  BOOST_TEST_MESSAGE("headers just under the limit are served");
  std::string under;
  for (int i = 0; i < 14; ++i)
    under += "X-Header-" + std::to_string(i) + ": " + std::string(1000, 'c') +
             "\r\n";
  {
    raw_connection c{p.port()};
    c.send(get_request("/categories/1", under));
    auto a = c.read_answer();
    BOOST_TEST(a.status == 200, a.describe());
  }
  BOOST_TEST(p.get("/healthz").status == 200);
  BOOST_TEST(p.get("/categories/1").status == 200);
  BOOST_TEST(
      metric(p.get("/metrics").body, "cqrsd_http_header_too_large_total") == 4);
}

BOOST_AUTO_TEST_CASE(twice_the_capacity_keeps_memory_flat_and_serves) {
  // 4 worker threads and 4 queued connections hold 8 keep-alive clients;
  // 16 clients hammer the node.
  constexpr int clients = 16;
  constexpr auto load_time = 6s;
  cqrsd_process p{{{"http.threads", "4"},
                   {"http.max_queued_connections", "4"},
                   {"http.keep_alive_timeout_ms", "1000"}}};
  BOOST_REQUIRE(p.post("/categories", {{"description", "Books"}}).status ==
                201);
  BOOST_REQUIRE(p.post("/related-objects", {{"content_description", "Cover"},
                                            {"content_type", "image/png"}})
                    .status == 201);
  BOOST_REQUIRE(p.post("/objects", {{"name", "Dune"},
                                    {"child",
                                     {{"access_code", "A-1"},
                                      {"related_object_id", 1},
                                      {"category_id", 1}}}})
                    .status == 201);
  p.client().stop();
  std::atomic<bool> stop{false};
  std::mutex mtx;
  std::map<int, uint64_t> statuses; // 0: no answer.
  std::vector<std::string> transport_errors;
  // Successes by second since the start of the load.
  std::vector<std::atomic<uint64_t>> successes(16);
  auto start = clock_type::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      auto client = p.make_client();
      client->set_read_timeout(10, 0);
      std::map<int, uint64_t> mine;
      for (uint64_t n = 0; !stop; ++n) {
        http_answer a;
        switch ((n + i) % 4) {
        case 0:
          a = send_request(
              *client, "POST", "/categories",
              json({{"description", "c" + std::to_string(n)}}).dump());
          break;
        case 1:
          a = send_request(*client, "GET", "/objects/1");
          break;
        default:
          a = send_request(*client, "GET", "/categories/1");
          break;
        }
        ++mine[a.status];
        if (a.status == 200 || a.status == 201) {
          auto second = std::chrono::duration_cast<std::chrono::seconds>(
                            clock_type::now() - start)
                            .count();
          if (second < static_cast<long>(successes.size()))
            ++successes[second];
        } else if (a.status == 503) {
          // A polite client: a short pause before trying again.
          std::this_thread::sleep_for(5ms);
        } else if (a.status == 0) {
          std::lock_guard<std::mutex> guard{mtx};
          transport_errors.push_back(a.error);
        }
      }
      std::lock_guard<std::mutex> guard{mtx};
      for (auto [status, count] : mine)
        statuses[status] += count;
    });
  }
  std::this_thread::sleep_for(load_time / 2);
  auto rss_middle = rss_kb(p.pid());
  std::this_thread::sleep_for(load_time / 2);
  auto rss_end = rss_kb(p.pid());
  stop = true;
  for (auto& t : threads)
    t.join();
  uint64_t total = 0;
  for (auto [status, count] : statuses) {
    BOOST_TEST_MESSAGE("status " << status << ": " << count);
    total += count;
  }
  BOOST_TEST_MESSAGE("RSS in the middle " << rss_middle << " kB, at the end "
                                          << rss_end << " kB");
  BOOST_TEST(rss_middle > 0);
  // Flat: not growing with the offered load (a generous margin for caches
  // and allocator noise).
  BOOST_TEST(rss_end <= rss_middle + rss_middle / 4 + 16 * 1024,
             "RSS grew from " << rss_middle << " kB to " << rss_end << " kB");
  for (auto [status, count] : statuses)
    BOOST_TEST((status == 200 || status == 201 || status == 503),
               count << " answers with status " << status);
  BOOST_TEST(transport_errors.empty(),
             transport_errors.size()
                 << " requests broke, e.g. "
                 << (transport_errors.empty() ? "" : transport_errors[0]));
  BOOST_TEST(statuses[503] > 0, "the load never exceeded the capacity");
  auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(load_time).count();
  for (long s = 0; s < seconds; ++s)
    BOOST_TEST(successes[s].load() > 0, "no request succeeded in second " << s);
  BOOST_TEST_MESSAGE(total << " requests in " << seconds << " s");
  BOOST_TEST_MESSAGE("after the load");
  BOOST_TEST(eventually_answers(p, "/healthz", 200));
  BOOST_TEST(eventually_answers(p, "/objects/1", 200));
}

BOOST_AUTO_TEST_CASE(a_second_process_cannot_take_a_port_in_use) {
  // With SO_REUSEPORT, a second server on the port would silently take
  // part of the first one's connections (and of its load).
  cqrsd_process p;
  auto config = p.dir() + "/second.yaml";
  {
    std::ofstream out{config};
    out << "http:\n  listen: \"127.0.0.1:" << p.port() << "\"\n"
        << "database:\n  sqlite_path: " << quote_yaml(p.dir() + "/second.db")
        << "\n";
  }
  auto r = run_cqrsd({"--config", config}, {}, 10s);
  BOOST_TEST(r.exit_code > 0, "the second process ended with "
                                  << r.exit_code << "; stderr: " << r.err);
  BOOST_TEST(r.err.find("cannot listen on 127.0.0.1:" +
                        std::to_string(p.port())) != std::string::npos,
             r.err);
  BOOST_TEST(p.get("/healthz").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
