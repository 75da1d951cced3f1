// End-to-end tests against a real cqrsd process: the HTTP API, every error
// of the contract, the command line, and shutdown and restart. The processes
// run on the backend named by CQRSD_TEST_BACKEND, SQLite by default.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "fixtures/acknowledged_write.hpp"
#include "fixtures/api_model.hpp"
#include "fixtures/cqrsd_process.hpp"
#include "fixtures/temp_db.hpp"

using namespace cqrs::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

json object_view(int64_t id, const std::string& name,
                 const std::string& access_code,
                 const std::string& content_description,
                 const std::string& content_type,
                 const std::string& category_description) {
  return {{"id", id},
          {"name", name},
          {"access_code", access_code},
          {"content_description", content_description},
          {"content_type", content_type},
          {"category_description", category_description}};
}

std::string path(const std::string& collection, int64_t id) {
  return collection + "/" + std::to_string(id);
}

// -- checks -------------------------------------------------------------------

/// Whether `body` is exactly {"error":{"code":<string>,"message":<string>}}
/// with a non-empty message.
bool is_error_body(const json& body) {
  if (!body.is_object() || body.size() != 1 || !body.contains("error"))
    return false;
  const auto& err = body["error"];
  return err.is_object() && err.size() == 2 && err.contains("code") &&
         err["code"].is_string() && err.contains("message") &&
         err["message"].is_string() &&
         !err["message"].get<std::string>().empty();
}

/// Checks that `a` is the documented error: `status`, a JSON content type
/// and the body {"error":{"code":code,"message":...}}.
void check_error(const http_answer& a, int status, const std::string& code) {
  BOOST_TEST(a.status == status,
             "expected " << status << ", got " << a.describe());
  BOOST_TEST(a.header("Content-Type").rfind("application/json", 0) == 0,
             "Content-Type '" << a.header("Content-Type") << "'");
  auto body = a.json_body();
  BOOST_TEST(is_error_body(body),
             "not {\"error\":{\"code\",\"message\"}}: " << a.body);
  if (is_error_body(body))
    BOOST_TEST(body["error"]["code"].get<std::string>() == code);
}

/// Compares JSON documents, printing both on a mismatch.
void check_json(const json& actual, const json& expected) {
  BOOST_TEST(actual.dump() == expected.dump());
}

/// The methods of an Allow header value, e.g. "GET, HEAD, POST".
std::set<std::string> methods(const std::string& allow) {
  std::set<std::string> result;
  std::istringstream in{allow};
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty())
      result.insert(item);
  }
  return result;
}

/// Status code of a raw HTTP answer ("HTTP/1.1 201 Created ..."), or 0.
int raw_status(const std::string& answer) {
  if (answer.rfind("HTTP/1.1 ", 0) != 0 || answer.size() < 12)
    return 0;
  return std::stoi(answer.substr(9, 3));
}

/// The value of header `name` (matched case-insensitively) of a raw HTTP
/// answer, or nullopt when it is absent.
std::optional<std::string> raw_header(const std::string& answer,
                                      const std::string& name) {
  auto lower = [](std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return text;
  };
  auto head = answer.substr(0, answer.find("\r\n\r\n"));
  std::istringstream in{head};
  std::string line;
  std::getline(in, line); // the status line
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos ||
        lower(line.substr(0, colon)) != lower(name))
      continue;
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of(' ') + 1);
    return value;
  }
  return std::nullopt;
}

/// Body of a raw HTTP answer.
std::string raw_body(const std::string& answer) {
  auto pos = answer.find("\r\n\r\n");
  return pos == std::string::npos ? std::string{} : answer.substr(pos + 4);
}

/// A scratch directory for configuration files, removed at the end.
struct scratch_dir {
  scratch_dir() {
    char pattern[] = "/tmp/cqrsd-cli-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    BOOST_REQUIRE(made != nullptr);
    dir = made;
  }

  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  std::string write(const std::string& name, const std::string& text) {
    auto file = dir + "/" + name;
    std::ofstream out{file};
    out << text;
    out.close();
    BOOST_REQUIRE(out.good());
    return file;
  }

  std::string dir;
};

// -- fixture ------------------------------------------------------------------

/// A cqrsd process with a small body limit, the oracle on its database, and
/// the seq of the last acknowledged write.
struct fixture {
  static constexpr size_t max_body = 8192;

  fixture()
      : proc(
            database.with({{"http.max_body_bytes", std::to_string(max_body)}})),
        db(database.open_oracle(proc)) {
    BOOST_TEST_MESSAGE("backend " << backend_name(database.backend));
  }

  /// Sends a write and requires `status` with the body {"id","seq"}, where
  /// seq is the previous write's seq plus one. Returns the id.
  int64_t write(const std::string& method, const std::string& target,
                const json& body, int status) {
    return acknowledged_write(proc, method, target,
                              method == "DELETE" ? "" : body.dump(), status,
                              last_seq);
  }

  int64_t create(const std::string& collection, const json& body) {
    return write("POST", collection, body, 201);
  }

  void update(const std::string& collection, int64_t id, const json& body) {
    BOOST_TEST(write("PUT", path(collection, id), body, 200) == id);
  }

  void remove(const std::string& collection, int64_t id) {
    BOOST_TEST(write("DELETE", path(collection, id), nullptr, 200) == id);
  }

  /// Reads with X-Min-Seq = the last acknowledged seq; requires 200 and an
  /// X-Seq of at least that seq. Returns the body.
  json read(const std::string& target) {
    auto a = proc.get(target, {{"X-Min-Seq", std::to_string(last_seq)}});
    BOOST_TEST_REQUIRE(a.status == 200,
                       "GET " << target << ": " << a.describe());
    auto seq = a.x_seq();
    BOOST_TEST_REQUIRE(seq.has_value(), "GET " << target << ": no X-Seq");
    BOOST_TEST(*seq >= last_seq);
    auto body = a.json_body();
    BOOST_TEST_REQUIRE(!body.is_discarded(), "not JSON: " << a.body);
    return body;
  }

  /// Reads with X-Min-Seq and requires 404 not_found with an X-Seq.
  void read_missing(const std::string& target) {
    auto a = proc.get(target, {{"X-Min-Seq", std::to_string(last_seq)}});
    BOOST_TEST_CONTEXT("GET " << target) {
      check_error(a, 404, "not_found");
      BOOST_TEST(a.x_seq().has_value(), "no X-Seq on a 404 read");
      if (auto seq = a.x_seq())
        BOOST_TEST(*seq >= last_seq);
    }
  }

  // Declared first: the database outlives the process and the oracle.
  test_database database;
  cqrsd_process proc;
  oracle db;
  int64_t last_seq = 0;
};

/// One request of the bad-input batch and the error it must get.
struct bad_request {
  std::string what;
  int status = 400;
  std::string code;
  std::string method;
  std::string target;
  std::string body;
  std::string content_type;
  httplib::Headers headers;
  /// For 405: the methods the Allow header must list.
  std::set<std::string> allow;
};

/// Builds the bad-input batch one line per request.
struct bad_batch {
  /// A 400 bad_request for a request with a JSON body (or none).
  void bad(std::string what, std::string method, std::string target,
           std::string body = "") {
    error(400, "bad_request", std::move(what), std::move(method),
          std::move(target), std::move(body));
  }

  /// A read with header X-Min-Seq: `value`, which must get `status`.
  void min_seq(std::string what, std::string target, std::string value,
               int status = 400, std::string code = "bad_request") {
    error(status, std::move(code), std::move(what), "GET", std::move(target))
        .headers = {{"X-Min-Seq", std::move(value)}};
  }

  /// A 405 whose Allow header must list `allow`.
  void not_allowed(std::string method, std::string target,
                   std::set<std::string> allow, std::string body = "") {
    auto what = method + " is not allowed on " + target;
    error(405, "method_not_allowed", std::move(what), std::move(method),
          std::move(target), std::move(body))
        .allow = std::move(allow);
  }

  /// Any error.
  bad_request& error(int status, std::string code, std::string what,
                     std::string method, std::string target,
                     std::string body = "",
                     std::string content_type = "application/json") {
    bad_request x;
    x.what = std::move(what);
    x.status = status;
    x.code = std::move(code);
    x.method = std::move(method);
    x.target = std::move(target);
    x.body = std::move(body);
    x.content_type = std::move(content_type);
    rows.push_back(std::move(x));
    return rows.back();
  }

  std::vector<bad_request> rows;
};

} // namespace

BOOST_AUTO_TEST_SUITE(e2e_api)

// -- commands and queries -----------------------------------------------------

BOOST_FIXTURE_TEST_CASE(crud_of_every_resource, fixture) {
  if (database.is_sqlite())
    BOOST_TEST(std::filesystem::exists(proc.sqlite_path()),
               "no database file at " << proc.sqlite_path());
  else
    BOOST_TEST_MESSAGE("skipped on postgresql: the database file exists at "
                       "database.sqlite_path");
  BOOST_TEST_MESSAGE("categories: create, read, update");
  auto books = create("/categories", category_body("Books"));
  BOOST_TEST(last_seq == 1, "a fresh database starts at seq 1");
  check_json(read(path("/categories", books)),
             {{"id", books}, {"description", "Books"}});
  update("/categories", books, category_body("Science fiction"));
  check_json(read(path("/categories", books)),
             {{"id", books}, {"description", "Science fiction"}});
  check_json(db.category(books),
             {{"id", books}, {"description", "Science fiction"}});
  auto films = create("/categories", category_body("Films"));
  BOOST_TEST(films != books);

  BOOST_TEST_MESSAGE("related objects: create, read, update");
  auto cover = create("/related-objects", related_body("Cover", "image/png"));
  check_json(read(path("/related-objects", cover)),
             {{"id", cover},
              {"content_description", "Cover"},
              {"content_type", "image/png"}});
  update("/related-objects", cover, related_body("Cover art", "image/jpeg"));
  check_json(read(path("/related-objects", cover)),
             {{"id", cover},
              {"content_description", "Cover art"},
              {"content_type", "image/jpeg"}});
  auto trailer =
      create("/related-objects", related_body("Trailer", "video/mp4"));

  BOOST_TEST_MESSAGE("objects: create with a child, read the flat view");
  auto counts = db.row_counts();
  auto dune = create("/objects", object_body("Dune", "A-17", cover, books));
  auto expected = object_view(dune, "Dune", "A-17", "Cover art", "image/jpeg",
                              "Science fiction");
  check_json(read(path("/objects", dune)), expected);
  check_json(db.object_view(dune), expected);
  auto after_create = db.row_counts();
  BOOST_TEST(after_create["top_level_object"] ==
             counts["top_level_object"] + 1);
  BOOST_TEST(after_create["child_object"] == counts["child_object"] + 1);

  BOOST_TEST_MESSAGE("objects: update the object and re-point its child");
  update("/objects", dune, object_body("Dune Messiah", "B-2", trailer, films));
  expected =
      object_view(dune, "Dune Messiah", "B-2", "Trailer", "video/mp4", "Films");
  check_json(read(path("/objects", dune)), expected);
  check_json(db.object_view(dune), expected);
  BOOST_TEST(db.row_counts()["child_object"] == after_create["child_object"],
             "an update keeps exactly one child");

  BOOST_TEST_MESSAGE("a JSON content type with parameters is accepted");
  auto a = proc.request("POST", "/categories", category_body("Music").dump(),
                        "application/json; charset=utf-8");
  BOOST_TEST_REQUIRE(a.status == 201, a.describe());
  BOOST_TEST(a.json_body()["seq"].get<int64_t>() == last_seq + 1);
  last_seq = a.json_body()["seq"].get<int64_t>();
  auto music = a.json_body()["id"].get<int64_t>();

  BOOST_TEST_MESSAGE("a body without Content-Type is accepted as JSON");
  auto body = category_body("Poetry").dump();
  auto raw = proc.raw_request("POST /categories HTTP/1.1\r\n"
                              "Host: 127.0.0.1\r\n"
                              "Connection: close\r\n"
                              "Content-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body);
  BOOST_TEST_REQUIRE(raw_status(raw) == 201, raw);
  auto raw_ack = json::parse(raw_body(raw), nullptr, false);
  BOOST_TEST_REQUIRE(raw_ack.is_object());
  BOOST_TEST(raw_ack["seq"].get<int64_t>() == last_seq + 1);
  last_seq = raw_ack["seq"].get<int64_t>();
  auto poetry = raw_ack["id"].get<int64_t>();
  check_json(read(path("/categories", poetry)),
             {{"id", poetry}, {"description", "Poetry"}});

  BOOST_TEST_MESSAGE("delete the object: its child goes with it");
  auto before_delete = db.row_counts();
  remove("/objects", dune);
  auto after_delete = db.row_counts();
  BOOST_TEST(after_delete["top_level_object"] ==
             before_delete["top_level_object"] - 1);
  BOOST_TEST(after_delete["child_object"] == before_delete["child_object"] - 1);
  BOOST_TEST(db.object_view(dune).is_null());
  read_missing(path("/objects", dune));
  check_error(proc.put(path("/objects", dune),
                       object_body("Dune", "A-17", cover, books)),
              404, "not_found");
  check_error(proc.del(path("/objects", dune)), 404, "not_found");

  BOOST_TEST_MESSAGE("delete categories and related objects");
  for (auto id : {books, films, music, poetry}) {
    remove("/categories", id);
    read_missing(path("/categories", id));
    BOOST_TEST(db.category(id).is_null());
    check_error(proc.put(path("/categories", id), category_body("x")), 404,
                "not_found");
    check_error(proc.del(path("/categories", id)), 404, "not_found");
  }
  for (auto id : {cover, trailer}) {
    remove("/related-objects", id);
    read_missing(path("/related-objects", id));
    BOOST_TEST(db.related_object(id).is_null());
    check_error(proc.put(path("/related-objects", id), related_body("x", "y")),
                404, "not_found");
    check_error(proc.del(path("/related-objects", id)), 404, "not_found");
  }

  BOOST_TEST_MESSAGE("one commit_log row per acknowledged write");
  BOOST_TEST(db.max_seq() == last_seq);
  BOOST_TEST(db.row_counts()["commit_log"] == last_seq);
}

BOOST_FIXTURE_TEST_CASE(reads_follow_writes_through_the_caches, fixture) {
  auto cat = create("/categories", category_body("Books"));
  auto rel = create("/related-objects", related_body("Cover", "image/png"));
  auto obj = create("/objects", object_body("Dune", "A-17", rel, cat));

  BOOST_TEST_MESSAGE("a repeated read is a cache hit");
  read(path("/objects", obj));
  auto hits_before =
      metric(proc.get("/metrics").body, "cqrsd_cache_hits_total");
  BOOST_TEST_REQUIRE(hits_before >= 0, "no cqrsd_cache_hits_total metric");
  check_json(read(path("/objects", obj)),
             object_view(obj, "Dune", "A-17", "Cover", "image/png", "Books"));
  auto hits_after = metric(proc.get("/metrics").body, "cqrsd_cache_hits_total");
  BOOST_TEST(hits_after > hits_before, "the second read was not a hit");

  BOOST_TEST_MESSAGE("a category update reaches the cached object view");
  update("/categories", cat, category_body("Science fiction"));
  check_json(read(path("/objects", obj)),
             object_view(obj, "Dune", "A-17", "Cover", "image/png",
                         "Science fiction"));

  BOOST_TEST_MESSAGE("... also without X-Min-Seq (bounded poll)");
  read(path("/objects", obj)); // cached again
  update("/categories", cat, category_body("Classics"));
  auto deadline = clock_type::now() + 5s;
  json seen;
  int polls = 0;
  for (;;) {
    ++polls;
    auto a = proc.get(path("/objects", obj));
    BOOST_TEST_REQUIRE(a.status == 200, a.describe());
    BOOST_TEST_REQUIRE(a.x_seq().has_value(), "no X-Seq");
    seen = a.json_body();
    if (seen["category_description"] == "Classics")
      break;
    BOOST_TEST_REQUIRE((clock_type::now() < deadline),
                       "still stale after 5 s: " << seen.dump());
    std::this_thread::sleep_for(5ms);
  }
  BOOST_TEST_MESSAGE("fresh after " << polls << " poll(s)");
  check_json(
      seen, object_view(obj, "Dune", "A-17", "Cover", "image/png", "Classics"));

  BOOST_TEST_MESSAGE("related object and object updates reach the view");
  update("/related-objects", rel, related_body("Cover art", "image/jpeg"));
  check_json(
      read(path("/objects", obj)),
      object_view(obj, "Dune", "A-17", "Cover art", "image/jpeg", "Classics"));
  update("/objects", obj, object_body("Dune Messiah", "B-2", rel, cat));
  check_json(read(path("/objects", obj)),
             object_view(obj, "Dune Messiah", "B-2", "Cover art", "image/jpeg",
                         "Classics"));

  BOOST_TEST_MESSAGE("cached single rows follow their updates");
  read(path("/categories", cat));
  update("/categories", cat, category_body("Novels"));
  check_json(read(path("/categories", cat)),
             {{"id", cat}, {"description", "Novels"}});
  read(path("/related-objects", rel));
  update("/related-objects", rel, related_body("Back", "text/plain"));
  check_json(read(path("/related-objects", rel)),
             {{"id", rel},
              {"content_description", "Back"},
              {"content_type", "text/plain"}});

  BOOST_TEST_MESSAGE("a cached 404 is evicted by the insert");
  auto next = obj + 1; // AUTOINCREMENT: the next object gets the next id
  read_missing(path("/objects", next));
  read_missing(path("/objects", next)); // now from the cache
  auto created = create("/objects", object_body("Emma", "C-3", rel, cat));
  BOOST_TEST(created == next);
  check_json(read(path("/objects", created)), db.object_view(created));
  BOOST_TEST(!db.object_view(created).is_null());

  BOOST_TEST_MESSAGE("a cached view is evicted by the delete");
  read(path("/objects", obj));
  remove("/objects", obj);
  read_missing(path("/objects", obj));
}

BOOST_FIXTURE_TEST_CASE(lists_page_and_filter, fixture) {
  auto a = create("/categories", category_body("A"));
  auto b = create("/categories", category_body("B"));
  auto rel = create("/related-objects", related_body("Cover", "image/png"));
  BOOST_TEST_MESSAGE("create 55 objects, every third in category B");
  std::vector<int64_t> all;
  std::vector<int64_t> in_b;
  for (int i = 0; i < 55; ++i) {
    auto cat = i % 3 == 0 ? b : a;
    auto id =
        create("/objects", object_body("object " + std::to_string(i),
                                       "code-" + std::to_string(i), rel, cat));
    all.push_back(id);
    if (cat == b)
      in_b.push_back(id);
  }

  BOOST_TEST_MESSAGE("the default page holds 50 items");
  auto page = read("/objects");
  BOOST_TEST_REQUIRE(page["items"].is_array());
  BOOST_TEST(page["items"].size() == 50u);
  BOOST_TEST(page["next_after"] == all[49]);
  check_json(page, db.object_page(0, 0, 50));
  page = read("/objects?after=" + page["next_after"].dump());
  BOOST_TEST(page["items"].size() == 5u);
  BOOST_TEST(page["next_after"].is_null());
  check_json(page, db.object_page(0, all[49], 50));

  BOOST_TEST_MESSAGE("walking pages of 7 with next_after visits every object");
  auto walk = [&](const std::string& filter, int64_t category_id) {
    std::vector<int64_t> seen;
    json after = 0;
    for (int pages = 0; pages < 100; ++pages) {
      auto p = read("/objects?limit=7&after=" + after.dump() + filter);
      check_json(p, db.object_page(category_id, after.get<int64_t>(), 7));
      BOOST_TEST(p["items"].size() <= 7u);
      for (const auto& item : p["items"])
        seen.push_back(item["id"].get<int64_t>());
      if (p["next_after"].is_null())
        break;
      BOOST_TEST(p["items"].size() == 7u);
      BOOST_TEST(p["next_after"] == p["items"].back()["id"]);
      after = p["next_after"];
    }
    return seen;
  };
  BOOST_TEST(walk("", 0) == all, boost::test_tools::per_element());
  BOOST_TEST_MESSAGE("category_id filters");
  BOOST_TEST(walk("&category_id=" + std::to_string(b), b) == in_b,
             boost::test_tools::per_element());
  // Keep the page alive: a range-for over `read(...)["items"]` would iterate a
  // member of a destroyed temporary.
  auto filtered = read("/objects?limit=500&category_id=" + std::to_string(b));
  for (const auto& item : filtered["items"])
    BOOST_TEST(item["category_description"] == "B");

  BOOST_TEST_MESSAGE("limit 1 and 500, empty pages");
  page = read("/objects?limit=1");
  BOOST_TEST(page["items"].size() == 1u);
  BOOST_TEST(page["next_after"] == all[0]);
  page = read("/objects?limit=500");
  BOOST_TEST(page["items"].size() == all.size());
  BOOST_TEST(page["next_after"].is_null());
  check_json(read("/objects?after=" + std::to_string(all.back())),
             {{"items", json::array()}, {"next_after", nullptr}});
  check_json(read("/objects?category_id=999999"),
             {{"items", json::array()}, {"next_after", nullptr}});

  BOOST_TEST_MESSAGE("lists follow writes");
  update("/categories", b, category_body("B2"));
  remove("/objects", all[1]);
  check_json(read("/objects?limit=500"), db.object_page(0, 0, 500));
  page = read("/objects?limit=500&category_id=" + std::to_string(b));
  BOOST_TEST(page["items"].size() == in_b.size());
  for (const auto& item : page["items"])
    BOOST_TEST(item["category_description"] == "B2");
}

BOOST_FIXTURE_TEST_CASE(commits_page_through_the_log, fixture) {
  auto newest = [&] {
    auto a = proc.get("/commits?limit=1");
    BOOST_TEST_REQUIRE(a.status == 200, a.describe());
    auto items = a.json_body().at("items");
    BOOST_TEST(a.json_body().at("next_after").is_null(), a.describe());
    return items.empty() ? int64_t{0} : items.back().at("seq").get<int64_t>();
  };
  auto base = newest();
  BOOST_TEST_MESSAGE("three writes; each commit names the rows it changed");
  auto created = proc.post("/categories", category_body("first"));
  BOOST_TEST_REQUIRE(created.status == 201, created.describe());
  auto id = created.json_body().at("id").get<int64_t>();
  auto seq1 = created.json_body().at("seq").get<int64_t>();
  auto updated = proc.put(path("/categories", id), category_body("second"));
  BOOST_TEST_REQUIRE(updated.status == 200, updated.describe());
  auto seq2 = updated.json_body().at("seq").get<int64_t>();
  auto other = proc.post("/categories", category_body("third"));
  BOOST_TEST_REQUIRE(other.status == 201, other.describe());
  auto other_id = other.json_body().at("id").get<int64_t>();
  auto seq3 = other.json_body().at("seq").get<int64_t>();
  BOOST_TEST(seq1 == base + 1);
  BOOST_TEST(newest() == seq3);

  auto key = [](int64_t row) { return "category:" + std::to_string(row); };
  auto a = proc.get("/commits?after=" + std::to_string(base) + "&limit=2");
  BOOST_TEST_REQUIRE(a.status == 200, a.describe());
  auto page = a.json_body();
  json expected{{"items",
                 {{{"seq", seq1}, {"keys", {key(id)}}},
                  {{"seq", seq2}, {"keys", {key(id)}}}}},
                {"next_after", seq2}};
  BOOST_TEST(page == expected, page.dump());
  a = proc.get("/commits?limit=2&after=" + std::to_string(seq2));
  BOOST_TEST_REQUIRE(a.status == 200, a.describe());
  expected = {{"items", {{{"seq", seq3}, {"keys", {key(other_id)}}}}},
              {"next_after", nullptr}};
  BOOST_TEST(a.json_body() == expected, a.body);
  a = proc.get("/commits?after=" + std::to_string(seq3 + 100));
  BOOST_TEST(a.json_body() ==
                 (json{{"items", json::array()}, {"next_after", nullptr}}),
             a.body);

  BOOST_TEST_MESSAGE("bad parameters are 400s");
  for (const auto& target :
       {"/commits?after=-1", "/commits?after=x", "/commits?limit=0",
        "/commits?limit=501", "/commits?limit=", "/commits?after=1&after=2",
        "/commits?seq=1", "/commits?after=9223372036854775808"}) {
    BOOST_TEST_CONTEXT(target) {
      check_error(proc.get(target), 400, "bad_request");
    }
  }
}

BOOST_FIXTURE_TEST_CASE(accepted_edges, fixture) {
  auto cat = create("/categories", category_body("Books"));
  auto rel = create("/related-objects", related_body("Cover", "image/png"));

  BOOST_TEST_MESSAGE("strings of exactly 1000 characters");
  std::string x1000(1000, 'x');
  auto id = create("/categories", category_body(x1000));
  check_json(read(path("/categories", id)),
             {{"id", id}, {"description", x1000}});
  std::string e1000;
  for (int i = 0; i < 1000; ++i)
    e1000 += "\xC3\xA9"; // é: 1000 characters, 2000 bytes
  id = create("/categories", category_body(e1000));
  check_json(read(path("/categories", id)),
             {{"id", id}, {"description", e1000}});
  check_error(proc.post("/categories", category_body(e1000 + "\xC3\xA9")), 400,
              "bad_request");
  auto obj = create("/objects", object_body(x1000, x1000, rel, cat));
  check_json(read(path("/objects", obj)), db.object_view(obj));

  BOOST_TEST_MESSAGE("a body of exactly max_body_bytes");
  auto body = category_body("padded").dump();
  body.append(max_body - body.size(), ' ');
  BOOST_TEST_REQUIRE(body.size() == max_body);
  auto a = proc.request("POST", "/categories", body);
  BOOST_TEST_REQUIRE(a.status == 201, a.describe());
  BOOST_TEST(a.json_body()["seq"].get<int64_t>() == last_seq + 1);
  last_seq = a.json_body()["seq"].get<int64_t>();
  check_error(proc.request("POST", "/categories", body + " "), 413,
              "payload_too_large");

  BOOST_TEST_MESSAGE("X-Min-Seq 0 and the current seq; the largest id");
  a = proc.get(path("/categories", cat), {{"X-Min-Seq", "0"}});
  BOOST_TEST(a.status == 200, a.describe());
  a = proc.get(path("/categories", cat),
               {{"X-Min-Seq", std::to_string(last_seq)}});
  BOOST_TEST(a.status == 200, a.describe());
  read_missing("/objects/9223372036854775807");
  BOOST_TEST(db.max_seq() == last_seq);
}

// -- errors -------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(bad_input_changes_nothing, fixture) {
  auto cat = create("/categories", category_body("Books"));
  auto rel = create("/related-objects", related_body("Cover", "image/png"));
  auto obj = create("/objects", object_body("Dune", "A-17", rel, cat));
  auto good_object = object_body("n", "a", rel, cat).dump();
  auto with_child = [&](json child) {
    return json{{"name", "n"}, {"child", std::move(child)}}.dump();
  };
  json child = {
      {"access_code", "a"}, {"related_object_id", rel}, {"category_id", cat}};
  auto child_with = [&](const std::string& key, json value) {
    auto c = child;
    c[key] = std::move(value);
    return with_child(c);
  };
  auto child_without = [&](const std::string& key) {
    auto c = child;
    c.erase(key);
    return with_child(c);
  };
  auto o = path("/objects", obj);
  auto c = path("/categories", cat);
  auto r = path("/related-objects", rel);
  auto far = std::to_string(last_seq + 1000000);
  std::string too_long(1001, 'x');
  std::string oversized = category_body(std::string(max_body, 'x')).dump();

  bad_batch b;
  // 400: bodies
  b.bad("malformed JSON", "POST", "/categories", R"({"description":)");
  b.bad("not JSON at all", "POST", "/categories", "hello");
  b.bad("invalid UTF-8", "POST", "/categories", "{\"description\":\"\xff\"}");
  b.bad("empty body", "POST", "/categories", "");
  b.bad("array body", "POST", "/categories", "[]");
  b.bad("null body", "POST", "/categories", "null");
  b.bad("wrong type", "POST", "/categories", R"({"description":5})");
  b.bad("null field", "POST", "/categories", R"({"description":null})");
  b.bad("missing field", "POST", "/categories", "{}");
  b.bad("unknown field", "POST", "/categories",
        R"({"description":"x","colour":"red"})");
  b.bad("empty string", "POST", "/categories", R"({"description":""})");
  b.bad("1001 characters", "POST", "/categories",
        category_body(too_long).dump());
  b.bad("update: missing field", "PUT", c, "{}");
  b.bad("update: 1001 characters", "PUT", c, category_body(too_long).dump());
  b.bad("related: missing field", "POST", "/related-objects",
        R"({"content_description":"x"})");
  b.bad("related: wrong type", "POST", "/related-objects",
        R"({"content_description":"x","content_type":7})");
  b.bad("related: empty string", "PUT", r,
        R"({"content_description":"","content_type":"t"})");
  b.bad("object: missing child", "POST", "/objects", R"({"name":"n"})");
  b.bad("object: child not an object", "POST", "/objects",
        R"({"name":"n","child":"c"})");
  b.bad("object: nested unknown field", "POST", "/objects",
        child_with("colour", "red"));
  b.bad("object: nested missing field", "POST", "/objects",
        child_without("category_id"));
  b.bad("object: id as a string", "POST", "/objects",
        child_with("category_id", std::to_string(cat)));
  b.bad("object: id 0", "POST", "/objects", child_with("category_id", 0));
  b.bad("object: negative id", "POST", "/objects",
        child_with("related_object_id", -1));
  b.bad("object: fractional id", "POST", "/objects",
        child_with("related_object_id", 1.5));
  b.bad("object: nested empty string", "PUT", o, child_with("access_code", ""));
  b.bad("object: name too long", "PUT", o,
        object_body(too_long, "a", rel, cat).dump());
  // 400: ids in the path
  b.bad("id abc", "GET", "/objects/abc");
  b.bad("id 0", "GET", "/objects/0");
  b.bad("id -1", "GET", "/objects/-1");
  b.bad("id with a leading zero", "GET", "/objects/01");
  b.bad("id overflowing int64", "GET", "/objects/99999999999999999999");
  b.bad("id 1.5", "GET", "/categories/1.5");
  b.bad("update with id abc", "PUT", "/categories/abc",
        category_body("x").dump());
  b.bad("delete with id 0", "DELETE", "/related-objects/0");
  b.bad("delete with id -1", "DELETE", "/objects/-1");
  // 400: list parameters
  b.bad("limit 0", "GET", "/objects?limit=0");
  b.bad("limit 501", "GET", "/objects?limit=501");
  b.bad("limit abc", "GET", "/objects?limit=abc");
  b.bad("limit -1", "GET", "/objects?limit=-1");
  b.bad("after -1", "GET", "/objects?after=-1");
  b.bad("after abc", "GET", "/objects?after=abc");
  b.bad("category_id 0", "GET", "/objects?category_id=0");
  b.bad("category_id abc", "GET", "/objects?category_id=abc");
  // 400: X-Min-Seq
  b.min_seq("X-Min-Seq abc", o, "abc");
  b.min_seq("X-Min-Seq -1", o, "-1");
  b.min_seq("X-Min-Seq 1.5", o, "1.5");
  b.min_seq("X-Min-Seq overflowing", o, "99999999999999999999999");
  b.min_seq("X-Min-Seq x on a list", "/objects", "x");
  // 404: unknown ids (reads must carry X-Seq) and routes
  for (auto collection : {"/objects", "/categories", "/related-objects"}) {
    auto unknown = std::string{collection} + "/999999";
    b.error(404, "not_found", "read unknown id", "GET", unknown);
    b.error(404, "not_found", "delete unknown id", "DELETE", unknown);
  }
  b.error(404, "not_found", "update unknown id", "PUT", "/objects/999999",
          good_object);
  b.error(404, "not_found", "update unknown id", "PUT", "/categories/999999",
          category_body("x").dump());
  b.error(404, "not_found", "update unknown id", "PUT",
          "/related-objects/999999", related_body("x", "y").dump());
  b.error(404, "not_found", "unknown route", "GET", "/nope");
  b.error(404, "not_found", "unknown sub-route", "GET", o + "/child");
  b.error(404, "not_found", "unknown route", "POST", "/things", good_object);
  b.error(404, "not_found", "root", "GET", "/");
  // 405
  b.not_allowed("DELETE", "/categories", {"POST"});
  b.not_allowed("GET", "/categories", {"POST"});
  b.not_allowed("PUT", "/objects", {"GET", "HEAD", "POST"}, good_object);
  b.not_allowed("PATCH", o, {"GET", "HEAD", "PUT", "DELETE"}, good_object);
  b.not_allowed("POST", c, {"GET", "HEAD", "PUT", "DELETE"},
                category_body("x").dump());
  b.not_allowed("POST", "/healthz", {"GET", "HEAD"}, "{}");
  // 409
  b.error(409, "still_referenced", "delete a referenced category", "DELETE", c);
  b.error(409, "still_referenced", "delete a referenced related object",
          "DELETE", r);
  // 413
  b.error(413, "payload_too_large", "body over max_body_bytes", "POST",
          "/categories", oversized);
  b.error(413, "payload_too_large", "object body over max_body_bytes", "PUT", o,
          object_body(std::string(3 * max_body, 'n'), "a", rel, cat).dump());
  // 415; README: "curl -d sends form data, which gets a 415".
  b.error(415, "unsupported_media_type", "text/plain", "POST", "/categories",
          category_body("x").dump(), "text/plain");
  b.error(415, "unsupported_media_type", "form data", "POST", "/categories",
          category_body("x").dump(), "application/x-www-form-urlencoded");
  b.error(415, "unsupported_media_type", "form data", "PUT", c,
          category_body("x").dump(), "application/x-www-form-urlencoded");
  b.error(415, "unsupported_media_type", "text/html", "POST", "/objects",
          good_object, "text/html");
  // 422
  b.error(422, "missing_reference", "missing related object", "POST",
          "/objects", child_with("related_object_id", 999999));
  b.error(422, "missing_reference", "missing category", "POST", "/objects",
          child_with("category_id", 999999));
  b.error(422, "missing_reference", "update to a missing category", "PUT", o,
          child_with("category_id", 999999));
  // 504
  b.min_seq("X-Min-Seq far in the future", o, far, 504, "min_seq_timeout");
  const auto& batch = b.rows;

  BOOST_TEST_MESSAGE("sending " << batch.size() << " bad requests");
  auto before = db.dump();
  for (const auto& x : batch) {
    BOOST_TEST_CONTEXT(x.what << ": " << x.method << ' ' << x.target) {
      auto a =
          proc.request(x.method, x.target, x.body, x.content_type, x.headers);
      check_error(a, x.status, x.code);
      if (x.status == 405) {
        BOOST_TEST(a.has_header("Allow"), "no Allow header");
        BOOST_TEST(methods(a.header("Allow")) == x.allow,
                   "Allow: " << a.header("Allow"));
      }
      if (x.what == "read unknown id")
        BOOST_TEST(a.x_seq().has_value(), "no X-Seq on a 404 read");
    }
  }

  BOOST_TEST_MESSAGE("the process is healthy and the database unchanged");
  BOOST_TEST(proc.alive());
  BOOST_TEST(proc.get("/healthz").status == 200);
  BOOST_TEST(proc.get("/readyz").status == 200);
  auto after = db.dump();
  BOOST_TEST(after == before);
  BOOST_TEST(db.max_seq() == last_seq);
  auto status = proc.get("/status").json_body();
  BOOST_TEST(status["seq"] == last_seq);
  auto metrics = proc.get("/metrics").body;
  for (auto code : {"500", "501", "502", "503"})
    BOOST_TEST(metrics.find(std::string{"status=\""} + code + "\"") ==
                   std::string::npos,
               "metrics count a " << code << " answer");
  check_json(read(o),
             object_view(obj, "Dune", "A-17", "Cover", "image/png", "Books"));
  BOOST_TEST_MESSAGE("the next write continues the seq without a gap");
  create("/categories", category_body("after the batch"));
}

BOOST_FIXTURE_TEST_CASE(bodyless_post_without_content_length, fixture) {
  auto cat = create("/categories", category_body("Books"));
  auto before = db.dump();

  BOOST_TEST_MESSAGE("POST /objects/1 without a body: 405 with Allow");
  auto raw = proc.raw_request("POST /objects/1 HTTP/1.1\r\n"
                              "Host: 127.0.0.1\r\n"
                              "Connection: close\r\n\r\n");
  BOOST_TEST(raw_status(raw) == 405, raw);
  auto allow = raw_header(raw, "Allow");
  BOOST_TEST(allow.has_value(), "no Allow header: " << raw);
  if (allow)
    BOOST_TEST(*allow == "GET, HEAD, PUT, DELETE");
  auto body = json::parse(raw_body(raw), nullptr, false);
  BOOST_TEST(is_error_body(body), "not {\"error\":{...}}: " << raw);
  if (is_error_body(body))
    BOOST_TEST(body["error"]["code"].get<std::string>() ==
               "method_not_allowed");

  BOOST_TEST_MESSAGE("POST /categories without a body: 400 naming "
                     "Content-Length");
  raw = proc.raw_request("POST /categories HTTP/1.1\r\n"
                         "Host: 127.0.0.1\r\n"
                         "Connection: close\r\n\r\n");
  BOOST_TEST(raw_status(raw) == 400, raw);
  body = json::parse(raw_body(raw), nullptr, false);
  BOOST_TEST(is_error_body(body), "not {\"error\":{...}}: " << raw);
  if (is_error_body(body)) {
    BOOST_TEST(body["error"]["code"].get<std::string>() == "bad_request");
    BOOST_TEST(body["error"]["message"].get<std::string>().find(
                   "Content-Length") != std::string::npos,
               "message: " << body["error"]["message"]);
  }

  BOOST_TEST_MESSAGE("nothing changed and the process is healthy");
  BOOST_TEST(db.dump() == before);
  BOOST_TEST(proc.get("/healthz").status == 200);
  check_json(read(path("/categories", cat)),
             {{"id", cat}, {"description", "Books"}});
}

BOOST_AUTO_TEST_CASE(min_seq_timeout_answers_504) {
  test_database database;
  cqrsd_process proc{database.with({{"query.min_seq_timeout_ms", "200"}})};
  auto a = proc.post("/categories", category_body("Books"));
  BOOST_TEST_REQUIRE(a.status == 201, a.describe());
  auto id = a.json_body()["id"].get<int64_t>();
  auto seq = a.json_body()["seq"].get<int64_t>();
  for (const std::string& target :
       {path("/categories", id), std::string{"/objects"}}) {
    BOOST_TEST_CONTEXT("GET " << target) {
      auto start = clock_type::now();
      a = proc.get(target, {{"X-Min-Seq", std::to_string(seq + 100)}});
      auto took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         clock_type::now() - start)
                         .count();
      check_error(a, 504, "min_seq_timeout");
      BOOST_TEST(took_ms >= 150);
      BOOST_TEST(took_ms < 5000);
    }
  }
  a = proc.get(path("/categories", id), {{"X-Min-Seq", std::to_string(seq)}});
  BOOST_TEST(a.status == 200, a.describe());
  BOOST_TEST(proc.get("/healthz").status == 200);
}

BOOST_AUTO_TEST_CASE(write_token_guards_writes) {
  const std::string token = "s3cret-Token";
  test_database database;
  cqrsd_process proc{
      database.with({{"http.write_token", "\"${E2E_WRITE_TOKEN}\""}}),
      {{"E2E_WRITE_TOKEN", token}}};
  oracle db = database.open_oracle(proc);
  httplib::Headers good{{"Authorization", "Bearer " + token}};

  BOOST_TEST_MESSAGE("the right token writes");
  auto a = proc.post("/categories", category_body("Books"), good);
  BOOST_TEST_REQUIRE(a.status == 201, a.describe());
  auto id = a.json_body()["id"].get<int64_t>();
  auto c = path("/categories", id);

  BOOST_TEST_MESSAGE("missing or wrong tokens get 401 and change nothing");
  auto before = db.dump();
  std::vector<httplib::Headers> bad{
      {},
      {{"Authorization", "Bearer wrong"}},
      {{"Authorization", "Bearer " + token + "x"}},
      {{"Authorization", "Bearer " + token.substr(1)}},
      {{"Authorization", "Bearer ${E2E_WRITE_TOKEN}"}},
      {{"Authorization", "Basic " + token}},
      {{"Authorization", token}},
      {{"Authorization", "Bearer "}},
  };
  for (const auto& headers : bad) {
    auto shown =
        headers.empty() ? std::string{"(none)"} : headers.begin()->second;
    BOOST_TEST_CONTEXT("Authorization: " << shown) {
      check_error(proc.post("/categories", category_body("x"), headers), 401,
                  "unauthorized");
      check_error(proc.put(c, category_body("x"), headers), 401,
                  "unauthorized");
      check_error(proc.del(c, headers), 401, "unauthorized");
      check_error(proc.post("/objects", object_body("n", "a", 1, id), headers),
                  401, "unauthorized");
    }
  }
  BOOST_TEST_MESSAGE("the right token with a NUL and more after it is a bad "
                     "request (cpp-httplib would cut the value at the NUL)");
  // A valid body: without the check, the cut token would write it.
  using namespace std::string_literals;
  const std::string body = R"({"description":"nul"})";
  auto raw = proc.raw_request(
      "POST /categories HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
      "\0junk\r\nContent-Type: application/json\r\nContent-Length: "s +
      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  BOOST_TEST(raw.rfind("HTTP/1.1 400 ", 0) == 0, raw.substr(0, 200));
  BOOST_TEST(db.dump() == before);

  BOOST_TEST_MESSAGE("reads need no token");
  a = proc.get(c);
  BOOST_TEST(a.status == 200, a.describe());

  BOOST_TEST_MESSAGE("the right token updates and deletes");
  a = proc.put(c, category_body("Films"), good);
  BOOST_TEST(a.status == 200, a.describe());
  a = proc.del(c, good);
  BOOST_TEST(a.status == 200, a.describe());
  BOOST_TEST(db.category(id).is_null());
}

BOOST_AUTO_TEST_CASE(read_token_guards_reads) {
  const std::string read_token = "r3ad-Token";
  const std::string write_token = "wr1te-Token";
  test_database database;
  cqrsd_process proc{database.with({{"http.read_token", "\"${E2E_READ}\""},
                                    {"http.write_token", "\"${E2E_WRITE}\""}}),
                     {{"E2E_READ", read_token}, {"E2E_WRITE", write_token}}};
  oracle db = database.open_oracle(proc);
  httplib::Headers reader{{"Authorization", "Bearer " + read_token}};
  httplib::Headers writer{{"Authorization", "Bearer " + write_token}};
  auto a = proc.post("/categories", category_body("Books"), writer);
  BOOST_TEST_REQUIRE(a.status == 201, a.describe());
  auto id = a.json_body()["id"].get<int64_t>();
  a = proc.post("/related-objects", related_body("text", "plain"), writer);
  BOOST_TEST_REQUIRE(a.status == 201, a.describe());
  auto related = a.json_body()["id"].get<int64_t>();
  a = proc.post("/objects", object_body("n", "a", related, id), writer);
  BOOST_TEST_REQUIRE(a.status == 201, a.describe());
  auto object = a.json_body()["id"].get<int64_t>();
  const std::vector<std::string> reads{path("/categories", id),
                                       path("/objects", object),
                                       "/objects",
                                       "/objects?category_id=" +
                                           std::to_string(id),
                                       "/status",
                                       "/commits"};

  BOOST_TEST_MESSAGE("reads without the right token get 401 and no data");
  std::vector<httplib::Headers> bad{
      {},
      {{"Authorization", "Bearer wrong"}},
      {{"Authorization", "Bearer " + read_token + "x"}},
      {{"Authorization", "Basic " + read_token}},
      {{"Authorization", read_token}},
      {{"Authorization", "Bearer "}},
  };
  for (const auto& target : reads) {
    for (const auto& headers : bad) {
      auto shown =
          headers.empty() ? std::string{"(none)"} : headers.begin()->second;
      BOOST_TEST_CONTEXT(target << " with Authorization: " << shown) {
        a = proc.get(target, headers);
        check_error(a, 401, "unauthorized");
        BOOST_TEST(a.header("WWW-Authenticate") == "Bearer");
        BOOST_TEST(a.body.find("Books") == std::string::npos, a.body);
      }
    }
  }
  BOOST_TEST_MESSAGE("an unauthorized read does not even learn whether an id "
                     "exists");
  check_error(proc.get(path("/objects", object + 1000)), 401, "unauthorized");

  BOOST_TEST_MESSAGE("the read token and the write token both read");
  for (const auto& target : reads) {
    for (const auto& headers : {reader, writer}) {
      BOOST_TEST_CONTEXT(target << " as " << headers.begin()->second) {
        a = proc.get(target, headers);
        BOOST_TEST(a.status == 200, a.describe());
      }
    }
  }
  BOOST_TEST(
      proc.get(path("/categories", id), reader).json_body()["description"] ==
      "Books");

  BOOST_TEST_MESSAGE("probes and /metrics stay open");
  for (const auto& probe : {"/healthz", "/readyz", "/metrics"})
    BOOST_TEST(proc.get(probe).status == 200, probe);

  BOOST_TEST_MESSAGE("the read token does not write");
  auto before = db.dump();
  check_error(proc.post("/categories", category_body("x"), reader), 401,
              "unauthorized");
  check_error(proc.del(path("/categories", id), reader), 401, "unauthorized");
  BOOST_TEST(db.dump() == before);
}

// -- operations ---------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(operations_endpoints, fixture) {
  auto books = create("/categories", category_body("Books"));
  auto a = proc.get("/healthz");
  BOOST_TEST(a.status == 200, a.describe());
  a = proc.get("/readyz");
  BOOST_TEST(a.status == 200, a.describe());

  BOOST_TEST_MESSAGE("/status names the node and every query actor");
  a = proc.get("/status");
  BOOST_TEST_REQUIRE(a.status == 200, a.describe());
  auto status = a.json_body();
  BOOST_TEST(status["node"] == "e2e");
  BOOST_TEST(status["role"] == "standalone");
  BOOST_TEST(status["seq"] == last_seq);
  BOOST_TEST_REQUIRE(status["query_actors"].is_array());
  BOOST_TEST(status["query_actors"].size() == 8u, "query.actors defaults to 8");
  BOOST_TEST(status["query_actor_count"] == 8);
  BOOST_TEST(status["cache_entries"] == 0);
  BOOST_TEST_MESSAGE("a read caches one view in one query actor, and every "
                     "actor reports the create's seq as applied");
  BOOST_TEST(proc.get("/categories/" + std::to_string(books)).status == 200);
  auto all_applied = [&] {
    for (const auto& actor : status["query_actors"])
      if (actor["applied_seq"] != last_seq)
        return false;
    return true;
  };
  for (int i = 0; i < 500; ++i) {
    status = proc.get("/status").json_body();
    if (all_applied())
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  BOOST_TEST(all_applied(), status.dump());
  BOOST_TEST(status["cache_entries"] == 1, status.dump());
  int cached = 0;
  for (const auto& actor : status["query_actors"])
    cached += actor["cache_entries"].get<int>();
  BOOST_TEST(cached == 1, status.dump());

  BOOST_TEST_MESSAGE("/metrics is Prometheus text with the required series");
  a = proc.get("/metrics");
  BOOST_TEST_REQUIRE(a.status == 200, a.describe());
  BOOST_TEST(a.header("Content-Type").rfind("text/plain", 0) == 0);
  for (auto name : {"cqrsd_cache_hits_total", "cqrsd_cache_misses_total",
                    "cqrsd_commits_total", "cqrsd_current_seq",
                    "cqrsd_query_actors", "cqrsd_query_actor_restarts_total",
                    "cqrsd_invalidations_applied_total"})
    BOOST_TEST(metric(a.body, name) >= 0, "missing metric " << name);
  BOOST_TEST(metric(a.body, "cqrsd_current_seq") == last_seq);
  BOOST_TEST(metric(a.body, "cqrsd_commits_total") == last_seq);
  BOOST_TEST_MESSAGE("the one write so far was one write transaction");
  BOOST_TEST(metric(a.body, "cqrsd_write_transactions_total") == 1);
  BOOST_TEST(metric(a.body, "cqrsd_query_actors") == 8);
  BOOST_TEST(a.body.find("cqrsd_http_requests_total{route=\"/categories\","
                         "status=\"201\"} 1") != std::string::npos,
             a.body);
}

// -- the OpenAPI document
// ------------------------------------------------------

// The e2e_api_prism entry (CQRSD_TEST_PRISM=1) checks every answer of this
// suite against the process's /openapi.json with Prism; this case makes
// sure that the answers do pass Prism then, and only then.
BOOST_FIXTURE_TEST_CASE(answers_pass_prism_when_asked, fixture) {
  const char* asked = std::getenv("CQRSD_TEST_PRISM");
  bool prism = asked != nullptr && std::string{asked} == "1";
  BOOST_TEST(proc.through_prism() == prism);
  BOOST_TEST((proc.client_port() != proc.port()) == prism);
  // Prism adds CORS headers to every answer it passes on; cqrsd has none.
  auto passed = proc.get("/healthz");
  BOOST_TEST(passed.status == 200, passed.describe());
  BOOST_TEST(passed.has_header("Access-Control-Allow-Origin") == prism);
  auto direct = proc.direct_request("GET", "/healthz");
  BOOST_TEST(direct.status == 200, direct.describe());
  BOOST_TEST(!direct.has_header("Access-Control-Allow-Origin"));
  BOOST_TEST_MESSAGE("a method that the document does not name still gets "
                     "cqrsd's own answer");
  auto patch = proc.request("PATCH", "/healthz", "{}");
  check_error(patch, 405, "method_not_allowed");
  BOOST_TEST(!patch.has_header("Access-Control-Allow-Origin"));
}

// -- command line -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(command_line) {
  scratch_dir scratch;
  BOOST_TEST_MESSAGE("--check-config on a good file");
  auto good = scratch.write("good.yaml", "query:\n  actors: 3\n"
                                         "  routing: round_robin\n");
  auto r = run_cqrsd({"--check-config", good});
  BOOST_TEST(r.exit_code == 0, r.err);

  BOOST_TEST_MESSAGE("--check-config on bad files names the key");
  struct bad_file {
    std::string yaml;
    std::string key;
  };
  std::vector<bad_file> bad{
      {"query:\n  actorz: 3\n", "query.actorz"},
      {"nope:\n  x: 1\n", "nope"},
      {"http:\n  threads: many\n", "http.threads"},
      {"query:\n  actors: 0\n", "query.actors"},
      {"query:\n  routing: random\n", "query.routing"},
      {"http:\n  write_token: \"${E2E_UNSET_VARIABLE_FOR_TEST}\"\n",
       "http.write_token"},
  };
  for (const auto& x : bad) {
    BOOST_TEST_CONTEXT("yaml:\n" << x.yaml) {
      auto file = scratch.write("bad.yaml", x.yaml);
      r = run_cqrsd({"--check-config", file});
      BOOST_TEST(r.exit_code == 2);
      BOOST_TEST(r.err.find(x.key) != std::string::npos, "stderr: " << r.err);
    }
  }

  BOOST_TEST_MESSAGE("--config with a bad file exits 2 without serving");
  auto bad_file_path = scratch.write("bad.yaml", "query:\n  actorz: 3\n");
  r = run_cqrsd({"--config", bad_file_path});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("query.actorz") != std::string::npos,
             "stderr: " << r.err);

  BOOST_TEST_MESSAGE("a missing file is an error");
  r = run_cqrsd({"--check-config", scratch.dir + "/missing.yaml"});
  BOOST_TEST(r.exit_code != 0);

  BOOST_TEST_MESSAGE("--help and --version");
  r = run_cqrsd({"--help"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.find("--config") != std::string::npos, r.out);
  r = run_cqrsd({"--version"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.find(CQRSD_VERSION) != std::string::npos, r.out);

  BOOST_TEST_MESSAGE("no arguments is a usage error");
  r = run_cqrsd({});
  BOOST_TEST(r.exit_code == 2);
}

BOOST_AUTO_TEST_CASE(shipped_configs_pass_check_config) {
  auto r = run_cqrsd({"--check-config",
                      std::string{CQRSD_SOURCE_DIR} + "/config/default.yaml"});
  BOOST_TEST(r.exit_code == 0, r.out << r.err);
  r = run_cqrsd(
      {"--check-config", std::string{CQRSD_SOURCE_DIR} + "/config/docker.yaml"},
      {{"CQRSD_WRITE_TOKEN", "secret"}});
  BOOST_TEST(r.exit_code == 0, r.out << r.err);
  for (auto name :
       {"postgresql.yaml", "cluster-command.yaml", "cluster-query.yaml"}) {
    BOOST_TEST_CONTEXT("config/" << name) {
      r = run_cqrsd(
          {"--check-config", std::string{CQRSD_SOURCE_DIR} + "/config/" + name},
          {{"CQRSD_POSTGRESQL",
            "host=127.0.0.1 port=5432 user=cqrsd dbname=cqrsd"}});
      BOOST_TEST(r.exit_code == 0, r.out << r.err);
    }
  }
}

// -- shutdown and restart -----------------------------------------------------

BOOST_FIXTURE_TEST_CASE(signals_while_idle_exit_0, fixture) {
  create("/categories", category_body("Books"));
  BOOST_TEST_MESSAGE("SIGTERM");
  BOOST_TEST(proc.stop(SIGTERM) == 0, proc.log());
  BOOST_TEST(!proc.alive());
  BOOST_TEST_MESSAGE("SIGINT");
  proc.start();
  BOOST_TEST(proc.stop(SIGINT) == 0, proc.log());
}

BOOST_FIXTURE_TEST_CASE(restart_keeps_data_and_seq, fixture) {
  auto cat = create("/categories", category_body("Books"));
  auto rel = create("/related-objects", related_body("Cover", "image/png"));
  auto obj = create("/objects", object_body("Dune", "A-17", rel, cat));
  auto gone = create("/objects", object_body("Emma", "B-2", rel, cat));
  remove("/objects", gone);
  auto view = read(path("/objects", obj));
  auto seq_before = last_seq;

  BOOST_TEST_MESSAGE("restart on the same database");
  BOOST_TEST_REQUIRE(proc.stop(SIGTERM) == 0);
  proc.start();
  check_json(read(path("/objects", obj)), view);
  check_json(read(path("/categories", cat)),
             {{"id", cat}, {"description", "Books"}});
  read_missing(path("/objects", gone));
  auto status = proc.get("/status").json_body();
  BOOST_TEST(status["seq"] == seq_before);

  BOOST_TEST_MESSAGE("the seq continues from the last one");
  auto next = create("/objects", object_body("Emma", "B-2", rel, cat));
  BOOST_TEST(last_seq == seq_before + 1);
  BOOST_TEST(next > gone, "ids are not reused");
  BOOST_TEST(db.max_seq() == last_seq);
  BOOST_TEST(db.row_counts()["commit_log"] == last_seq);
}

BOOST_FIXTURE_TEST_CASE(sigterm_drains_requests_in_flight, fixture) {
  auto cat = create("/categories", category_body("Books"));
  auto rel = create("/related-objects", related_body("Cover", "image/png"));
  auto obj = create("/objects", object_body("Dune", "A-17", rel, cat));

  struct record {
    clock_type::time_point start;
    clock_type::time_point end;
    bool write = false;
    http_answer answer;
  };
  constexpr int threads = 4;
  std::vector<std::vector<record>> records(threads);
  std::atomic<bool> done{false};
  std::atomic<bool> stopping{false};
  std::atomic<long> sent{0};
  BOOST_TEST_MESSAGE("4 clients hammer reads and writes");
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      // Straight to the server, also in a run through Prism: the drain is
      // what the server's own connections see (`stop` stops Prism first).
      auto client = proc.make_direct_client();
      for (int n = 0; !done && n < 100000; ++n) {
        record x;
        x.write = n % 2 == 0;
        x.start = clock_type::now();
        if (x.write)
          x.answer = send_request(
              *client, "POST", "/categories",
              category_body("t" + std::to_string(t) + "-" + std::to_string(n))
                  .dump());
        else
          x.answer = send_request(*client, "GET", path("/objects", obj));
        x.end = clock_type::now();
        bool refused = !x.answer.answered();
        records[t].push_back(std::move(x));
        ++sent;
        if (refused && stopping)
          break;
        if (refused)
          std::this_thread::sleep_for(1ms);
      }
    });
  }
  auto deadline = clock_type::now() + 10s;
  while (sent < 400 && clock_type::now() < deadline)
    std::this_thread::sleep_for(5ms);
  BOOST_TEST_MESSAGE("SIGTERM after " << sent << " requests");
  auto stop_began = clock_type::now();
  stopping = true;
  auto exit_code = proc.stop(SIGTERM);
  done = true;
  for (auto& w : workers)
    w.join();
  BOOST_TEST(exit_code == 0, proc.log());

  std::vector<int64_t> acknowledged;
  long answered = 0;
  long drained = 0;
  long refused = 0;
  for (const auto& list : records) {
    for (const auto& x : list) {
      if (x.answer.answered()) {
        ++answered;
        if (x.end > stop_began)
          ++drained;
        BOOST_TEST(x.answer.status == (x.write ? 201 : 200),
                   x.answer.describe());
        if (x.write && x.answer.status == 201)
          acknowledged.push_back(x.answer.json_body()["id"].get<int64_t>());
      } else {
        ++refused;
        BOOST_TEST(
            (x.end >= stop_began),
            "connection error before the stop began: " << x.answer.describe());
      }
    }
  }
  BOOST_TEST_MESSAGE(answered << " answered (" << drained
                              << " finished after SIGTERM), " << refused
                              << " refused after the stop");
  BOOST_TEST(answered >= 400);

  BOOST_TEST_MESSAGE("every acknowledged write is in the database");
  for (auto id : acknowledged)
    BOOST_TEST(!db.category(id).is_null(), "category " << id << " is missing");
  BOOST_TEST(db.row_counts()["category"] >=
             static_cast<int64_t>(acknowledged.size()) + 1);
}

BOOST_AUTO_TEST_SUITE_END()
