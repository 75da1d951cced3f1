// Database trouble against real cqrsd processes: a SQLite database locked by
// another connection, a PostgreSQL server that goes away and comes back, and
// a PostgreSQL row lock held elsewhere. Requests answer a clean 503 while it
// lasts, and cqrsd recovers by itself, without a restart.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "fixtures/api_model.hpp"
#include "fixtures/cqrsd_process.hpp"
#include "fixtures/private_postgresql.hpp"
#include "fixtures/temp_db.hpp"

using namespace cqrs::test;
using json = nlohmann::json;
using namespace std::chrono_literals;
namespace utf = boost::unit_test;

namespace {

using clock_type = std::chrono::steady_clock;

/// Checks that `a` is 503 database_unavailable with Retry-After and a
/// message containing `words`.
void check_unavailable(const http_answer& a, const std::string& words) {
  BOOST_TEST(a.status == 503, a.describe());
  BOOST_TEST(a.has_header("Retry-After"), a.describe());
  auto body = a.json_body();
  BOOST_TEST_REQUIRE((body.is_object() && body.contains("error")),
                     a.describe());
  BOOST_TEST(body["error"]["code"] == "database_unavailable", a.describe());
  auto message = body["error"]["message"].get<std::string>();
  BOOST_TEST_MESSAGE("  " << a.status << ": " << message);
  BOOST_TEST(message.find(words) != std::string::npos,
             "'" << message << "' does not mention '" << words << "'");
}

int64_t seq_of(const http_answer& a) {
  return a.json_body()["seq"].get<int64_t>();
}

} // namespace

BOOST_AUTO_TEST_SUITE(db_trouble)

BOOST_AUTO_TEST_CASE(sqlite_locked_answers_503_then_recovers,
                     *utf::precondition(on_sqlite)) {
  cqrsd_process proc{{{"database.busy_timeout_ms", "200"}}};
  auto cat = proc.post("/categories", category_body("Books"));
  BOOST_TEST_REQUIRE(cat.status == 201, cat.describe());
  auto rel = proc.post("/related-objects", related_body("Cover", "image/png"));
  BOOST_TEST_REQUIRE(rel.status == 201, rel.describe());
  BOOST_TEST_MESSAGE("another connection holds the write lock");
  soci::session other{soci::sqlite3,
                      "db=\"" + proc.sqlite_path() + "\" timeout=1"};
  other << "BEGIN EXCLUSIVE";
  other << "INSERT INTO category (description) VALUES ('uncommitted')";
  for (int i = 0; i < 3; ++i) {
    auto start = clock_type::now();
    auto a = proc.post("/categories", category_body("blocked"));
    check_unavailable(a, "the database is locked by another connection");
    BOOST_TEST_MESSAGE("write answered "
                       << a.status << " after "
                       << std::chrono::duration_cast<std::chrono::milliseconds>(
                              clock_type::now() - start)
                              .count()
                       << " ms");
  }
  auto put = proc.put("/categories/1", category_body("blocked"));
  check_unavailable(put, "locked");
  BOOST_TEST_MESSAGE("WAL readers are not blocked: a read that misses the "
                     "cache is answered from the last commit");
  auto read = proc.get("/related-objects/1");
  BOOST_TEST(read.status == 200, read.describe());
  BOOST_TEST_MESSAGE("the lock is released: writes succeed again");
  other << "ROLLBACK";
  auto a = proc.post("/categories", category_body("after"));
  BOOST_TEST_REQUIRE(a.status == 201, a.describe());
  BOOST_TEST(seq_of(a) == seq_of(rel) + 1, "refused writes consumed no seq");
  auto view = proc.get("/categories/" +
                           std::to_string(a.json_body()["id"].get<int64_t>()),
                       {{"X-Min-Seq", std::to_string(seq_of(a))}});
  BOOST_TEST(view.status == 200, view.describe());
  BOOST_TEST(view.json_body()["description"] == "after");
  oracle db{proc.sqlite_path()};
  BOOST_TEST(db.row_counts()["category"] == 2);
}

BOOST_AUTO_TEST_CASE(postgresql_gone_answers_503_then_recovers,
                     *utf::precondition(on_postgresql)) {
  BOOST_TEST_MESSAGE("a PostgreSQL server of this test's own");
  private_postgresql pg;
  cqrsd_process proc{{{"database.backend", "postgresql"},
                      {"database.postgresql", quote_yaml(pg.conninfo())},
                      {"database.read_connections", "2"}}};
  auto cat = proc.post("/categories", category_body("Books"));
  BOOST_TEST_REQUIRE(cat.status == 201, cat.describe());
  auto rel = proc.post("/related-objects", related_body("Cover", "image/png"));
  BOOST_TEST_REQUIRE(rel.status == 201, rel.describe());
  auto obj = proc.post("/objects", object_body("Dune", "A-17", 1, 1));
  BOOST_TEST_REQUIRE(obj.status == 201, obj.describe());
  auto last_seq = seq_of(obj);

  BOOST_TEST_MESSAGE("the server stops");
  pg.stop();
  for (int i = 0; i < 3; ++i) {
    auto w = proc.post("/categories", category_body("while down"));
    check_unavailable(w, "the database server cannot be reached");
    auto r = proc.get("/related-objects/" + std::to_string(10 + i));
    check_unavailable(r, "the database server cannot be reached");
  }
  auto put = proc.put("/objects/1", object_body("Emma", "B-2", 1, 1));
  check_unavailable(put, "the database server cannot be reached");
  BOOST_TEST(proc.alive(), "cqrsd must keep running without its database");

  BOOST_TEST_MESSAGE("the server is back: cqrsd reconnects by itself");
  pg.start();
  http_answer w;
  auto deadline = clock_type::now() + 30s;
  do {
    w = proc.post("/categories", category_body("back"));
    if (w.status != 201)
      std::this_thread::sleep_for(100ms);
  } while (w.status != 201 && clock_type::now() < deadline);
  BOOST_TEST_REQUIRE(w.status == 201, w.describe());
  BOOST_TEST(seq_of(w) == last_seq + 1, "refused writes consumed no seq");
  auto up = proc.put("/objects/1", object_body("Emma", "B-2", 1, 1));
  BOOST_TEST_REQUIRE(up.status == 200, up.describe());
  BOOST_TEST(seq_of(up) == last_seq + 2);
  BOOST_TEST_MESSAGE("reads that miss the cache are answered again");
  // A reader connection notices the restart on its next statement: that one
  // read answers 503 and the connection reconnects for the next. So each of
  // the 2 readers may refuse one read, and none refuses a second.
  int refused = 0;
  for (int i = 0; i < 8; ++i) {
    auto miss = proc.get("/related-objects/" + std::to_string(20 + i));
    if (miss.status == 503)
      ++refused;
    else
      BOOST_TEST(miss.status == 404, miss.describe());
  }
  BOOST_TEST(refused <= 2, refused << " reads refused after the restart");
  for (int i = 0; i < 6; ++i) {
    auto v =
        proc.get("/objects/1", {{"X-Min-Seq", std::to_string(seq_of(up))}});
    BOOST_TEST(v.status == 200, v.describe());
    BOOST_TEST(v.json_body()["name"] == "Emma");
    auto c = proc.get("/categories/" +
                      std::to_string(w.json_body()["id"].get<int64_t>()));
    BOOST_TEST(c.status == 200, c.describe());
    BOOST_TEST(c.json_body()["description"] == "back");
    auto miss = proc.get("/related-objects/" + std::to_string(40 + i));
    BOOST_TEST(miss.status == 404, miss.describe());
  }
  BOOST_TEST(proc.stop(SIGTERM) == 0, proc.log());
}

BOOST_AUTO_TEST_CASE(postgresql_row_lock_held_elsewhere_times_out_with_503,
                     *utf::precondition(on_postgresql)) {
  temp_db database{cqrs::database_backend::postgresql};
  cqrsd_process proc{
      {{"database.backend", "postgresql"},
       {"database.postgresql", quote_yaml(database.settings.postgresql)},
       {"database.lock_timeout_ms", "300"}}};
  auto cat = proc.post("/categories", category_body("Books"));
  BOOST_TEST_REQUIRE(cat.status == 201, cat.describe());
  BOOST_TEST_MESSAGE("another session holds a row lock on category 1");
  auto other = database.connect();
  *other << "BEGIN";
  *other << "SELECT id FROM category WHERE id = 1 FOR UPDATE";
  auto start = clock_type::now();
  auto put = proc.put("/categories/1", category_body("Novels"));
  check_unavailable(put, "not released within database.lock_timeout_ms");
  BOOST_TEST_MESSAGE("the write answered after "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(
                            clock_type::now() - start)
                            .count()
                     << " ms");
  BOOST_TEST_MESSAGE("writes that need no lock go on meanwhile");
  auto other_write = proc.post("/categories", category_body("Poems"));
  BOOST_TEST(other_write.status == 201, other_write.describe());
  BOOST_TEST_MESSAGE("the lock is released: the same write succeeds");
  *other << "COMMIT";
  auto again = proc.put("/categories/1", category_body("Novels"));
  BOOST_TEST_REQUIRE(again.status == 200, again.describe());
  BOOST_TEST(seq_of(again) == seq_of(other_write) + 1);
  auto view =
      proc.get("/categories/1", {{"X-Min-Seq", std::to_string(seq_of(again))}});
  BOOST_TEST(view.json_body()["description"] == "Novels", view.describe());
}

BOOST_AUTO_TEST_SUITE_END()
