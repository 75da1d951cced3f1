// cqrsd-probe: the benchmark's seeding tool and its latency probes, a
// cpp-httplib client of a running cqrsd on loopback.
//
//   cqrsd-probe seed       --port P [--objects 10000] [--categories 100]
//                          [--connections 16]
//   cqrsd-probe fill       --port P [--from 1] [--to 1000] [--connections 16]
//   cqrsd-probe visibility --port P [--samples 200] [--actors 8]
//                          [--routing key_affinity|round_robin]
//                          [--miss-ids-from ID]
//   cqrsd-probe fanout     --port P [--samples 20]
//   cqrsd-probe sqlite-commits --path FILE [--seconds 10]
//
// Every command prints `key=value` lines on stdout (times in microseconds)
// for bench/run.sh and bench/scale.sh to parse, and human notes on stderr.
// It exits 1 when the server misbehaves (an unexpected status, a sample that
// never completes within its bound).
//
// sqlite-commits needs no server: it is bench/run.sh's SQLite anchor, the
// rate of single-row durable commits that SQLite itself reaches on the disk
// where cqrsd's database lives.
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

/// How long one sample may take before the probe calls it a failure.
constexpr auto sample_bound = std::chrono::seconds{5};

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "cqrsd-probe: ERROR: " << what << '\n';
  std::exit(1);
}

double micros(clock_type::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// -- command line -------------------------------------------------------------

/// `--key value` pairs after the command.
struct options {
  std::map<std::string, std::string> values;

  long get(const std::string& key, long fallback, long min, long max) const {
    auto i = values.find(key);
    if (i == values.end())
      return fallback;
    char* end = nullptr;
    auto x = std::strtol(i->second.c_str(), &end, 10);
    if (i->second.empty() || *end != '\0' || x < min || x > max)
      fail("--" + key + " must be an integer in " + std::to_string(min) + ".." +
           std::to_string(max) + ", got '" + i->second + "'");
    return x;
  }

  std::string get(const std::string& key, const std::string& fallback) const {
    auto i = values.find(key);
    return i == values.end() ? fallback : i->second;
  }
};

options parse_options(int argc, char** argv, int first) {
  options out;
  for (int i = first; i < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || i + 1 >= argc)
      fail("expected '--key value' pairs, got '" + key + "'");
    out.values[key.substr(2)] = argv[i + 1];
  }
  return out;
}

// -- HTTP ---------------------------------------------------------------------

/// A keep-alive client of cqrsd on 127.0.0.1.
std::unique_ptr<httplib::Client> make_client(int port) {
  auto cli = std::make_unique<httplib::Client>("127.0.0.1", port);
  cli->set_keep_alive(true);
  cli->set_tcp_nodelay(true);
  cli->set_connection_timeout(5, 0);
  cli->set_read_timeout(10, 0);
  cli->set_write_timeout(10, 0);
  return cli;
}

/// The status and body of an answer; fails on a transport error.
std::pair<int, std::string> checked(const httplib::Result& res,
                                    const std::string& what) {
  if (!res)
    fail(what + ": " + httplib::to_string(res.error()));
  return {res->status, res->body};
}

/// Posts `body` to `path` and answers the new id; fails unless 201.
int64_t create(httplib::Client& cli, const std::string& path,
               const json& body) {
  auto [status, text] = checked(
      cli.Post(path.c_str(), body.dump(), "application/json"), "POST " + path);
  if (status != 201)
    fail("POST " + path + " answered " + std::to_string(status) + ": " + text);
  return json::parse(text).at("id").get<int64_t>();
}

json object_body(const std::string& name, int64_t related, int64_t category) {
  return {{"name", name},
          {"child",
           {{"access_code", "AC-" + name},
            {"related_object_id", related},
            {"category_id", category}}}};
}

// -- statistics ---------------------------------------------------------------

/// Prints `<prefix>_p50/_p99/_max/_samples` of `xs` (microseconds).
void print_percentiles(const std::string& prefix, std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  auto at = [&](double q) {
    if (xs.empty())
      return 0.0;
    // Nearest rank: the smallest sample with at least q of all at or below.
    auto rank =
        static_cast<size_t>(q * static_cast<double>(xs.size()) + 0.999999);
    return xs[std::clamp<size_t>(rank, 1, xs.size()) - 1];
  };
  std::printf(
      "%s_samples=%zu\n%s_p50_us=%.1f\n%s_p99_us=%.1f\n%s_max_us=%.1f\n",
      prefix.c_str(), xs.size(), prefix.c_str(), at(0.50), prefix.c_str(),
      at(0.99), prefix.c_str(), xs.empty() ? 0.0 : xs.back());
}

// -- seed ---------------------------------------------------------------------

/// Creates `categories` categories and as many related objects, then
/// `objects` objects spread round-robin over them, from `connections`
/// parallel keep-alive connections. On a fresh database the objects get the
/// ids 1..objects.
int seed(const options& opt, int port) {
  auto objects = opt.get("objects", 10000, 1, 10000000);
  auto categories = opt.get("categories", 100, 1, 1000000);
  auto connections = opt.get("connections", 16, 1, 1024);
  auto start = clock_type::now();
  std::vector<int64_t> category_ids;
  std::vector<int64_t> related_ids;
  {
    auto cli = make_client(port);
    for (long i = 1; i <= categories; ++i) {
      category_ids.push_back(
          create(*cli, "/categories",
                 {{"description", "category " + std::to_string(i)}}));
      related_ids.push_back(
          create(*cli, "/related-objects",
                 {{"content_description", "related " + std::to_string(i)},
                  {"content_type", "text/plain"}}));
    }
  }
  std::atomic<long> next{0};
  std::vector<std::thread> workers;
  std::vector<int64_t> max_id(static_cast<size_t>(connections), 0);
  for (long w = 0; w < connections; ++w)
    workers.emplace_back([&, w] {
      auto cli = make_client(port);
      for (auto i = next++; i < objects; i = next++) {
        auto k = static_cast<size_t>(i) % category_ids.size();
        auto id = create(*cli, "/objects",
                         object_body("object " + std::to_string(i + 1),
                                     related_ids[k], category_ids[k]));
        max_id[static_cast<size_t>(w)] =
            std::max(max_id[static_cast<size_t>(w)], id);
      }
    });
  for (auto& t : workers)
    t.join();
  auto elapsed = clock_type::now() - start;
  auto seconds = std::chrono::duration<double>(elapsed).count();
  std::printf(
      "seed_objects=%ld\nseed_categories=%ld\nseed_max_object_id=%lld\n"
      "seed_seconds=%.2f\nseed_objects_per_second=%.0f\n",
      objects, categories,
      static_cast<long long>(*std::max_element(max_id.begin(), max_id.end())),
      seconds, static_cast<double>(objects) / seconds);
  return 0;
}

// -- fill ---------------------------------------------------------------------

/// Reads every object id in `--from`..`--to` once, from `connections`
/// parallel connections, and fails unless each answers 200: with
/// key_affinity routing that caches each view in its query actor.
int fill(const options& opt, int port) {
  auto from = opt.get("from", 1, 1, 1000000000);
  auto to = opt.get("to", 1000, 1, 1000000000);
  auto connections = opt.get("connections", 16, 1, 1024);
  std::atomic<long> next{from};
  std::vector<std::thread> workers;
  for (long w = 0; w < connections; ++w)
    workers.emplace_back([&] {
      auto cli = make_client(port);
      for (auto id = next++; id <= to; id = next++) {
        auto path = "/objects/" + std::to_string(id);
        auto [status, text] = checked(cli->Get(path.c_str()), "GET " + path);
        if (status != 200)
          fail("GET " + path + " answered " + std::to_string(status) + ": " +
               text);
      }
    });
  for (auto& t : workers)
    t.join();
  std::printf("filled=%ld\n", to >= from ? to - from + 1 : 0);
  return 0;
}

// -- visibility ---------------------------------------------------------------

/// Invalidation visibility on one node: for each sample, caches an object's
/// view (in every query actor that may serve it), changes the object, takes
/// the time of the write's acknowledgement and polls GET /objects/{id}
/// without X-Min-Seq until the new view is served.
///
/// With key_affinity routing a key always goes to the same query actor, so
/// the first poll that serves the new name proves that no actor on the node
/// serves the old view any more. With round_robin the probe requires
/// `--actors` consecutive polls in a row to serve the new name; that covers
/// every actor only while nothing else reads from the node, so run it alone.
///
/// The time reported is from the acknowledgement to the answer of the poll
/// that completes the proof: an upper bound that includes one poll's round
/// trip and, as the invalidation evicted the view, the rest of a fill from
/// the database: the read again that the invalidation started
/// (`query.refresh_on_invalidation`), or else the poll's own miss. With
/// `--miss-ids-from F` each sample also times one read of the never-read id F +
/// sample - 1 (a fill), for comparison. `stale_reads` counts polls that served
/// the old view after the acknowledgement: what a client reading without
/// X-Min-Seq would have seen.
int visibility(const options& opt, int port) {
  auto samples = opt.get("samples", 200, 1, 1000000);
  auto actors = opt.get("actors", 8, 1, 100000);
  auto miss_ids_from = opt.get("miss-ids-from", 0, 0, 1000000000);
  auto routing = opt.get("routing", std::string{"key_affinity"});
  if (routing != "key_affinity" && routing != "round_robin")
    fail("--routing must be key_affinity or round_robin, got '" + routing +
         "'");
  long need = routing == "round_robin" ? actors : 1;
  auto cli = make_client(port);
  // The probe's own rows, so that it does not depend on the seeded data.
  auto category = create(*cli, "/categories", {{"description", "probe"}});
  auto related = create(
      *cli, "/related-objects",
      {{"content_description", "probe"}, {"content_type", "text/plain"}});
  auto id = create(*cli, "/objects", object_body("probe-0", related, category));
  auto path = "/objects/" + std::to_string(id);
  std::vector<double> times;
  std::vector<double> miss_times;
  long stale_reads = 0;
  long samples_with_stale = 0;
  std::string current = "probe-0";
  auto served_name = [&] {
    auto [status, text] = checked(cli->Get(path.c_str()), "GET " + path);
    if (status != 200)
      fail("GET " + path + " answered " + std::to_string(status) + ": " + text);
    return json::parse(text).at("name").get<std::string>();
  };
  for (long s = 1; s <= samples; ++s) {
    // Fill the cache: once per actor that may serve the key, twice to be
    // sure every fill has landed.
    for (long i = 0; i < 2 * need; ++i)
      if (auto name = served_name(); name != current)
        fail("GET " + path + " served '" + name + "' long after '" + current +
             "' was acknowledged");
    if (miss_ids_from > 0) {
      // For comparison: a read that must fill, of an id nobody read yet.
      auto cold = "/objects/" + std::to_string(miss_ids_from + s - 1);
      auto before = clock_type::now();
      auto [status, text] = checked(cli->Get(cold.c_str()), "GET " + cold);
      miss_times.push_back(micros(clock_type::now() - before));
      if (status != 200)
        fail("GET " + cold + " answered " + std::to_string(status) + ": " +
             text);
    }
    auto next = "probe-" + std::to_string(s);
    auto [status, text] = checked(
        cli->Put(path.c_str(), object_body(next, related, category).dump(),
                 "application/json"),
        "PUT " + path);
    auto acked = clock_type::now();
    if (status != 200)
      fail("PUT " + path + " answered " + std::to_string(status) + ": " + text);
    long fresh_in_a_row = 0;
    long stale_here = 0;
    while (fresh_in_a_row < need) {
      if (clock_type::now() - acked > sample_bound)
        fail(
            "sample " + std::to_string(s) + ": " + path +
            " still served the old view 5 s after the write's acknowledgement");
      if (served_name() == next) {
        ++fresh_in_a_row;
      } else {
        fresh_in_a_row = 0;
        ++stale_here;
      }
    }
    times.push_back(micros(clock_type::now() - acked));
    stale_reads += stale_here;
    samples_with_stale += stale_here > 0 ? 1 : 0;
    current = next;
  }
  print_percentiles("visibility", times);
  if (miss_ids_from > 0)
    print_percentiles("miss_round_trip", miss_times);
  std::printf("visibility_stale_reads=%ld\nvisibility_samples_with_stale=%ld\n"
              "visibility_polls_per_proof=%ld\n",
              stale_reads, samples_with_stale, need);
  return 0;
}

// -- fan-out ------------------------------------------------------------------

/// The smallest applied_seq over the query actors in a /status answer, and
/// how many actors it lists.
std::pair<uint64_t, size_t> min_applied_seq(httplib::Client& cli) {
  auto [status, text] = checked(cli.Get("/status"), "GET /status");
  if (status != 200)
    fail("GET /status answered " + std::to_string(status));
  auto body = json::parse(text);
  auto& actors = body.at("query_actors");
  if (actors.empty())
    fail("/status lists no query actors");
  uint64_t lowest = UINT64_MAX;
  for (auto& a : actors)
    lowest = std::min(lowest, a.at("applied_seq").get<uint64_t>());
  return {lowest, actors.size()};
}

/// The value of the Prometheus series `name` in a /metrics answer, if any.
std::optional<uint64_t> metric(httplib::Client& cli, const std::string& name) {
  auto [status, text] = checked(cli.Get("/metrics"), "GET /metrics");
  if (status != 200)
    fail("GET /metrics answered " + std::to_string(status));
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos)
    return std::nullopt;
  return std::stoull(text.substr(at + name.size() + 2));
}

/// Fan-out of one invalidation batch to every query actor: for each sample,
/// one write, then polls until every query actor has applied it, and takes
/// the time from the write's acknowledgement to the answer that shows it.
///
/// Where /metrics has cqrsd_invalidations_applied_total (batches applied,
/// summed over the actors) the probe polls /metrics until it grew by the
/// number of actors: nothing else writes meanwhile, so that is this batch
/// having reached every actor. Otherwise it polls /status until every actor
/// reports the write's seq as applied; /status asks every actor, so its
/// round trip limits the resolution. Either way the figure is an upper bound
/// whose resolution is one poll, and the poll's round trip (measured idle,
/// before each write) is printed too. A batch that has not reached every
/// actor 5 s after its acknowledgement ends the sampling: the probe prints
/// fanout_timeout_seq and (by metric) how many actors it had reached; a
/// write that is refused ends it too (fanout_write_status).
int fanout(const options& opt, int port) {
  auto samples = opt.get("samples", 20, 1, 100000);
  auto cli = make_client(port);
  auto category = create(*cli, "/categories", {{"description", "fan-out"}});
  auto actors = metric(*cli, "cqrsd_query_actors");
  if (!actors || *actors == 0)
    fail("/metrics has no cqrsd_query_actors");
  bool by_metric =
      metric(*cli, "cqrsd_invalidations_applied_total").has_value();
  std::vector<double> times;
  std::vector<double> poll_times;
  for (long s = 1; s <= samples; ++s) {
    auto before = clock_type::now();
    uint64_t applied_before = 0;
    if (by_metric)
      applied_before = *metric(*cli, "cqrsd_invalidations_applied_total");
    else
      min_applied_seq(*cli);
    poll_times.push_back(micros(clock_type::now() - before));
    auto path = "/categories/" + std::to_string(category);
    auto [status, text] = checked(
        cli->Put(path.c_str(),
                 json{{"description", "fan-out " + std::to_string(s)}}.dump(),
                 "application/json"),
        "PUT " + path);
    auto acked = clock_type::now();
    if (status != 200) {
      // An overloaded node may refuse the write (503): that is a finding,
      // not a probe failure, and ends the sampling.
      std::cerr << "cqrsd-probe: PUT " << path << " answered " << status << ": "
                << text << '\n';
      std::printf("fanout_write_status=%d\n", status);
      break;
    }
    auto seq = json::parse(text).at("seq").get<uint64_t>();
    auto done = [&] {
      if (by_metric)
        return *metric(*cli, "cqrsd_invalidations_applied_total") >=
               applied_before + *actors;
      return min_applied_seq(*cli).first >= seq;
    };
    bool timed_out = false;
    while (!done())
      if (clock_type::now() - acked > sample_bound) {
        timed_out = true;
        break;
      }
    if (timed_out) {
      // Later samples would count this batch's late arrivals: stop here.
      std::cerr << "cqrsd-probe: seq " << seq
                << " has not reached every query actor 5 s after its "
                   "acknowledgement\n";
      std::printf("fanout_timeout_seq=%llu\n",
                  static_cast<unsigned long long>(seq));
      if (by_metric)
        std::printf("fanout_timeout_reached=%llu\n",
                    static_cast<unsigned long long>(
                        *metric(*cli, "cqrsd_invalidations_applied_total") -
                        applied_before));
      break;
    }
    times.push_back(micros(clock_type::now() - acked));
  }
  std::printf("fanout_actors=%llu\nfanout_method=%s\n",
              static_cast<unsigned long long>(*actors),
              by_metric ? "metrics" : "status");
  print_percentiles("fanout", times);
  print_percentiles("poll_round_trip", poll_times);
  return 0;
}

// -- sqlite-commits -----------------------------------------------------------

/// A SQLite connection, closed at scope exit.
struct sqlite_db {
  sqlite3* db = nullptr;
  ~sqlite_db() { sqlite3_close_v2(db); }

  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) !=
        SQLITE_OK) {
      std::string what = message ? message : sqlite3_errmsg(db);
      sqlite3_free(message);
      fail("sqlite-commits: " + sql + ": " + what);
    }
  }
};

/// The SQLite anchor of bench/run.sh: single-row INSERTs into a fresh
/// database file at `--path`, each its own transaction (autocommit), on one
/// connection, for `--seconds`. The file gets the durability settings that
/// cqrsd's writer connection has (db/schema.cpp: WAL, synchronous=FULL,
/// foreign_keys=ON) and SQLite's default automatic checkpoint. Prints the
/// commits, the seconds and commits per second, and the commit latencies.
/// The file must not exist; it is left behind for the caller to delete.
int sqlite_commits(const options& opt) {
  auto path = opt.get("path", std::string{});
  auto seconds = opt.get("seconds", 10, 1, 3600);
  if (path.empty())
    fail("sqlite-commits: --path is required");
  std::error_code err;
  if (std::filesystem::exists(path, err))
    fail("sqlite-commits: " + path + " exists; the anchor needs a fresh file");
  sqlite_db conn;
  if (sqlite3_open_v2(path.c_str(), &conn.db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK)
    fail("sqlite-commits: cannot open " + path + ": " +
         (conn.db ? sqlite3_errmsg(conn.db) : "out of memory"));
  conn.exec("PRAGMA busy_timeout=5000");
  conn.exec("PRAGMA journal_mode=WAL");
  conn.exec("PRAGMA synchronous=FULL");
  conn.exec("PRAGMA foreign_keys=ON");
  {
    sqlite3_stmt* check = nullptr;
    sqlite3_prepare_v2(conn.db, "PRAGMA journal_mode", -1, &check, nullptr);
    std::string mode;
    if (check && sqlite3_step(check) == SQLITE_ROW)
      mode = reinterpret_cast<const char*>(sqlite3_column_text(check, 0));
    sqlite3_finalize(check);
    if (mode != "wal")
      fail("sqlite-commits: " + path + " refused WAL mode (journal_mode is '" +
           mode + "')");
  }
  conn.exec("CREATE TABLE anchor (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " n INTEGER NOT NULL)");
  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(conn.db,
                         "INSERT INTO anchor (name, n) VALUES (?1, ?2)", -1,
                         &insert, nullptr) != SQLITE_OK)
    fail(std::string{"sqlite-commits: cannot prepare the INSERT: "} +
         sqlite3_errmsg(conn.db));
  std::vector<double> times;
  auto start = clock_type::now();
  auto end = start + std::chrono::seconds{seconds};
  long commits = 0;
  for (auto now = start; now < end;) {
    auto name = "row " + std::to_string(commits + 1);
    sqlite3_bind_text(insert, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(insert, 2, commits + 1);
    if (sqlite3_step(insert) != SQLITE_DONE)
      fail(std::string{"sqlite-commits: INSERT failed: "} +
           sqlite3_errmsg(conn.db));
    sqlite3_reset(insert);
    auto after = clock_type::now();
    times.push_back(micros(after - now));
    now = after;
    ++commits;
  }
  sqlite3_finalize(insert);
  auto elapsed =
      std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf("sqlite_commits=%ld\nsqlite_seconds=%.2f\n"
              "sqlite_commits_per_second=%.0f\n",
              commits, elapsed, static_cast<double>(commits) / elapsed);
  print_percentiles("sqlite_commit", times);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: cqrsd-probe seed|fill|visibility|fanout --port P "
                 "[--key value]...\n"
                 "       cqrsd-probe sqlite-commits --path FILE "
                 "[--seconds N]\n";
    return 2;
  }
  std::string command = argv[1];
  auto opt = parse_options(argc, argv, 2);
  if (command == "sqlite-commits")
    return sqlite_commits(opt);
  auto port = static_cast<int>(opt.get("port", 0, 1, 65535));
  if (port == 0)
    fail("--port is required");
  try {
    if (command == "seed")
      return seed(opt, port);
    if (command == "fill")
      return fill(opt, port);
    if (command == "visibility")
      return visibility(opt, port);
    if (command == "fanout")
      return fanout(opt, port);
  } catch (const std::exception& e) {
    fail(command + ": " + e.what());
  }
  fail("unknown command '" + command +
       "' (seed, fill, visibility, fanout or sqlite-commits)");
}
