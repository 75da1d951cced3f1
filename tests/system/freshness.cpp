// Differential freshness test: thousands of random writes interleaved with
// reads through every query actor, each read checked against the oracle (the
// 4-table join run directly on the database). It runs on the backend named by
// CQRSD_TEST_BACKEND, SQLite by default.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "fixtures/api_model.hpp"
#include "fixtures/cqrsd_process.hpp"
#include "fixtures/temp_db.hpp"

using namespace cqrs::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

// -- parameters ---------------------------------------------------------------

/// Query actors of the node; reads go round robin through all of them.
constexpr int query_actors = 4;

/// A count from the environment variable `name`, or `fallback` when it is
/// unset: scripts/soak.sh runs the same test a thousand times longer.
long env_count(const char* name, long fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0')
    return fallback;
  auto n = std::strtol(text, nullptr, 10);
  BOOST_TEST_REQUIRE(n > 0, name << " must be a positive integer: " << text);
  return n;
}

/// Operations (a write, or a read repeated 1 to 4 times) of the
/// single-threaded phase; CQRSD_FRESHNESS_OPS overrides it.
long sequential_ops() {
  return env_count("CQRSD_FRESHNESS_OPS", 3000);
}

/// Writes of the concurrent phase, while the readers run;
/// CQRSD_FRESHNESS_WRITES overrides it.
long concurrent_writes() {
  return env_count("CQRSD_FRESHNESS_WRITES", 1500);
}

/// The most live rows of each kind (categories, related objects, objects):
/// at the cap a create turns into a delete of that kind, so that a long run
/// keeps the tables, and with them the cost of checking every write against
/// the whole database, bounded. CQRSD_FRESHNESS_MAX_ROWS overrides it.
long max_live_rows() {
  return env_count("CQRSD_FRESHNESS_MAX_ROWS", 400);
}

/// Reader threads of the concurrent phase.
constexpr int reader_threads = 3;

/// Reads each reader makes at least.
constexpr int min_reads_per_reader = 300;

/// The default seed; CQRSD_FRESHNESS_SEED overrides it.
constexpr uint64_t default_seed = 20261128;

uint64_t pick_seed() {
  if (const char* text = std::getenv("CQRSD_FRESHNESS_SEED"))
    return std::strtoull(text, nullptr, 10);
  return default_seed;
}

template <class Rng> int64_t uniform(Rng& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>{lo, hi}(rng);
}

template <class Rng> bool chance(Rng& rng, double p) {
  return std::bernoulli_distribution{p}(rng);
}

template <class Rng, class T> T pick(Rng& rng, const std::vector<T>& xs) {
  return xs[static_cast<size_t>(uniform(rng, 0, int64_t(xs.size()) - 1))];
}

/// A random non-empty text of at most 1000 characters: plain, with JSON
/// escapes, with non-ASCII characters, or long.
template <class Rng> std::string random_text(Rng& rng, const std::string& tag) {
  auto n = std::to_string(uniform(rng, 0, 999999));
  switch (uniform(rng, 0, 9)) {
  case 0:
    return tag + " \"quoted\" back\\slash /slash\ttab " + n;
  case 1:
    return tag + " \xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80 " + n; // ü€😀
  case 2:
    return tag + std::string(static_cast<size_t>(uniform(rng, 100, 990)), 'L');
  default:
    return tag + "-" + n;
  }
}

// -- reads --------------------------------------------------------------------

/// A random read among ids up to `max_id` (+3, so some never existed).
template <class Rng>
read_target random_read(Rng& rng, int64_t max_object, int64_t max_category,
                        int64_t max_related) {
  read_target t;
  auto roll = uniform(rng, 0, 99);
  if (roll < 50) {
    t.kind = read_target::object;
    t.id = uniform(rng, 1, max_object + 3);
  } else if (roll < 62) {
    t.kind = read_target::category;
    t.id = uniform(rng, 1, max_category + 3);
  } else if (roll < 74) {
    t.kind = read_target::related_object;
    t.id = uniform(rng, 1, max_related + 3);
  } else {
    t.kind = read_target::list;
    if (chance(rng, 0.5))
      t.category_id = uniform(rng, 1, max_category + 1);
    if (chance(rng, 0.5))
      t.after = uniform(rng, 0, max_object);
    if (chance(rng, 0.7))
      t.limit = static_cast<int>(uniform(rng, 1, 30));
  }
  return t;
}

/// The few rows that phase 2 concentrates reads and writes on, so that
/// fills race with the invalidations of their own keys.
struct hot_set {
  std::vector<int64_t> objects;
  std::vector<int64_t> categories;
};

/// A read of a hot key: a hot object or category, or one of two small lists.
template <class Rng> read_target hot_read(Rng& rng, const hot_set& hot) {
  read_target t;
  auto roll = uniform(rng, 0, 99);
  if (roll < 50) {
    t.kind = read_target::object;
    t.id = pick(rng, hot.objects);
  } else if (roll < 65) {
    t.kind = read_target::category;
    t.id = pick(rng, hot.categories);
  } else {
    t.kind = read_target::list;
    t.limit = 5;
    if (roll < 80)
      t.category_id = pick(rng, hot.categories);
  }
  return t;
}

/// Checks one answer to `t` sent with X-Min-Seq `min_seq`. `expected_at(s)`
/// returns what the API must answer for data consistent with seq s: a JSON
/// body, null for a 404, or nullopt when no state at s is known. Returns a
/// failure message, or nullopt when the answer is right.
std::optional<std::string>
verify(const http_answer& a, const read_target& t, int64_t min_seq,
       const std::function<std::optional<json>(int64_t)>& expected_at) {
  std::ostringstream why;
  why << "GET " << t.url() << " with X-Min-Seq " << min_seq << ": ";
  if (!a.answered() || (a.status != 200 && a.status != 404)) {
    why << a.describe();
    return why.str();
  }
  auto seq = a.x_seq();
  if (!seq) {
    why << "no X-Seq; " << a.describe();
    return why.str();
  }
  if (*seq < min_seq) {
    why << "X-Seq " << *seq << " is older than X-Min-Seq";
    return why.str();
  }
  auto expected = expected_at(*seq);
  if (!expected) {
    why << "X-Seq " << *seq << " is not a seq the writer acknowledged";
    return why.str();
  }
  if (expected->is_null()) {
    auto body = a.json_body();
    bool not_found = a.status == 404 && body.is_object() &&
                     body.contains("error") && body["error"].is_object() &&
                     body["error"].value("code", "") == "not_found";
    if (!not_found) {
      why << "expected 404 not_found at X-Seq " << *seq << ", got "
          << a.describe();
      return why.str();
    }
    return std::nullopt;
  }
  if (a.status != 200 || a.json_body().dump() != expected->dump()) {
    auto text = expected->dump();
    if (text.size() > 600)
      text = text.substr(0, 600) + "[...]";
    why << "at X-Seq " << *seq << " expected 200 " << text << ", got "
        << a.describe();
    return why.str();
  }
  return std::nullopt;
}

// -- the model of the database ------------------------------------------------

/// The model of the write phase, plus the ids that once existed and were
/// deleted (for reads that must answer 404).
struct model : write_model {
  std::vector<int64_t> gone_categories;
  std::vector<int64_t> gone_related_objects;
  std::vector<int64_t> gone_objects;
};

/// The rows one write may have changed, as the database holds them right
/// after it: the row it named or created and, for a category or a related
/// object, the object views that join it. Null for a row that is gone.
struct touched_rows {
  /// max(commit_log.seq) right after the write.
  int64_t seq = 0;
  /// {"view": object view, "category_id": id}, as `oracle::object_entry`.
  std::map<int64_t, json> objects;
  std::map<int64_t, json> categories;
  std::map<int64_t, json> related_objects;
};

// -- the history of every view, per seq ---------------------------------------

/// Every version of every view since the concurrent phase began, recorded
/// from the oracle right after each acknowledged write, so readers can ask
/// what the API must answer for data consistent with a given seq.
class history {
public:
  /// Records `state`, the whole database right after commit `state.seq`.
  void record(const oracle_state& state) {
    std::lock_guard<std::mutex> guard{mtx_};
    for (const auto& [id, view] : state.objects)
      add_object_version(
          id, state.seq,
          json{{"view", view}, {"category_id", state.object_category.at(id)}});
    for (auto& [id, v] : objects_)
      if (state.objects.count(id) == 0)
        add_object_version(id, state.seq, nullptr);
    record_rows(categories_, state.categories, state.seq);
    for (auto& [id, v] : categories_)
      if (state.categories.count(id) == 0)
        add_version(categories_, id, state.seq, nullptr);
    record_rows(related_, state.related_objects, state.seq);
    for (auto& [id, v] : related_)
      if (state.related_objects.count(id) == 0)
        add_version(related_, id, state.seq, nullptr);
    advance(state.seq);
  }

  /// Records the rows one write changed, right after commit `rows.seq`; the
  /// others keep their versions.
  void record(const touched_rows& rows) {
    std::lock_guard<std::mutex> guard{mtx_};
    for (const auto& [id, value] : rows.objects)
      add_object_version(id, rows.seq, value);
    record_rows(categories_, rows.categories, rows.seq);
    record_rows(related_, rows.related_objects, rows.seq);
    advance(rows.seq);
  }

  /// Marks the end of the writes: waits for later seqs stop.
  void close() {
    std::lock_guard<std::mutex> guard{mtx_};
    closed_ = true;
    cv_.notify_all();
  }

  /// What `t` must answer for data consistent with `seq`; waits (bounded)
  /// until the writer has recorded `seq`. Nullopt when `seq` is outside the
  /// recorded range.
  std::optional<json> expected_at(const read_target& t, int64_t seq) {
    std::unique_lock<std::mutex> lock{mtx_};
    cv_.wait_for(lock, 10s, [&] { return recorded_ >= seq || closed_; });
    if (seq > recorded_ || seq < first_)
      return std::nullopt;
    switch (t.kind) {
    case read_target::object: {
      auto value = value_at(objects_, t.id, seq);
      return value.is_null() ? value : value["view"];
    }
    case read_target::category:
      return value_at(categories_, t.id, seq);
    case read_target::related_object:
      return value_at(related_, t.id, seq);
    case read_target::list:
      break;
    }
    auto items = json::array();
    auto limit = static_cast<size_t>(t.effective_limit());
    json next_after = nullptr;
    // The rows that can be live at `seq`: those live now and those deleted
    // after it (ids are never reused), not every id a long run ever made.
    std::vector<int64_t> candidates{live_objects_.upper_bound(t.after),
                                    live_objects_.end()};
    for (auto i = deleted_.upper_bound(seq); i != deleted_.end(); ++i)
      if (i->second > t.after)
        candidates.push_back(i->second);
    std::sort(candidates.begin(), candidates.end());
    for (auto id : candidates) {
      auto value = value_at(objects_.at(id), seq);
      if (value.is_null() ||
          (t.category_id != 0 && value["category_id"] != t.category_id))
        continue;
      if (items.size() == limit) {
        next_after = items.back()["id"];
        break;
      }
      items.push_back(value["view"]);
    }
    return json{{"items", std::move(items)}, {"next_after", next_after}};
  }

private:
  using versions = std::vector<std::pair<int64_t, json>>;

  // Adds `value` as the version of `id` from `seq` on, unless it is the
  // version in force already.
  static void add_version(std::map<int64_t, versions>& all, int64_t id,
                          int64_t seq, json value) {
    auto& v = all[id];
    if (v.empty() || v.back().second != value)
      v.emplace_back(seq, std::move(value));
  }

  // `add_version` for an object view, keeping `live_objects_` and
  // `deleted_`.
  void add_object_version(int64_t id, int64_t seq, json value) {
    if (!value.is_null())
      live_objects_.insert(id);
    else if (live_objects_.erase(id) != 0)
      deleted_.emplace(seq, id);
    add_version(objects_, id, seq, std::move(value));
  }

  static void record_rows(std::map<int64_t, versions>& all,
                          const std::map<int64_t, json>& rows, int64_t seq) {
    for (const auto& [id, value] : rows)
      add_version(all, id, seq, value);
  }

  void advance(int64_t seq) {
    if (first_ < 0)
      first_ = seq;
    recorded_ = seq;
    cv_.notify_all();
  }

  // The version in force at `seq`: the last one from at or before it. A
  // long run piles up thousands of versions of the hot rows.
  static json value_at(const versions& v, int64_t seq) {
    auto after = std::upper_bound(
        v.begin(), v.end(), seq,
        [](int64_t s, const std::pair<int64_t, json>& version) {
          return s < version.first;
        });
    return after == v.begin() ? json{} : std::prev(after)->second;
  }

  static json value_at(const std::map<int64_t, versions>& all, int64_t id,
                       int64_t seq) {
    auto i = all.find(id);
    return i == all.end() ? json{} : value_at(i->second, seq);
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  int64_t first_ = -1;
  int64_t recorded_ = -1;
  bool closed_ = false;
  std::map<int64_t, versions> objects_;
  // The objects whose latest version is a view, and the seq each other one
  // was deleted at.
  std::set<int64_t> live_objects_;
  std::multimap<int64_t, int64_t> deleted_;
  std::map<int64_t, versions> categories_;
  std::map<int64_t, versions> related_;
};

// -- the writer ---------------------------------------------------------------

/// Makes random writes, predicts each status from the model, and checks the
/// acknowledgement and the database after each one.
class writer {
public:
  writer(cqrsd_process& proc, oracle& db, uint64_t seed)
      : proc_(proc), db_(db), rng_(seed) {
    // nop
  }

  std::mt19937_64& rng() { return rng_; }
  const model& state() const { return m_; }
  int64_t last_seq() const { return last_seq_; }
  const std::map<int, int>& statuses() const { return statuses_; }

  /// Creates a few rows of each kind.
  touched_rows seed_rows() {
    touched_rows s;
    for (int i = 0; i < 4; ++i)
      s = create_category();
    for (int i = 0; i < 4; ++i)
      s = create_related();
    for (int i = 0; i < 6; ++i)
      s = create_object(valid_related(), valid_category());
    return s;
  }

  /// Updates the live object `id`, with new texts and references.
  touched_rows update_object(int64_t id) {
    auto related = valid_related();
    auto category = valid_category();
    return expect_ack("PUT", "/objects/" + std::to_string(id),
                      object_body(related, category), 200,
                      [&, related, category](int64_t acked) {
                        m_.objects[acked] = row_of(related, category);
                      });
  }

  /// Updates the live category `id` with a new description.
  touched_rows update_category(int64_t id) {
    return expect_ack("PUT", "/categories/" + std::to_string(id),
                      category_body(), 200, [&](int64_t acked) {
                        m_.categories[acked]["description"] =
                            last_body_["description"];
                      });
  }

  /// Makes one random write and returns the database right after it.
  touched_rows random_write() {
    // Weights of: create, update, update missing, delete, delete missing
    // category; the same for related objects; create, create with a missing
    // related object, create with a missing category, update, update with a
    // missing reference, update missing, delete, delete missing object.
    static const std::vector<double> weights{12, 8,  2, 5, 2,  12, 8, 2, 5,
                                             2,  20, 3, 3, 10, 3,  2, 8, 2};
    std::discrete_distribution<int> pick_op{weights.begin(), weights.end()};
    auto op = pick_op(rng_);
    // Fall back to a create when the rows an operation needs are missing.
    if (m_.categories.empty())
      op = 0;
    else if (m_.related_objects.empty())
      op = 5;
    else if ((op == 13 || op == 14 || op == 16) && m_.objects.empty())
      op = 10;
    // At the cap, a create becomes a delete of the same kind.
    auto at_cap = [&](size_t live) {
      return static_cast<long>(live) >= max_rows_;
    };
    if (op == 0 && at_cap(m_.categories.size()))
      op = 3;
    else if (op == 5 && at_cap(m_.related_objects.size()))
      op = 8;
    else if (op == 10 && at_cap(m_.objects.size()))
      op = 16;
    switch (op) {
    case 0:
      return create_category();
    case 1:
      return update_category(valid_category());
    case 2:
      return expect_error("PUT",
                          "/categories/" + std::to_string(missing_category()),
                          category_body(), 404, "not_found");
    case 3: {
      auto id = std::stoll(id_of(m_.categories));
      auto target = "/categories/" + std::to_string(id);
      if (m_.category_referenced(id))
        return expect_error("DELETE", target, nullptr, 409, "still_referenced");
      return expect_ack("DELETE", target, nullptr, 200, [&](int64_t gone) {
        m_.categories.erase(gone);
        m_.gone_categories.push_back(gone);
      });
    }
    case 4:
      return expect_error("DELETE",
                          "/categories/" + std::to_string(missing_category()),
                          nullptr, 404, "not_found");
    case 5:
      return create_related();
    case 6:
      return expect_ack("PUT", "/related-objects/" + id_of(m_.related_objects),
                        related_body(), 200, [&](int64_t id) {
                          m_.related_objects[id]["content_description"] =
                              last_body_["content_description"];
                          m_.related_objects[id]["content_type"] =
                              last_body_["content_type"];
                        });
    case 7:
      return expect_error(
          "PUT", "/related-objects/" + std::to_string(missing_related()),
          related_body(), 404, "not_found");
    case 8: {
      auto id = std::stoll(id_of(m_.related_objects));
      auto target = "/related-objects/" + std::to_string(id);
      if (m_.related_referenced(id))
        return expect_error("DELETE", target, nullptr, 409, "still_referenced");
      return expect_ack("DELETE", target, nullptr, 200, [&](int64_t gone) {
        m_.related_objects.erase(gone);
        m_.gone_related_objects.push_back(gone);
      });
    }
    case 9:
      return expect_error(
          "DELETE", "/related-objects/" + std::to_string(missing_related()),
          nullptr, 404, "not_found");
    case 10:
      return create_object(valid_related(), valid_category());
    case 11:
      return expect_error("POST", "/objects",
                          object_body(missing_related(), valid_category()), 422,
                          "missing_reference");
    case 12:
      return expect_error("POST", "/objects",
                          object_body(valid_related(), missing_category()), 422,
                          "missing_reference");
    case 13:
      return update_object(std::stoll(id_of(m_.objects)));
    case 14: {
      auto body = chance(rng_, 0.5)
                      ? object_body(missing_related(), valid_category())
                      : object_body(valid_related(), missing_category());
      return expect_error("PUT", "/objects/" + id_of(m_.objects), body, 422,
                          "missing_reference");
    }
    case 15:
      return expect_error("PUT", "/objects/" + std::to_string(missing_object()),
                          object_body(valid_related(), valid_category()), 404,
                          "not_found");
    case 16:
      return expect_ack("DELETE", "/objects/" + id_of(m_.objects), nullptr, 200,
                        [&](int64_t gone) {
                          m_.objects.erase(gone);
                          m_.gone_objects.push_back(gone);
                        });
    default:
      return expect_error("DELETE",
                          "/objects/" + std::to_string(missing_object()),
                          nullptr, 404, "not_found");
    }
  }

private:
  // -- bodies -----------------------------------------------------------------

  json category_body() {
    return json{{"description", random_text(rng_, "category")}};
  }

  json related_body() {
    static const std::vector<std::string> types{
        "image/png", "text/plain", "video/mp4", "application/json"};
    return json{{"content_description", random_text(rng_, "related")},
                {"content_type", pick(rng_, types)}};
  }

  json object_body(int64_t related, int64_t category) {
    return json{{"name", random_text(rng_, "object")},
                {"child",
                 {{"access_code", random_text(rng_, "code")},
                  {"related_object_id", related},
                  {"category_id", category}}}};
  }

  object_row row_of(int64_t related, int64_t category) const {
    return {last_body_["name"].get<std::string>(),
            last_body_["child"]["access_code"].get<std::string>(), related,
            category};
  }

  // -- ids --------------------------------------------------------------------

  template <class Map> std::string id_of(const Map& xs) {
    auto i = xs.begin();
    std::advance(i, uniform(rng_, 0, int64_t(xs.size()) - 1));
    return std::to_string(i->first);
  }

  int64_t valid_category() { return std::stoll(id_of(m_.categories)); }
  int64_t valid_related() { return std::stoll(id_of(m_.related_objects)); }

  /// An id that is not live: a deleted one or one that never existed.
  template <class Map>
  int64_t missing(const Map& live, const std::vector<int64_t>& gone,
                  int64_t max_id) {
    if (!gone.empty() && chance(rng_, 0.6)) {
      auto id = pick(rng_, gone);
      if (live.count(id) == 0)
        return id;
    }
    return max_id + uniform(rng_, 1000, 100000);
  }

  int64_t missing_category() {
    return missing(m_.categories, m_.gone_categories, m_.max_category);
  }
  int64_t missing_related() {
    return missing(m_.related_objects, m_.gone_related_objects,
                   m_.max_related_object);
  }
  int64_t missing_object() {
    return missing(m_.objects, m_.gone_objects, m_.max_object);
  }

  // -- creates ----------------------------------------------------------------

  touched_rows create_category() {
    return expect_ack(
        "POST", "/categories", category_body(), 201, [&](int64_t id) {
          m_.categories[id] = {{"id", id},
                               {"description", last_body_["description"]}};
          m_.max_category = std::max(m_.max_category, id);
        });
  }

  touched_rows create_related() {
    return expect_ack(
        "POST", "/related-objects", related_body(), 201, [&](int64_t id) {
          m_.related_objects[id] = {
              {"id", id},
              {"content_description", last_body_["content_description"]},
              {"content_type", last_body_["content_type"]}};
          m_.max_related_object = std::max(m_.max_related_object, id);
        });
  }

  touched_rows create_object(int64_t related, int64_t category) {
    return expect_ack("POST", "/objects", object_body(related, category), 201,
                      [&, related, category](int64_t id) {
                        m_.objects[id] = row_of(related, category);
                        m_.max_object = std::max(m_.max_object, id);
                      });
  }

  // -- sending and checking ---------------------------------------------------

  http_answer send(const std::string& method, const std::string& target,
                   const json& body) {
    last_body_ = body;
    auto a = body.is_null() ? proc_.request(method, target)
                            : proc_.request(method, target, body.dump());
    ++statuses_[a.status];
    return a;
  }

  /// Sends a write that must succeed with `status`; applies it to the model
  /// with the acknowledged id and checks the database.
  touched_rows expect_ack(const std::string& method, const std::string& target,
                          const json& body, int status,
                          const std::function<void(int64_t)>& apply) {
    auto a = send(method, target, body);
    BOOST_TEST_REQUIRE(a.status == status, method << ' ' << target << ' '
                                                  << body.dump() << ": "
                                                  << a.describe());
    auto ack = a.json_body();
    BOOST_TEST_REQUIRE(
        (ack.is_object() && ack.contains("id") && ack.contains("seq")), a.body);
    auto seq = ack["seq"].get<int64_t>();
    BOOST_TEST_REQUIRE(seq == last_seq_ + 1, method << ' ' << target << ": seq "
                                                    << seq << " after "
                                                    << last_seq_);
    last_seq_ = seq;
    auto id = ack["id"].get<int64_t>();
    apply(id);
    return check_database(method + " " + target, target, id);
  }

  /// Sends a write that must fail with `status` and `code` and change
  /// nothing.
  touched_rows expect_error(const std::string& method,
                            const std::string& target, const json& body,
                            int status, const std::string& code) {
    auto a = send(method, target, body);
    BOOST_TEST_REQUIRE(a.status == status, method << ' ' << target << ' '
                                                  << body.dump() << ": "
                                                  << a.describe());
    auto err = a.json_body();
    BOOST_TEST((err.is_object() && err.contains("error") &&
                err["error"].value("code", "") == code),
               a.body);
    return check_database(
        method + " " + target + " (" + std::to_string(status) + ")", target, 0);
  }

  /// Checks the database after the write to `target` (acknowledged with
  /// `acked`, the id it wrote; 0 for a refusal): its seq is the last
  /// acknowledged one, and the rows the write may have changed equal the
  /// model. Every row of the database is compared as well, once per
  /// sixteenth of the live rows in writes: every few writes while the tables
  /// are small, and at a cost per write that does not grow with them.
  /// Returns the rows it checked.
  touched_rows check_database(const std::string& after,
                              const std::string& target, int64_t acked) {
    auto rows = touched_by(target, acked);
    BOOST_TEST_REQUIRE(rows.seq == last_seq_,
                       "after " << after << ": seq " << rows.seq
                                << ", expected " << last_seq_);
    auto expect = [&](const char* kind, int64_t id, const json& database,
                      const json& model) {
      BOOST_TEST_REQUIRE(database == model,
                         "after " << after << ": " << kind << ' ' << id
                                  << ": database " << database.dump()
                                  << ", model " << model.dump());
    };
    for (const auto& [id, value] : rows.objects) {
      auto i = m_.objects.find(id);
      expect("object", id, value,
             i == m_.objects.end()
                 ? json{}
                 : json{{"view", m_.view(id, i->second)},
                        {"category_id", i->second.category_id}});
    }
    for (const auto& [id, value] : rows.categories) {
      auto i = m_.categories.find(id);
      expect("category", id, value,
             i == m_.categories.end() ? json{} : i->second);
    }
    for (const auto& [id, value] : rows.related_objects) {
      auto i = m_.related_objects.find(id);
      expect("related object", id, value,
             i == m_.related_objects.end() ? json{} : i->second);
    }
    auto live =
        m_.objects.size() + m_.categories.size() + m_.related_objects.size();
    if (++writes_since_full_check_ * 16 >= live) {
      writes_since_full_check_ = 0;
      auto s = db_.state();
      BOOST_TEST_REQUIRE(s.seq == last_seq_, "after " << after << ": seq "
                                                      << s.seq << ", expected "
                                                      << last_seq_);
      auto difference = m_.diff(s);
      BOOST_TEST_REQUIRE(difference.empty(),
                         "after " << after << ": " << difference);
    }
    return rows;
  }

  /// The rows the write to `target` may have changed, read from the
  /// database: the row it names (or `acked`, a created row's id) and, for a
  /// category or a related object, the object views the model says join it.
  touched_rows touched_by(const std::string& target, int64_t acked) {
    touched_rows rows;
    rows.seq = db_.max_seq();
    auto slash = target.find('/', 1);
    auto collection = target.substr(0, slash);
    auto id = acked;
    if (id == 0 && slash != std::string::npos)
      id = std::stoll(target.substr(slash + 1));
    if (id == 0) // a refused create: only the seq tells
      return rows;
    auto add_objects_joining = [&](auto joins) {
      for (const auto& [object, row] : m_.objects)
        if (joins(row))
          rows.objects[object] = db_.object_entry(object);
    };
    if (collection == "/objects") {
      rows.objects[id] = db_.object_entry(id);
    } else if (collection == "/categories") {
      rows.categories[id] = db_.category(id);
      add_objects_joining(
          [&](const object_row& row) { return row.category_id == id; });
    } else {
      BOOST_TEST_REQUIRE(collection == "/related-objects", target);
      rows.related_objects[id] = db_.related_object(id);
      add_objects_joining(
          [&](const object_row& row) { return row.related_object_id == id; });
    }
    return rows;
  }

  cqrsd_process& proc_;
  oracle& db_;
  std::mt19937_64 rng_;
  const long max_rows_ = max_live_rows();
  model m_;
  json last_body_;
  int64_t last_seq_ = 0;
  size_t writes_since_full_check_ = 0;
  std::map<int, int> statuses_;
};

// -- fixture ------------------------------------------------------------------

/// A node with 4 query actors that reads go to round robin, and the oracle.
struct fixture {
  fixture()
      : proc(database.with({{"query.routing", "round_robin"},
                            {"query.actors", std::to_string(query_actors)},
                            {"query.min_seq_timeout_ms", "5000"}})),
        db(database.open_oracle(proc)) {
    BOOST_TEST_MESSAGE("backend " << backend_name(database.backend));
  }

  // Declared first: the database outlives the process and the oracle.
  test_database database;
  cqrsd_process proc;
  oracle db;
};

} // namespace

BOOST_AUTO_TEST_SUITE(freshness)

BOOST_FIXTURE_TEST_CASE(reads_with_min_seq_equal_the_oracle, fixture) {
  auto seed = pick_seed();
  BOOST_TEST_MESSAGE("seed " << seed
                             << " (set CQRSD_FRESHNESS_SEED to change)");
  auto started = clock_type::now();
  writer w{proc, db, seed};
  auto& rng = w.rng();
  long writes = 0;
  long reads = 0;

  BOOST_TEST_MESSAGE("seed rows");
  w.seed_rows();

  const long sequential_ops = ::sequential_ops();
  const long concurrent_writes = ::concurrent_writes();
  BOOST_TEST_MESSAGE("phase 1: " << sequential_ops
                                 << " random operations, one at a time");
  for (long op = 0; op < sequential_ops; ++op) {
    if (chance(rng, 0.45)) {
      w.random_write();
      ++writes;
      continue;
    }
    const auto& m = w.state();
    auto t =
        random_read(rng, m.max_object, m.max_category, m.max_related_object);
    // Repeat the read so that it goes through several query actors and
    // later reads hit their caches.
    auto repeats = uniform(rng, 1, query_actors);
    auto min_seq = w.last_seq();
    for (int i = 0; i < repeats; ++i) {
      auto a = proc.get(t.url(), {{"X-Min-Seq", std::to_string(min_seq)}});
      ++reads;
      auto failure =
          verify(a, t, min_seq, [&](int64_t seq) -> std::optional<json> {
            if (seq != db.max_seq())
              return std::nullopt;
            return expected_now(db, t);
          });
      BOOST_TEST(!failure.has_value(),
                 "operation " << op << ": " << failure.value_or(""));
      if (failure)
        return;
    }
  }
  BOOST_TEST_MESSAGE("phase 1 done: " << writes << " writes, " << reads
                                      << " reads, seq " << w.last_seq());

  BOOST_TEST_MESSAGE("phase 2: one writer ("
                     << concurrent_writes << " writes) and " << reader_threads
                     << " readers");
  history h;
  h.record(db.state());
  std::atomic<int64_t> acknowledged{w.last_seq()};
  std::atomic<int64_t> max_object{w.state().max_object};
  std::atomic<int64_t> max_category{w.state().max_category};
  std::atomic<int64_t> max_related{w.state().max_related_object};
  std::atomic<bool> writing{true};
  std::atomic<long> concurrent_reads{0};
  std::atomic<long> reads_during_writes{0};
  hot_set hot;
  for (const auto& [id, row] : w.state().objects) {
    if (hot.objects.size() == 4)
      break;
    hot.objects.push_back(id);
    hot.categories.push_back(row.category_id);
  }
  BOOST_TEST_REQUIRE(!hot.objects.empty());
  std::mutex failures_mtx;
  std::vector<std::string> failures;
  long failure_count = 0;
  std::vector<std::thread> readers;
  // Stops and joins the readers however this scope is left.
  struct joiner {
    std::atomic<bool>& writing;
    history& h;
    std::vector<std::thread>& threads;
    ~joiner() {
      writing = false;
      h.close();
      for (auto& t : threads)
        if (t.joinable())
          t.join();
    }
  } join_readers{writing, h, readers};
  for (int r = 0; r < reader_threads; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng{seed + 1 + static_cast<uint64_t>(r)};
      auto client = proc.make_client();
      for (int n = 0; writing || n < min_reads_per_reader; ++n) {
        bool during_writes = writing;
        auto t = chance(rng, 0.5)
                     ? hot_read(rng, hot)
                     : random_read(rng, max_object, max_category, max_related);
        auto min_seq = acknowledged.load();
        auto a = send_request(*client, "GET", t.url(), "", "",
                              {{"X-Min-Seq", std::to_string(min_seq)}});
        auto failure = verify(
            a, t, min_seq, [&](int64_t seq) { return h.expected_at(t, seq); });
        ++concurrent_reads;
        if (during_writes)
          ++reads_during_writes;
        if (failure) {
          std::lock_guard<std::mutex> guard{failures_mtx};
          ++failure_count;
          if (failures.size() < 10)
            failures.push_back("reader " + std::to_string(r) + ": " + *failure);
        }
      }
    });
  }
  for (long i = 0; i < concurrent_writes; ++i) {
    // A third of the writes change the hot rows the readers keep reading.
    std::vector<int64_t> live_hot;
    for (auto id : hot.objects)
      if (w.state().objects.count(id) != 0)
        live_hot.push_back(id);
    touched_rows s;
    if (!live_hot.empty() && chance(rng, 0.33)) {
      auto id = pick(rng, live_hot);
      s = chance(rng, 0.5)
              ? w.update_object(id)
              : w.update_category(w.state().objects.at(id).category_id);
    } else {
      s = w.random_write();
    }
    ++writes;
    h.record(s);
    acknowledged = w.last_seq();
    max_object = w.state().max_object;
    max_category = w.state().max_category;
    max_related = w.state().max_related_object;
    // The writer reads its own writes too.
    if (chance(rng, 0.3)) {
      const auto& m = w.state();
      auto t =
          random_read(rng, m.max_object, m.max_category, m.max_related_object);
      auto min_seq = w.last_seq();
      auto a = proc.get(t.url(), {{"X-Min-Seq", std::to_string(min_seq)}});
      ++reads;
      auto failure =
          verify(a, t, min_seq, [&](int64_t seq) -> std::optional<json> {
            if (seq != min_seq)
              return std::nullopt;
            return h.expected_at(t, seq);
          });
      BOOST_TEST(!failure.has_value(), "writer: " << failure.value_or(""));
    }
  }
  writing = false;
  h.close();
  for (auto& t : readers)
    t.join();
  reads += concurrent_reads;
  BOOST_TEST_MESSAGE("phase 2 done: " << concurrent_reads << " reader reads ("
                                      << reads_during_writes
                                      << " while writing), seq "
                                      << w.last_seq());
  BOOST_TEST(failure_count == 0, failure_count << " wrong reads");
  for (const auto& f : failures)
    BOOST_TEST_MESSAGE("  " << f);

  BOOST_TEST_MESSAGE("totals: " << writes << " writes, " << reads << " reads");
  std::ostringstream statuses;
  for (const auto& [status, n] : w.statuses())
    statuses << ' ' << status << ": " << n;
  BOOST_TEST_MESSAGE("write statuses:" << statuses.str());
  BOOST_TEST(writes + reads >= sequential_ops);
  BOOST_TEST(reads_during_writes > 0);
  for (int status : {200, 201, 404, 409, 422})
    BOOST_TEST(w.statuses().count(status) == 1, "no write answered " << status);

  BOOST_TEST_MESSAGE("every query actor applied the last seq");
  auto deadline = clock_type::now() + 5s;
  json status;
  for (;;) {
    status = proc.get("/status").json_body();
    bool caught_up = status.is_object() && status["query_actors"].is_array() &&
                     status["query_actors"].size() == size_t{query_actors};
    if (caught_up)
      for (const auto& actor : status["query_actors"])
        caught_up = caught_up && actor["applied_seq"] == w.last_seq();
    if (caught_up || clock_type::now() >= deadline)
      break;
    std::this_thread::sleep_for(20ms);
  }
  BOOST_TEST_REQUIRE((status.is_object() && status["query_actors"].is_array()),
                     status.dump());
  BOOST_TEST(status["seq"] == w.last_seq(), status.dump());
  BOOST_TEST(status["query_actors"].size() == size_t{query_actors});
  for (const auto& actor : status["query_actors"])
    BOOST_TEST(actor["applied_seq"] == w.last_seq(), status.dump());

  BOOST_TEST_MESSAGE("the caches were used, in every query actor");
  BOOST_TEST_REQUIRE(!w.state().objects.empty());
  auto any_object = w.state().objects.begin()->first;
  for (int i = 0; i < query_actors; ++i)
    proc.get("/objects/" + std::to_string(any_object));
  status = proc.get("/status").json_body();
  BOOST_TEST_REQUIRE((status.is_object() && status["query_actors"].is_array()),
                     status.dump());
  BOOST_TEST(status["query_actors"].size() == size_t{query_actors});
  for (const auto& actor : status["query_actors"])
    BOOST_TEST(actor.value("cache_entries", 0) > 0, status.dump());
  auto metrics = proc.get("/metrics").body;
  auto value = [&](const std::string& name) { return metric(metrics, name); };
  BOOST_TEST(value("cqrsd_cache_hits_total") > 0);
  BOOST_TEST(value("cqrsd_cache_misses_total") > 0);
  BOOST_TEST(value("cqrsd_query_actor_restarts_total") == 0);
  BOOST_TEST_MESSAGE("cache hits "
                     << value("cqrsd_cache_hits_total") << ", misses "
                     << value("cqrsd_cache_misses_total") << ", stale fills "
                     << value("cqrsd_stale_fills_refused_total") << "; took "
                     << std::chrono::duration_cast<std::chrono::seconds>(
                            clock_type::now() - started)
                            .count()
                     << " s");
}

BOOST_AUTO_TEST_SUITE_END()
