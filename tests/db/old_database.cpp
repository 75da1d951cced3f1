// End-to-end tests of an upgrade: cqrsd started with the built-in domain on a
// database that release 57c8098 wrote (tests/data/make-old-db.sh) serves its
// rows, continues its seq, replays its stored Idempotency-Keys and accepts
// writes, on the backend named by CQRSD_TEST_BACKEND.
#include <boost/test/unit_test.hpp>

#include <stdlib.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "fixtures/cqrsd_process.hpp"
#include "fixtures/text_file.hpp"

using namespace cqrs::test;
using json = nlohmann::json;

namespace {

std::string source_file(const std::string& path) {
  return std::string{CQRSD_SOURCE_DIR} + "/" + path;
}

/// The current time as cqrsd writes `created_at`: 2026-12-06T00:20:20.252Z.
std::string utc_now() {
  auto now =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm parts{};
  ::gmtime_r(&now, &parts);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S.000Z", &parts);
  return buf;
}

/// The write of make-old-db.sh that carried Idempotency-Key make-old-db-2.
const json keyed_body = {
    {"name", "second"},
    {"child",
     {{"access_code", "b2"}, {"related_object_id", 2}, {"category_id", 2}}}};

/// The old database on the test backend, prepared before the process starts:
/// the SQLite file copied into a directory of its own, or the pg_dump loaded
/// into the test's PostgreSQL database.
struct upgraded_database {
  upgraded_database() {
    char pattern[] = "/tmp/cqrsd-old-db-XXXXXX";
    if (::mkdtemp(pattern) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    dir = pattern;
    sqlite_path = dir + "/objects-57c8098.db";
    if (database.is_sqlite())
      std::filesystem::copy_file(source_file("tests/data/objects-57c8098.db"),
                                 sqlite_path);
    else
      load_dump();
    // The stored key is older than any idempotency_ttl_s once the fixture
    // is a year old; refresh it so that it is still replayed.
    *connect() << "UPDATE idempotency_key SET created_at = '" + utc_now() + "'";
  }

  ~upgraded_database() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  /// A session on the old database, outside the process.
  std::unique_ptr<soci::session> connect() const {
    if (database.postgresql)
      return database.postgresql->connect();
    return std::make_unique<soci::session>(
        soci::sqlite3, "db=\"" + sqlite_path + "\" timeout=5");
  }

  /// The process's settings: the built-in domain on this database.
  cqrsd_process::overrides settings() const {
    return database.with(
        {{"database.sqlite_path", cqrs::test::quote_yaml(sqlite_path)}});
  }

  void load_dump() {
    auto sql = database.postgresql->connect();
    std::istringstream dump{
        read_text(source_file("tests/data/objects-57c8098.postgresql.sql"))};
    std::string line;
    std::string statement;
    while (std::getline(dump, line)) {
      if (line.rfind("--", 0) == 0 || line.rfind("\\", 0) == 0)
        continue;
      statement += line + "\n";
      if (!line.empty() && line.back() == ';') {
        *sql << statement;
        statement.clear();
      }
    }
  }

  test_database database;
  std::string dir;
  std::string sqlite_path;
};

struct fixture {
  fixture()
      : proc(old.settings()),
        db(old.database.is_sqlite() ? oracle{old.sqlite_path}
                                    : old.database.open_oracle(proc)) {
    BOOST_TEST_MESSAGE("backend " << backend_name(old.database.backend));
  }

  /// GETs `target` and requires 200, X-Seq `seq` and exactly `body`.
  void check_read(const std::string& target, const std::string& body,
                  int64_t seq) {
    auto a = proc.get(target, {{"X-Min-Seq", std::to_string(seq)}});
    BOOST_TEST_CONTEXT("GET " << target) {
      BOOST_TEST(a.status == 200, a.describe());
      BOOST_TEST(a.x_seq().value_or(-1) == seq);
      BOOST_TEST(a.body == body);
    }
  }

  /// Sends a write that must answer `status` {"id": id, "seq": seq}.
  void check_write(const http_answer& a, int status, int64_t id, int64_t seq) {
    BOOST_TEST(a.status == status, a.describe());
    BOOST_TEST(a.json_body() == (json{{"id", id}, {"seq", seq}}), a.body);
  }

  // Declared first: prepared before the process starts.
  upgraded_database old;
  cqrsd_process proc;
  oracle db;
};

const std::string books = R"({"description":"Books","id":1})";
const std::string music = R"({"description":"Music","id":2})";
const std::string first =
    R"({"access_code":"a9","category_description":"Books",)"
    R"("content_description":"An album","content_type":"audio/flac",)"
    R"("id":1,"name":"first, renamed"})";
const std::string second =
    R"({"access_code":"b2","category_description":"Music",)"
    R"("content_description":"An album","content_type":"audio/flac",)"
    R"("id":2,"name":"second"})";

} // namespace

BOOST_AUTO_TEST_SUITE(old_database)

BOOST_FIXTURE_TEST_CASE(serves_the_rows_of_release_57c8098, fixture) {
  BOOST_TEST_MESSAGE("every row as the old release answered it");
  check_read("/categories/1", books, 9);
  check_read("/categories/2", music, 9);
  check_read("/related-objects/1",
             R"({"content_description":"A novel","content_type":)"
             R"("text/plain","id":1})",
             9);
  check_read("/related-objects/2",
             R"({"content_description":"An album","content_type":)"
             R"("audio/flac","id":2})",
             9);
  check_read("/objects/1", first, 9);
  check_read("/objects/2", second, 9);
  check_read("/objects",
             R"({"items":[)" + first + "," + second + R"(],"next_after":null})",
             9);
  check_read("/objects?category_id=2",
             R"({"items":[)" + second + R"(],"next_after":null})", 9);
  check_read("/objects?limit=1",
             R"({"items":[)" + first + R"(],"next_after":1})", 9);
  auto a = proc.get("/objects/3");
  BOOST_TEST(a.status == 404, "the deleted object: " << a.describe());

  BOOST_TEST_MESSAGE("/status: the built-in domain at seq 9");
  auto status = proc.get("/status").json_body();
  BOOST_TEST(status["seq"] == 9, status.dump());
  BOOST_TEST(status["domain"]["name"] == "objects", status.dump());
  BOOST_TEST(db.max_seq() == 9);
}

BOOST_FIXTURE_TEST_CASE(continues_the_seq_and_replays_stored_keys, fixture) {
  auto before = db.dump();
  BOOST_TEST_MESSAGE("the stored Idempotency-Key replays the old answer");
  httplib::Headers key{{"Idempotency-Key", "make-old-db-2"}};
  auto a = proc.post("/objects", keyed_body, key);
  check_write(a, 201, 2, 6);
  BOOST_TEST(a.header("Idempotent-Replayed") == "true");
  a = proc.post("/objects",
                json{{"name", "other"}, {"child", keyed_body["child"]}}, key);
  BOOST_TEST(a.status == 422, a.describe());
  BOOST_TEST(a.json_body()["error"]["code"] == "idempotency_key_reused",
             a.body);
  BOOST_TEST(db.dump() == before, "a replay or a refusal changed the database");

  BOOST_TEST_MESSAGE("new writes continue at seq 10, with new ids");
  check_write(proc.post("/categories", {{"description", "Films"}}), 201, 3, 10);
  json third = {
      {"name", "fourth"},
      {"child",
       {{"access_code", "d4"}, {"related_object_id", 1}, {"category_id", 3}}}};
  check_write(proc.post("/objects", third), 201, 4, 11);
  json renamed = keyed_body;
  renamed["name"] = "second, renamed";
  check_write(proc.put("/objects/2", renamed), 200, 2, 12);
  check_write(proc.del("/objects/1"), 200, 1, 13);
  a = proc.del("/categories/3");
  BOOST_TEST(a.status == 409, a.describe());
  BOOST_TEST(a.json_body()["error"]["code"] == "still_referenced", a.body);
  check_write(proc.del("/categories/1"), 200, 1, 14);
  check_read("/objects/2",
             R"({"access_code":"b2","category_description":"Music",)"
             R"("content_description":"An album","content_type":"audio/flac",)"
             R"("id":2,"name":"second, renamed"})",
             14);
  check_read("/objects/4",
             R"({"access_code":"d4","category_description":"Films",)"
             R"("content_description":"A novel","content_type":"text/plain",)"
             R"("id":4,"name":"fourth"})",
             14);

  BOOST_TEST_MESSAGE("a restart keeps the old and the new rows");
  BOOST_TEST_REQUIRE(proc.stop(SIGTERM) == 0, proc.log());
  proc.start();
  check_read("/categories/2", music, 14);
  BOOST_TEST(proc.get("/objects/1").status == 404);
  check_write(proc.post("/objects", third), 201, 5, 15);
  check_write(proc.post("/objects", keyed_body, key), 201, 2, 6);
  BOOST_TEST(db.max_seq() == 15);
  BOOST_TEST(db.row_counts()["commit_log"] == 15);
}

BOOST_AUTO_TEST_SUITE_END()
