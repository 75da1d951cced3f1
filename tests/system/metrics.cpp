// Tests of /metrics: the histogram type, request series labelled by route
// pattern, the Prometheus text a real cqrsd serves (checked by promtool), the
// counts behind it, and the cache bound as /status and /metrics show it under
// a key space ten times larger.
#include <boost/test/unit_test.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/histogram.hpp"
#include "config/domain_file.hpp"
#include "fixtures/api_model.hpp"
#include "fixtures/cqrsd_process.hpp"
#include "fixtures/text_file.hpp"
#include "http/metrics.hpp"
#include "http/routes.hpp"

using namespace cqrs;
using namespace cqrs::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// -- Prometheus text ----------------------------------------------------------

/// One sample line: `name{labels} value`.
struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// The samples of a Prometheus text exposition, in order. Fails the test on
/// a line it cannot read.
std::vector<sample> parse_samples(const std::string& text) {
  std::vector<sample> result;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ')
      ++i;
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        auto eq = line.find('=', i);
        BOOST_TEST_REQUIRE((eq != std::string::npos && eq + 1 < line.size() &&
                            line[eq + 1] == '"'),
                           "bad labels in: " << line);
        auto key = line.substr(i, eq - i);
        auto close = line.find('"', eq + 2);
        BOOST_TEST_REQUIRE(close != std::string::npos, "bad labels: " << line);
        s.labels[key] = line.substr(eq + 2, close - eq - 2);
        i = close + 1;
        if (i < line.size() && line[i] == ',')
          ++i;
      }
      ++i;
    }
    BOOST_TEST_REQUIRE((i < line.size() && line[i] == ' '),
                       "no value in: " << line);
    auto value = line.substr(i + 1);
    s.value = value == "+Inf" ? std::numeric_limits<double>::infinity()
                              : std::stod(value);
    result.push_back(std::move(s));
  }
  return result;
}

/// Whether `s` carries every label of `labels` with the same value.
bool has_labels(const sample& s,
                const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : labels) {
    auto i = s.labels.find(k);
    if (i == s.labels.end() || i->second != v)
      return false;
  }
  return true;
}

/// A scrape of /metrics.
struct scrape {
  std::string text;
  std::vector<sample> samples;

  /// How many samples are named `name` and carry `labels`.
  size_t count_of(const std::string& name,
                  const std::map<std::string, std::string>& labels = {}) const {
    return std::count_if(samples.begin(), samples.end(), [&](const sample& s) {
      return s.name == name && has_labels(s, labels);
    });
  }

  /// The sum of the samples named `name` that carry `labels` (0 for none).
  double sum(const std::string& name,
             const std::map<std::string, std::string>& labels = {}) const {
    double result = 0;
    for (const auto& s : samples)
      if (s.name == name && has_labels(s, labels))
        result += s.value;
    return result;
  }
};

scrape fetch_metrics(cqrsd_process& proc) {
  auto a = proc.get("/metrics");
  BOOST_TEST_REQUIRE(a.status == 200, "/metrics: " << a.describe());
  BOOST_TEST(a.header("Content-Type").rfind("text/plain", 0) == 0,
             "Content-Type '" << a.header("Content-Type") << "'");
  return scrape{a.body, parse_samples(a.body)};
}

/// Checks every histogram of `m`: `le` ascending up to +Inf, buckets
/// cumulative, +Inf equal to `_count`, and a `_sum`. Returns how many
/// histogram series it checked.
size_t check_histograms(const scrape& m) {
  // Series: histogram name and labels without `le`.
  using series_key = std::pair<std::string, std::map<std::string, std::string>>;
  std::map<series_key, std::vector<std::pair<double, double>>> buckets;
  for (const auto& s : m.samples) {
    constexpr std::string_view suffix = "_bucket";
    if (s.name.size() <= suffix.size() ||
        s.name.compare(s.name.size() - suffix.size(), suffix.size(), suffix) !=
            0)
      continue;
    auto labels = s.labels;
    auto le = labels.find("le");
    BOOST_TEST_REQUIRE((le != labels.end()), s.name << " without le");
    auto bound = le->second == "+Inf" ? std::numeric_limits<double>::infinity()
                                      : std::stod(le->second);
    labels.erase(le);
    buckets[{s.name.substr(0, s.name.size() - suffix.size()), labels}]
        .emplace_back(bound, s.value);
  }
  for (const auto& [key, series] : buckets) {
    const auto& [name, labels] = key;
    BOOST_TEST_CONTEXT(name << " " << json(labels).dump()) {
      BOOST_TEST_REQUIRE(series.size() >= 2u);
      for (size_t i = 1; i < series.size(); ++i) {
        BOOST_TEST(series[i].first > series[i - 1].first, "le not ascending");
        BOOST_TEST(series[i].second >= series[i - 1].second,
                   "buckets not cumulative at le=" << series[i].first);
      }
      BOOST_TEST(std::isinf(series.back().first), "last bucket is not +Inf");
      BOOST_TEST(m.count_of(name + "_count", labels) == 1u);
      BOOST_TEST(m.count_of(name + "_sum", labels) == 1u);
      BOOST_TEST(series.back().second == m.sum(name + "_count", labels),
                 "+Inf bucket differs from _count");
      BOOST_TEST(m.sum(name + "_sum", labels) >= 0.0);
    }
  }
  return buckets.size();
}

/// What `promtool check metrics` said about `text`.
struct promtool_verdict {
  int exit_code = -1;
  std::string output;
};

/// Runs `promtool check metrics` on `text`, using files in `dir`. Fails the
/// test (never skips it) when promtool is missing.
promtool_verdict promtool_check(const std::string& text,
                                const std::string& dir) {
  BOOST_TEST_REQUIRE(
      std::system("command -v promtool >/dev/null 2>&1") == 0,
      "promtool is not installed: install the Debian package 'prometheus' "
      "(listed in scripts/deps.sh)");
  auto in_path = dir + "/metrics.txt";
  auto out_path = dir + "/promtool.txt";
  {
    std::ofstream out{in_path, std::ios::binary};
    out << text;
  }
  auto cmd =
      "promtool check metrics < '" + in_path + "' > '" + out_path + "' 2>&1";
  auto status = std::system(cmd.c_str());
  promtool_verdict result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in{out_path, std::ios::binary};
  std::ostringstream buf;
  buf << in.rdbuf();
  result.output = buf.str();
  return result;
}

/// `GET /status` of `proc`: the cache entries of each query actor.
std::vector<int64_t> cache_entries(cqrsd_process& proc) {
  auto a = proc.get("/status");
  BOOST_TEST_REQUIRE(a.status == 200, "/status: " << a.describe());
  auto body = a.json_body();
  BOOST_TEST_REQUIRE(body.contains("query_actors"), a.body);
  std::vector<int64_t> result;
  for (const auto& actor : body["query_actors"])
    result.push_back(actor["cache_entries"].get<int64_t>());
  return result;
}

/// Waits (at most 10 s) until /readyz says the caches are in use, so that
/// every fill from now on is cached.
void wait_caches_in_use(cqrsd_process& proc) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto a = proc.get("/readyz");
    last = a.describe();
    if (a.status == 200 && a.json_body().value("caches", "") == "in_use")
      return;
    std::this_thread::sleep_for(20ms);
  }
  BOOST_FAIL("caches not in use within 10 s: " << last);
}

/// Rows a test created, with the views they must read as.
struct seeded {
  int64_t category = 0;
  int64_t related_object = 0;
  /// Object views by id.
  std::map<int64_t, json> objects;
  /// The seq of the last write.
  int64_t last_seq = 0;
};

/// Creates a category, a related object and `n` objects.
seeded create_objects(cqrsd_process& proc, int n) {
  seeded result;
  auto cat = proc.post("/categories", category_body("Books"));
  BOOST_TEST_REQUIRE(cat.status == 201, cat.describe());
  auto rel = proc.post("/related-objects", related_body("A novel", "text"));
  BOOST_TEST_REQUIRE(rel.status == 201, rel.describe());
  result.category = cat.json_body()["id"].get<int64_t>();
  result.related_object = rel.json_body()["id"].get<int64_t>();
  for (int i = 0; i < n; ++i) {
    auto name = "object " + std::to_string(i);
    auto code = "code-" + std::to_string(i);
    auto a =
        proc.post("/objects", object_body(name, code, result.related_object,
                                          result.category));
    BOOST_TEST_REQUIRE(a.status == 201, a.describe());
    auto id = a.json_body()["id"].get<int64_t>();
    result.objects[id] = {{"id", id},
                          {"name", name},
                          {"access_code", code},
                          {"content_description", "A novel"},
                          {"content_type", "text"},
                          {"category_description", "Books"}};
    result.last_seq = a.x_seq().value_or(0);
  }
  return result;
}

/// Waits (at most 10 s) until every query actor of `proc` applied `seq`.
void wait_applied(cqrsd_process& proc, int64_t seq) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    auto body = proc.get("/status").json_body();
    bool applied = body.contains("query_actors");
    for (const auto& actor : body.value("query_actors", json::array()))
      applied = applied && actor["applied_seq"].get<int64_t>() >= seq;
    if (applied)
      return;
    BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() < deadline),
                       "query actors did not apply seq "
                           << seq << " within "
                           << "10 s: " << body.dump());
    std::this_thread::sleep_for(20ms);
  }
}

/// Requires GET /objects/{id} to answer `expected`.
void require_object(cqrsd_process& proc, int64_t id, const json& expected) {
  auto a = proc.get("/objects/" + std::to_string(id));
  BOOST_TEST_REQUIRE(a.status == 200, a.describe());
  BOOST_TEST_REQUIRE(a.json_body() == expected,
                     "got " << a.body << ", expected " << expected.dump());
}

const std::map<std::string, std::string> object_get = {
    {"route", "/objects/{id}"}, {"method", "GET"}};

} // namespace

BOOST_AUTO_TEST_SUITE(metrics)

// -- the histogram type -------------------------------------------------------

BOOST_AUTO_TEST_CASE(histogram_places_observations_by_inclusive_bounds) {
  histogram h{1us, 10us, 100us};
  h.observe(-5ns);   // counts as 0
  h.observe(0ns);    // le 1us
  h.observe(1us);    // le 1us: bounds are inclusive
  h.observe(1001ns); // le 10us
  h.observe(100us);  // le 100us
  h.observe(101us);  // +Inf
  h.observe(1h);     // +Inf
  auto s = h.read();
  BOOST_TEST(s.bounds == 3u);
  BOOST_TEST(s.cumulative[0] == 3u);
  BOOST_TEST(s.cumulative[1] == 4u);
  BOOST_TEST(s.cumulative[2] == 5u);
  BOOST_TEST(s.cumulative[3] == 7u);
  BOOST_TEST(s.count() == 7u);
  auto expected_sum = (0ns + 0ns + 1us + 1001ns + 100us + 101us + 1h).count();
  BOOST_TEST(s.sum_ns == static_cast<uint64_t>(expected_sum));
}

BOOST_AUTO_TEST_CASE(histogram_rejects_bad_bounds) {
  BOOST_CHECK_THROW((histogram{}), std::invalid_argument);
  BOOST_CHECK_THROW((histogram{10us, 10us}), std::invalid_argument);
  BOOST_CHECK_THROW((histogram{10us, 1us}), std::invalid_argument);
  BOOST_CHECK_THROW((histogram{0ns, 1us}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(histogram_counts_concurrent_observations_exactly) {
  histogram h{1us, 1ms};
  constexpr int threads = 4;
  constexpr int per_thread = 100000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&h, t] {
      for (int i = 0; i < per_thread; ++i)
        h.observe(t % 2 == 0 ? 500ns : 2ms);
    });
  for (auto& w : workers)
    w.join();
  auto s = h.read();
  BOOST_TEST(s.cumulative[0] == uint64_t{2 * per_thread});
  BOOST_TEST(s.cumulative[1] == uint64_t{2 * per_thread});
  BOOST_TEST(s.count() == uint64_t{threads * per_thread});
  BOOST_TEST(s.sum_ns == uint64_t{2 * per_thread} * (500 + 2000000));
}

BOOST_AUTO_TEST_CASE(histogram_renders_cumulative_buckets_in_seconds) {
  // Bounds spelled as the Prometheus client libraries spell them.
  histogram h{50us, 100us, 2500us, 10s};
  h.observe(20us);
  h.observe(50us);
  h.observe(1ms);
  h.observe(3s);
  h.observe(11s);
  std::ostringstream out;
  http::render_histogram(out, "x_seconds", R"(route="/a")", h.read());
  BOOST_TEST(out.str() == "x_seconds_bucket{route=\"/a\",le=\"5e-05\"} 2\n"
                          "x_seconds_bucket{route=\"/a\",le=\"0.0001\"} 2\n"
                          "x_seconds_bucket{route=\"/a\",le=\"0.0025\"} 3\n"
                          "x_seconds_bucket{route=\"/a\",le=\"10\"} 4\n"
                          "x_seconds_bucket{route=\"/a\",le=\"+Inf\"} 5\n"
                          "x_seconds_sum{route=\"/a\"} 14.00107\n"
                          "x_seconds_count{route=\"/a\"} 5\n");
  std::ostringstream bare;
  http::render_histogram(bare, "y_seconds", "", histogram{1s}.read());
  BOOST_TEST(bare.str() == "y_seconds_bucket{le=\"1\"} 0\n"
                           "y_seconds_bucket{le=\"+Inf\"} 0\n"
                           "y_seconds_sum 0\n"
                           "y_seconds_count 0\n");
}

BOOST_AUTO_TEST_CASE(request_methods_map_to_labels) {
  for (auto name : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
    BOOST_TEST(http::label(http::to_method(name)) == name);
  BOOST_TEST(http::label(http::to_method("BREW")) == "other");
  BOOST_TEST(http::label(http::to_method("get")) == "other");
}

BOOST_AUTO_TEST_CASE(requests_are_labelled_by_their_route_pattern) {
  auto d = builtin_domain();
  BOOST_TEST_REQUIRE(d != nullptr);
  http::route_table routes{*d};
  http::request_counters requests{routes.size()};
  BOOST_TEST(requests.routes() == routes.size());
  auto count = [&](const char* path, http::method m, int status) {
    auto r = routes.match(path).index;
    requests.count(r, status);
    requests.observe(r, m, 2ms);
  };
  count("/objects/5", http::method::get, 200);
  count("/objects/6", http::method::get, 200);
  count("/objects/x", http::method::get, 400);
  count("/objects", http::method::post, 201);
  count("/categories/1", http::method::del, 404);
  count("/nowhere", http::method::get, 404);
  node_counters node{d->views.size()};
  http::overload_counters overload;
  auto text = http::render_metrics(*d, node, routes, requests, overload);
  scrape m{text, parse_samples(text)};
  auto requests_to = [&](const std::string& route, const std::string& status) {
    return m.sum("cqrsd_http_requests_total",
                 {{"route", route}, {"status", status}});
  };
  BOOST_TEST(requests_to("/objects/{id}", "200") == 2.0);
  BOOST_TEST(requests_to("/objects/{id}", "400") == 1.0);
  BOOST_TEST(requests_to("/objects", "201") == 1.0);
  BOOST_TEST(requests_to("/categories/{id}", "404") == 1.0);
  BOOST_TEST(requests_to("unknown", "404") == 1.0);
  BOOST_TEST(m.count_of("cqrsd_http_requests_total") == 5u,
             "one series per route and status seen:\n"
                 << text);
  BOOST_TEST(m.sum("cqrsd_http_request_duration_seconds_count", object_get) ==
             3.0);
  BOOST_TEST(m.sum("cqrsd_http_request_duration_seconds_count",
                   {{"route", "/categories/{id}"}, {"method", "DELETE"}}) ==
             1.0);
  BOOST_TEST(m.count_of("cqrsd_http_request_duration_seconds_count") == 4u);
  BOOST_TEST(check_histograms(m) >= 4u);
}

// -- /metrics of a real server ------------------------------------------------

BOOST_AUTO_TEST_CASE(metrics_pass_promtool_and_count_what_happened) {
  cqrsd_process proc{{{"query.actors", "2"}}};
  wait_caches_in_use(proc);
  BOOST_TEST_MESSAGE("writes: a category, a related object, 3 objects");
  auto seed = create_objects(proc, 3);
  const auto& objects = seed.objects;
  BOOST_TEST_MESSAGE("reads: each object twice (a miss, then a hit)");
  for (const auto& [id, view] : objects) {
    require_object(proc, id, view);
    require_object(proc, id, view);
  }
  auto before = fetch_metrics(proc);

  BOOST_TEST_MESSAGE("promtool check metrics");
  auto verdict = promtool_check(before.text, proc.dir());
  BOOST_TEST(verdict.exit_code == 0,
             "promtool exit " << verdict.exit_code << ": " << verdict.output);
  BOOST_TEST(verdict.output.empty(), "promtool: " << verdict.output);

  BOOST_TEST_MESSAGE("every metric the issue asks for is there");
  auto views = builtin_domain()->views.size();
  for (auto name : {"cqrsd_cache_hits_total", "cqrsd_cache_misses_total"}) {
    BOOST_TEST(before.count_of(name) == views, name << ": one per view");
    for (const auto& v : builtin_domain()->views)
      BOOST_TEST(before.count_of(name, {{"view", v.segment}}) == 1u,
                 name << " of view " << v.segment << " missing or repeated");
  }
  for (auto name :
       {"cqrsd_single_flight_merges_total", "cqrsd_stale_fills_refused_total",
        "cqrsd_invalidation_evictions_total", "cqrsd_capacity_evictions_total",
        "cqrsd_cache_refreshes_total", "cqrsd_catch_ups_total",
        "cqrsd_cache_flushes_total", "cqrsd_fill_duration_seconds_count",
        "cqrsd_invalidation_lag_seconds_count"})
    BOOST_TEST(before.count_of(name) == 1u, name << " missing or repeated");
  BOOST_TEST(before.sum("cqrsd_cache_flushes_total") == 0.0,
             "a standalone node never loses its command node");
  BOOST_TEST(check_histograms(before) >= 4u);
  // Each object missed once: three fills, at least.
  BOOST_TEST(before.sum("cqrsd_fill_duration_seconds_count") >= 3.0);
  BOOST_TEST(before.sum("cqrsd_fill_duration_seconds_count") ==
             before.sum("cqrsd_cache_misses_total") -
                 before.sum("cqrsd_single_flight_merges_total"));
  BOOST_TEST(before.count_of("cqrsd_http_request_duration_seconds_bucket",
                             {{"route", "/objects"}, {"method", "POST"}}) > 0u);

  BOOST_TEST_MESSAGE("10 reads of /objects/{id}: 3 hits, 7 misses (404)");
  for (const auto& [id, view] : objects)
    require_object(proc, id, view);
  for (int i = 0; i < 7; ++i) {
    auto a = proc.get("/objects/" + std::to_string(1000 + i));
    BOOST_TEST_REQUIRE(a.status == 404, a.describe());
  }
  auto after = fetch_metrics(proc);
  check_histograms(after);
  auto delta = [&](const std::string& name,
                   const std::map<std::string, std::string>& labels = {}) {
    return after.sum(name, labels) - before.sum(name, labels);
  };
  BOOST_TEST(delta("cqrsd_http_request_duration_seconds_count", object_get) ==
             10.0);
  BOOST_TEST(
      delta("cqrsd_http_request_duration_seconds_bucket",
            {{"route", "/objects/{id}"}, {"method", "GET"}, {"le", "+Inf"}}) ==
      10.0);
  BOOST_TEST(delta("cqrsd_http_requests_total", {{"route", "/objects/{id}"}}) ==
             10.0);
  // The scrape before is counted once it was answered.
  BOOST_TEST(delta("cqrsd_http_request_duration_seconds_count",
                   {{"route", "/metrics"}, {"method", "GET"}}) == 1.0);
  BOOST_TEST(delta("cqrsd_http_request_duration_seconds_sum", object_get) >
             0.0);
  BOOST_TEST(delta("cqrsd_cache_hits_total") == 3.0);
  BOOST_TEST(delta("cqrsd_cache_misses_total") == 7.0);
  BOOST_TEST_MESSAGE("... all of them reads of the view objects");
  BOOST_TEST(delta("cqrsd_cache_hits_total", {{"view", "objects"}}) == 3.0);
  BOOST_TEST(delta("cqrsd_cache_misses_total", {{"view", "objects"}}) == 7.0);
  BOOST_TEST(delta("cqrsd_fill_duration_seconds_count") == 7.0);
  BOOST_TEST(delta("cqrsd_fill_duration_seconds_sum") > 0.0);

  BOOST_TEST_MESSAGE("4 writes, one batch each: one lag observation each, "
                     "however many query actors the hub applied it to");
  wait_applied(proc, seed.last_seq);
  auto settled = fetch_metrics(proc);
  for (const auto& [id, view] : objects) {
    auto a = proc.put("/objects/" + std::to_string(id),
                      object_body("renamed", "renamed-" + std::to_string(id),
                                  seed.related_object, seed.category));
    BOOST_TEST_REQUIRE(a.status == 200, a.describe());
  }
  auto d = proc.del("/objects/" + std::to_string(objects.rbegin()->first));
  BOOST_TEST_REQUIRE(d.status == 200, d.describe());
  auto last_seq = d.x_seq().value_or(0);
  BOOST_TEST_REQUIRE(last_seq == seed.last_seq + 4);
  // The hub applies the batches after the writes are answered.
  wait_applied(proc, last_seq);
  auto written = fetch_metrics(proc);
  check_histograms(written);
  BOOST_TEST(written.sum("cqrsd_invalidation_lag_seconds_count") -
                 settled.sum("cqrsd_invalidation_lag_seconds_count") ==
             4.0);
  BOOST_TEST(written.sum("cqrsd_http_request_duration_seconds_count",
                         {{"route", "/objects/{id}"}, {"method", "PUT"}}) -
                 after.sum("cqrsd_http_request_duration_seconds_count",
                           {{"route", "/objects/{id}"}, {"method", "PUT"}}) ==
             3.0);
  BOOST_TEST(
      written.sum("cqrsd_http_request_duration_seconds_count",
                  {{"route", "/objects/{id}"}, {"method", "DELETE"}}) -
          after.sum("cqrsd_http_request_duration_seconds_count",
                    {{"route", "/objects/{id}"}, {"method", "DELETE"}}) ==
      1.0);
  // The updates evicted the cached objects they changed.
  BOOST_TEST(written.sum("cqrsd_invalidation_evictions_total") >
             after.sum("cqrsd_invalidation_evictions_total"));
  auto verdict_after = promtool_check(written.text, proc.dir());
  BOOST_TEST(verdict_after.exit_code == 0, verdict_after.output);
  BOOST_TEST(verdict_after.output.empty(), verdict_after.output);
}

// -- the cache bound, end to end ----------------------------------------------

BOOST_AUTO_TEST_CASE(cache_holds_its_bound_under_ten_times_the_keys) {
  constexpr int bound = 50;
  constexpr int actors = 2;
  constexpr int keys = 10 * bound;
  cqrsd_process proc{{{"query.actors", std::to_string(actors)},
                      {"query.cache_max_entries", std::to_string(bound)}}};
  wait_caches_in_use(proc);
  auto seed = create_objects(proc, 3);
  const auto& objects = seed.objects;
  auto before = fetch_metrics(proc);
  auto entries_before = cache_entries(proc);
  BOOST_TEST_REQUIRE(entries_before.size() == size_t{actors});

  BOOST_TEST_MESSAGE(keys << " distinct missing objects, the 3 real ones in "
                             "between; /status every "
                          << bound << " reads");
  int64_t max_seen = 0;
  for (int i = 0; i < keys; ++i) {
    auto a = proc.get("/objects/" + std::to_string(100000 + i));
    BOOST_TEST_REQUIRE(a.status == 404, a.describe());
    if (i % 37 == 0) {
      auto it = std::next(objects.begin(), (i / 37) % objects.size());
      require_object(proc, it->first, it->second);
    }
    if ((i + 1) % bound == 0) {
      for (auto n : cache_entries(proc)) {
        max_seen = std::max(max_seen, n);
        BOOST_TEST_REQUIRE(n <= bound,
                           "a query actor holds " << n << " entries");
      }
    }
  }
  auto after = fetch_metrics(proc);
  auto entries_after = cache_entries(proc);
  BOOST_TEST_MESSAGE("largest cache seen: " << max_seen << " entries");
  // Key affinity spreads the keys over both actors: both fill up.
  for (auto n : entries_after)
    BOOST_TEST(n == bound);
  auto evictions = after.sum("cqrsd_capacity_evictions_total") -
                   before.sum("cqrsd_capacity_evictions_total");
  auto misses = after.sum("cqrsd_cache_misses_total") -
                before.sum("cqrsd_cache_misses_total");
  auto refused = after.sum("cqrsd_stale_fills_refused_total") -
                 before.sum("cqrsd_stale_fills_refused_total");
  BOOST_TEST(evictions >= double{keys - actors * bound});
  // Every miss cached one entry; what did not stay was evicted.
  double grown = 0;
  for (size_t i = 0; i < entries_after.size(); ++i)
    grown += entries_after[i] - entries_before[i];
  BOOST_TEST(misses - refused - evictions == grown);

  BOOST_TEST_MESSAGE("reads stay correct after the evictions and a write");
  for (const auto& [id, view] : objects)
    require_object(proc, id, view);
  auto [id, view] = *objects.begin();
  auto a = proc.put("/objects/" + std::to_string(id),
                    object_body("renamed", view["access_code"],
                                seed.related_object, seed.category));
  BOOST_TEST_REQUIRE(a.status == 200, a.describe());
  view["name"] = "renamed";
  auto seq = std::to_string(a.x_seq().value_or(0));
  auto r = proc.get("/objects/" + std::to_string(id), {{"X-Min-Seq", seq}});
  BOOST_TEST_REQUIRE(r.status == 200, r.describe());
  BOOST_TEST(r.json_body() == view, r.body);
  for (auto n : cache_entries(proc))
    BOOST_TEST(n <= bound);
}

// deploy/grafana/cqrsd.json and deploy/prometheus/alerts.yml name only
// metrics that a live node serves: a renamed metric breaks this, not the
// dashboard in silence.
// -- cache refresh, end to end ------------------------------------------------

namespace {

/// Reads object `id` twice (a miss, then a hit), changes its name with a
/// PUT and waits until every query actor applied that write. Returns the
/// view the object now reads as.
json read_then_rename(cqrsd_process& proc, const seeded& seed, int64_t id) {
  auto view = seed.objects.at(id);
  require_object(proc, id, view);
  require_object(proc, id, view);
  auto a = proc.put("/objects/" + std::to_string(id),
                    object_body("renamed", view["access_code"],
                                seed.related_object, seed.category));
  BOOST_TEST_REQUIRE(a.status == 200, a.describe());
  wait_applied(proc, a.x_seq().value_or(0));
  view["name"] = "renamed";
  return view;
}

/// How one read of object `id`, which must answer `view`, counted in the
/// cache metrics.
struct read_counted {
  double hits = 0;
  double misses = 0;
};

read_counted read_counting(cqrsd_process& proc, int64_t id, const json& view) {
  auto before = fetch_metrics(proc);
  require_object(proc, id, view);
  auto after = fetch_metrics(proc);
  auto delta = [&](const char* name) {
    return after.sum(name) - before.sum(name);
  };
  return {delta("cqrsd_cache_hits_total"), delta("cqrsd_cache_misses_total")};
}

} // namespace

BOOST_AUTO_TEST_CASE(
    with_refresh_a_written_view_that_was_read_is_cached_again) {
  cqrsd_process proc{
      {{"query.actors", "2"}, {"query.refresh_on_invalidation", "true"}}};
  wait_caches_in_use(proc);
  auto seed = create_objects(proc, 1);
  auto id = seed.objects.begin()->first;
  auto fills_before = fetch_metrics(proc);
  auto view = read_then_rename(proc, seed, id);
  BOOST_TEST_MESSAGE("the query actor reads the evicted view again at once: "
                     "two fills in all, the miss and the read again");
  auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    auto m = fetch_metrics(proc);
    if (m.sum("cqrsd_fill_duration_seconds_count") -
            fills_before.sum("cqrsd_fill_duration_seconds_count") >=
        2.0) {
      BOOST_TEST(m.sum("cqrsd_cache_refreshes_total") == 1.0);
      break;
    }
    BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() < deadline),
                       "no read again within 10 s: " << m.text);
    std::this_thread::sleep_for(20ms);
  }
  BOOST_TEST_MESSAGE("the next read is a hit, and it reads the new name");
  auto next = read_counting(proc, id, view);
  BOOST_TEST(next.hits == 1.0);
  BOOST_TEST(next.misses == 0.0);
}

BOOST_AUTO_TEST_CASE(by_default_the_next_read_of_a_written_view_misses) {
  cqrsd_process proc{{{"query.actors", "2"}}};
  wait_caches_in_use(proc);
  auto seed = create_objects(proc, 1);
  auto id = seed.objects.begin()->first;
  auto view = read_then_rename(proc, seed, id);
  auto next = read_counting(proc, id, view);
  BOOST_TEST(next.hits == 0.0);
  BOOST_TEST(next.misses == 1.0);
  BOOST_TEST(fetch_metrics(proc).sum("cqrsd_cache_refreshes_total") == 0.0);
}

BOOST_AUTO_TEST_CASE(the_dashboard_and_the_alerts_name_served_metrics) {
  cqrsd_process proc{{{"query.actors", "2"}}};
  wait_caches_in_use(proc);
  auto seed = create_objects(proc, 1);
  for (const auto& [id, view] : seed.objects)
    require_object(proc, id, view);
  auto served = fetch_metrics(proc).text;
  for (const char* file :
       {"/deploy/grafana/cqrsd.json", "/deploy/prometheus/alerts.yml"}) {
    auto text = cqrs::test::read_text(std::string{CQRSD_SOURCE_DIR} + file);
    std::regex name{R"(cqrsd_[a-z_]+)"};
    std::set<std::string> names;
    for (std::sregex_iterator i{text.begin(), text.end(), name}, end; i != end;
         ++i)
      names.insert(i->str());
    BOOST_TEST_CONTEXT(file) {
      BOOST_TEST(names.size() >= 4u, "names: " << names.size());
      for (const auto& n : names) {
        // A sample line starts with the name, then labels or a space.
        bool found = served.find("\n" + n + "{") != std::string::npos ||
                     served.find("\n" + n + " ") != std::string::npos;
        BOOST_TEST(found, n << " is not in /metrics");
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
