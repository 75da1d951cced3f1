// Tests of Idempotency-Key: a retried write answers the first answer and is
// applied once, across restarts and concurrent retries; a reused key for
// another request is a 422. End-to-end against a real cqrsd process on the
// backend CQRSD_TEST_BACKEND names (SQLite by default), plus the pieces
// (key check, request hash, serialization) on their own.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "actors/messages.hpp"
#include "common/error.hpp"
#include "db/schema.hpp"
#include "fixtures/api_model.hpp"
#include "fixtures/cluster.hpp"
#include "fixtures/cqrsd_process.hpp"
#include "fixtures/objects_domain.hpp"
#include "fixtures/temp_db.hpp"
#include "http/errors.hpp"
#include "http/idempotency.hpp"

using namespace cqrs;
using namespace cqrs::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

httplib::Headers with_key(const std::string& key) {
  return {{"Idempotency-Key", key}};
}

/// `text` with bytes outside printable ASCII as \xHH, for messages.
std::string escaped(const std::string& text) {
  std::string result;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      result += static_cast<char>(c);
    } else {
      static constexpr char hex[] = "0123456789abcdef";
      result += "\\x";
      result += hex[c >> 4];
      result += hex[c & 0x0f];
    }
  }
  return result;
}

/// The code of an error answer, or "" when the body is not an error.
std::string error_code_of(const http_answer& a) {
  auto body = a.json_body();
  if (!body.is_object() || !body.contains("error") ||
      !body["error"].contains("code"))
    return "";
  return body["error"]["code"].get<std::string>();
}

/// Checks that `retry` answers exactly as `first` did, marked as a replay.
void check_replay(const http_answer& retry, const http_answer& first) {
  BOOST_TEST(retry.status == first.status, retry.describe());
  BOOST_TEST(retry.body == first.body);
  BOOST_TEST(retry.header("X-Seq") == first.header("X-Seq"));
  BOOST_TEST(retry.header("Idempotent-Replayed") == "true");
}

/// A cqrsd process on the test backend, the oracle on its database and a
/// raw SOCI session for what the oracle does not show.
struct fixture {
  explicit fixture(cqrsd_process::overrides extra = {})
      : proc(database.with(std::move(extra))), db(database.open_oracle(proc)) {
    BOOST_TEST_MESSAGE("backend " << backend_name(database.backend));
  }

  /// A new session on the process's database, outside the process.
  std::unique_ptr<soci::session> raw() const {
    if (database.postgresql)
      return database.postgresql->connect();
    return std::make_unique<soci::session>(soci::sqlite3,
                                           "db=\"" + proc.sqlite_path() + "\"");
  }

  long long scalar(const std::string& query) const {
    auto sql = raw();
    long long result = 0;
    *sql << query, soci::into(result);
    return result;
  }

  int64_t rows(const std::string& table_name) {
    return db.row_counts()[table_name];
  }

  http_answer post(const std::string& path, const std::string& body,
                   const std::string& key) {
    return proc.request("POST", path, body, "application/json", with_key(key));
  }

  http_answer put(const std::string& path, const std::string& body,
                  const std::string& key) {
    return proc.request("PUT", path, body, "application/json", with_key(key));
  }

  /// Creates a row without a key and returns its id.
  int64_t create(const std::string& path, const json& body) {
    auto a = proc.post(path, body);
    BOOST_TEST_REQUIRE(a.status == 201, path << ": " << a.describe());
    return a.json_body()["id"].get<int64_t>();
  }

  test_database database;
  cqrsd_process proc;
  oracle db;
};

/// Keys expire after one second.
struct short_ttl_fixture : fixture {
  short_ttl_fixture()
      : fixture(cqrsd_process::overrides{{"command.idempotency_ttl_s", "1"}}) {
    // nop
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(idempotency)

// -- the pieces ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(reused_key_is_a_422_with_its_own_code) {
  BOOST_TEST(http_status(ec::idempotency_key_reused) == 422);
  BOOST_TEST(to_string(ec::idempotency_key_reused) == "idempotency_key_reused");
  auto err = http::to_api_error(
      make_cqrs_error(ec::idempotency_key_reused, "used for another request"));
  BOOST_TEST(err.status == 422);
  BOOST_TEST(err.code == "idempotency_key_reused");
  BOOST_TEST(err.message == "used for another request");
}

BOOST_AUTO_TEST_CASE(keys_are_1_to_255_printable_ascii_characters) {
  BOOST_TEST(!http::check_idempotency_key("a"));
  BOOST_TEST(
      !http::check_idempotency_key("8e03978e-40d5-43e8-bc93-6894a57f9324"));
  BOOST_TEST(!http::check_idempotency_key("\"quoted\" with spaces ~!"));
  BOOST_TEST(!http::check_idempotency_key(std::string(255, 'k')));
  BOOST_TEST(http::check_idempotency_key("").value_or("") ==
             "header Idempotency-Key must not be empty");
  BOOST_TEST(http::check_idempotency_key(std::string(256, 'k'))
                 .value_or("")
                 .find("at most 255") != std::string::npos);
  const std::vector<std::string> bad_keys{"tab\there", std::string("nul\0x", 5),
                                          "del\x7f", "caf\xc3\xa9"};
  for (const auto& bad : bad_keys) {
    BOOST_TEST_CONTEXT("key " << escaped(bad)) {
      BOOST_TEST(http::check_idempotency_key(bad).value_or("").find(
                     "printable ASCII") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(request_hash_covers_method_path_and_canonical_body) {
  auto h =
      http::request_hash("POST", "/related-objects",
                         R"({"content_description":"a","content_type":"b"})");
  BOOST_TEST(h.size() == 64u);
  BOOST_TEST(h.find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_TEST_MESSAGE("whitespace, field order and escapes do not matter");
  BOOST_TEST(http::request_hash(
                 "POST", "/related-objects",
                 " {\n \"content_type\" : \"b\", \"content_description\":"
                 "\"\\u0061\"} ") == h);
  BOOST_TEST_MESSAGE("method, path and values do");
  BOOST_TEST(http::request_hash(
                 "PUT", "/related-objects",
                 R"({"content_description":"a","content_type":"b"})") != h);
  BOOST_TEST(http::request_hash(
                 "POST", "/related-objects/1",
                 R"({"content_description":"a","content_type":"b"})") != h);
  BOOST_TEST(http::request_hash(
                 "POST", "/related-objects",
                 R"({"content_description":"a","content_type":"c"})") != h);
  BOOST_TEST(http::request_hash("DELETE", "/objects/1", "") !=
             http::request_hash("DELETE", "/objects/2", ""));
  BOOST_TEST_MESSAGE("the digest is SHA-256 (known answer for an empty body)");
  // SHA-256("DELETE\n/objects/1\n")
  BOOST_TEST(
      http::request_hash("DELETE", "/objects/1", "") ==
      "9959757dda91b71d1e760439618d7aa00d3017f37d98c40730e6ca77dac6c723");
}

BOOST_AUTO_TEST_CASE(key_and_replay_cross_the_network) {
  // A query node forwards writes to the command node through CAF's
  // serialization: the key, the hash and the replay flag must survive it.
  auto cmd = update_category(7, "Books");
  cmd.idempotency_key = "key-1";
  cmd.request_hash = std::string(64, 'f');
  write_result res;
  res.id = 7;
  res.seq = 42;
  res.replayed = true;
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  BOOST_REQUIRE(!sink(cmd, res));
  command cmd_copy;
  write_result res_copy;
  caf::binary_deserializer source{nullptr, buf};
  BOOST_REQUIRE(!source(cmd_copy, res_copy));
  BOOST_TEST(cmd_copy.idempotency_key == "key-1");
  BOOST_TEST(cmd_copy.request_hash == cmd.request_hash);
  BOOST_TEST((cmd_copy.op == operation::update));
  BOOST_TEST(cmd_copy.resource == cmd.resource);
  BOOST_TEST(cmd_copy.id == 7);
  BOOST_TEST_REQUIRE(cmd_copy.rows.size() == 1u);
  BOOST_TEST(cmd_copy.rows[0].parent == -1);
  BOOST_TEST((cmd_copy.rows[0].values == cmd.rows[0].values));
  BOOST_TEST(cmd_copy.rows[0].values[0].text == "Books");
  BOOST_TEST(res_copy.replayed);
  BOOST_TEST(res_copy.seq == 42u);
}

BOOST_AUTO_TEST_CASE(an_aggregate_and_every_value_kind_cross_the_network) {
  // An object with its child: two rows, the child's `by` slot null; then a
  // row holding one value of each kind, as another domain's command would.
  auto cmd = new_object("Box", "A-1", 3, 4);
  cmd.rows.push_back(row_write{
      1,
      0,
      {field_value{}, field_value::of_integer(-9223372036854775807 - 1),
       field_value::of_number(-0.125), field_value::of_boolean(true),
       field_value::of_text(std::string("caf\xc3\xa9\n\"", 8))}});
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  BOOST_REQUIRE(!sink(cmd));
  command copy;
  caf::binary_deserializer source{nullptr, buf};
  BOOST_REQUIRE(!source(copy));
  BOOST_TEST((copy.op == operation::create));
  BOOST_TEST(copy.resource == resource_of("objects"));
  BOOST_TEST_REQUIRE(copy.rows.size() == 3u);
  for (size_t i = 0; i < copy.rows.size(); ++i) {
    BOOST_TEST_CONTEXT("row " << i) {
      BOOST_TEST(copy.rows[i].node == cmd.rows[i].node);
      BOOST_TEST(copy.rows[i].parent == cmd.rows[i].parent);
      BOOST_TEST((copy.rows[i].values == cmd.rows[i].values));
    }
  }
  BOOST_TEST(copy.rows[1].parent == 0);
  BOOST_TEST(copy.rows[1].values.size() == 4u);
  BOOST_TEST(
      std::count_if(copy.rows[1].values.begin(), copy.rows[1].values.end(),
                    [](const field_value& v) { return v.is_null(); }) == 1);
  BOOST_TEST(copy.rows[2].values[1].integer == INT64_MIN);
  BOOST_TEST((copy.rows[2].values[3].kind == value_kind::boolean));
  BOOST_TEST(copy.rows[2].values[4].text.size() == 8u);
}

// -- end to end ---------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(retry_answers_the_first_answer_and_applies_once,
                        fixture) {
  auto body = R"({"content_description":"Cover","content_type":"image/png"})";
  auto first = post("/related-objects", body, "k-1");
  BOOST_TEST_REQUIRE(first.status == 201, first.describe());
  BOOST_TEST(!first.has_header("Idempotent-Replayed"));
  auto seq = first.x_seq();
  BOOST_TEST_REQUIRE(seq.has_value());
  BOOST_TEST(first.json_body()["seq"] == *seq);

  BOOST_TEST_MESSAGE("the retry, after another write");
  create("/categories", category_body("Books"));
  auto retry = post("/related-objects", body, "k-1");
  check_replay(retry, first);
  BOOST_TEST_MESSAGE("the same body formatted differently is the same request");
  auto reformatted = post("/related-objects",
                          "{ \"content_type\": \"image/png\",\n  "
                          "\"content_description\": \"Cover\" }",
                          "k-1");
  check_replay(reformatted, first);

  BOOST_TEST_MESSAGE("applied once: one row, two seqs, one key");
  BOOST_TEST(rows("related_object") == 1);
  BOOST_TEST(rows("commit_log") == 2);
  BOOST_TEST(db.max_seq() == *seq + 1);
  BOOST_TEST(rows("idempotency_key") == 1);
  BOOST_TEST_MESSAGE("the replays used no seq");
  auto next = proc.post("/categories", category_body("Music"));
  BOOST_TEST(next.x_seq().value_or(-1) == *seq + 2);
  BOOST_TEST_MESSAGE("reads see the row as first written");
  auto id = first.json_body()["id"].get<int64_t>();
  auto read = proc.get("/related-objects/" + std::to_string(id),
                       {{"X-Min-Seq", std::to_string(*seq + 2)}});
  BOOST_TEST(read.status == 200, read.describe());
  BOOST_TEST(read.json_body() == db.related_object(id));
}

BOOST_FIXTURE_TEST_CASE(a_reused_key_for_another_request_is_a_422, fixture) {
  auto first = post("/categories", R"({"description":"Books"})", "k-2");
  BOOST_TEST_REQUIRE(first.status == 201, first.describe());
  auto id = first.json_body()["id"].get<int64_t>();
  auto seq = db.max_seq();
  BOOST_TEST_MESSAGE("another body");
  auto other_body = post("/categories", R"({"description":"Music"})", "k-2");
  BOOST_TEST(other_body.status == 422, other_body.describe());
  BOOST_TEST(error_code_of(other_body) == "idempotency_key_reused");
  BOOST_TEST(other_body.body.find("already used for a different request") !=
                 std::string::npos,
             other_body.body);
  BOOST_TEST(!other_body.has_header("Idempotent-Replayed"));
  BOOST_TEST_MESSAGE("another method and path, same body");
  auto other_path = put("/categories/" + std::to_string(id),
                        R"({"description":"Books"})", "k-2");
  BOOST_TEST(other_path.status == 422, other_path.describe());
  BOOST_TEST(error_code_of(other_path) == "idempotency_key_reused");
  auto other_route =
      post("/related-objects",
           R"({"content_description":"x","content_type":"y"})", "k-2");
  BOOST_TEST(other_route.status == 422, other_route.describe());

  BOOST_TEST_MESSAGE("nothing was applied");
  BOOST_TEST(db.max_seq() == seq);
  BOOST_TEST(rows("category") == 1);
  BOOST_TEST(rows("related_object") == 0);
  BOOST_TEST(db.category(id)["description"] == "Books");
  BOOST_TEST_MESSAGE("the original request still replays");
  check_replay(post("/categories", R"({"description":"Books"})", "k-2"), first);
}

BOOST_FIXTURE_TEST_CASE(put_and_delete_with_keys, fixture) {
  auto cat = create("/categories", category_body("Books"));
  auto path = "/categories/" + std::to_string(cat);
  auto first_put = put(path, R"({"description":"Science fiction"})", "put-1");
  BOOST_TEST_REQUIRE(first_put.status == 200, first_put.describe());
  BOOST_TEST(!first_put.has_header("Idempotent-Replayed"));
  BOOST_TEST_MESSAGE("a later change, then the PUT's retry");
  auto other = proc.put(path, category_body("Fantasy"));
  BOOST_TEST_REQUIRE(other.status == 200, other.describe());
  check_replay(put(path, R"({"description":"Science fiction"})", "put-1"),
               first_put);
  BOOST_TEST(db.category(cat)["description"] == "Fantasy",
             "the retry did not apply the PUT again");

  auto first_del = proc.del(path, with_key("del-1"));
  BOOST_TEST_REQUIRE(first_del.status == 200, first_del.describe());
  BOOST_TEST(db.category(cat).is_null());
  BOOST_TEST_MESSAGE("a retried DELETE answers 200 again, not 404");
  check_replay(proc.del(path, with_key("del-1")), first_del);
  BOOST_TEST_MESSAGE("its body does not count, it is ignored");
  auto with_body = proc.request("DELETE", path, R"({"ignored":true})",
                                "application/json", with_key("del-1"));
  check_replay(with_body, first_del);
  auto plain = proc.del(path);
  BOOST_TEST(plain.status == 404, plain.describe());
  BOOST_TEST(rows("commit_log") == 4);
  BOOST_TEST(rows("idempotency_key") == 2);
}

BOOST_FIXTURE_TEST_CASE(failed_writes_store_no_key_and_run_again, fixture) {
  auto body = object_body("Dune", "A-17", 1, 1).dump();
  auto missing = post("/objects", body, "obj-1");
  BOOST_TEST(missing.status == 422, missing.describe());
  BOOST_TEST(error_code_of(missing) == "missing_reference");
  BOOST_TEST(rows("idempotency_key") == 0);
  BOOST_TEST_MESSAGE("the references appear; the retry runs and succeeds");
  auto cat = create("/categories", category_body("Books"));
  auto rel = create("/related-objects", related_body("Cover", "image/png"));
  BOOST_TEST_REQUIRE(cat == 1);
  BOOST_TEST_REQUIRE(rel == 1);
  auto created = post("/objects", body, "obj-1");
  BOOST_TEST_REQUIRE(created.status == 201, created.describe());
  BOOST_TEST(!created.has_header("Idempotent-Replayed"));
  check_replay(post("/objects", body, "obj-1"), created);
  BOOST_TEST(rows("top_level_object") == 1);

  BOOST_TEST_MESSAGE("a 409 is not stored either");
  auto cat_path = "/categories/" + std::to_string(cat);
  auto refused = proc.del(cat_path, with_key("del-cat"));
  BOOST_TEST(refused.status == 409, refused.describe());
  auto obj_path = "/objects/" + created.json_body()["id"].dump();
  BOOST_TEST_REQUIRE(proc.del(obj_path).status == 200);
  auto deleted = proc.del(cat_path, with_key("del-cat"));
  BOOST_TEST(deleted.status == 200, deleted.describe());
  BOOST_TEST(!deleted.has_header("Idempotent-Replayed"));
  BOOST_TEST(db.category(cat).is_null());

  BOOST_TEST_MESSAGE("a 400 never reaches the store");
  auto bad = post("/categories", R"({"description":""})", "bad-body");
  BOOST_TEST(bad.status == 400, bad.describe());
  auto good = post("/categories", R"({"description":"ok"})", "bad-body");
  BOOST_TEST(good.status == 201, good.describe());
}

BOOST_FIXTURE_TEST_CASE(bad_keys_are_a_400_and_change_nothing, fixture) {
  auto body = category_body("Books").dump();
  auto check_400 = [&](const http_answer& a, const std::string& mentions) {
    BOOST_TEST(a.status == 400, a.describe());
    BOOST_TEST(error_code_of(a) == "bad_request");
    BOOST_TEST(a.body.find(mentions) != std::string::npos, a.body);
  };
  check_400(post("/categories", body, std::string(256, 'k')), "at most 255");
  check_400(post("/categories", body, "caf\xc3\xa9"), "printable ASCII");
  check_400(proc.request("POST", "/categories", body, "application/json",
                         {{"Idempotency-Key", "a"}, {"Idempotency-Key", "b"}}),
            "repeated");
  auto raw = [&](const std::string& header) {
    return proc.raw_request(
        "POST /categories HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\n" +
        header + "\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body);
  };
  for (std::string header :
       {"Idempotency-Key: a\x01z", "Idempotency-Key: a\x7fz"}) {
    BOOST_TEST_CONTEXT("header " << escaped(header)) {
      auto answer = raw(header);
      BOOST_TEST(answer.rfind("HTTP/1.1 400 ", 0) == 0, answer);
    }
  }
  BOOST_TEST(rows("category") == 0);
  BOOST_TEST(db.max_seq() == 0);
  BOOST_TEST_MESSAGE("a 255-character key is fine");
  auto ok = post("/categories", body, std::string(255, 'k'));
  BOOST_TEST(ok.status == 201, ok.describe());
  check_replay(post("/categories", body, std::string(255, 'k')), ok);
  BOOST_TEST_MESSAGE("cpp-httplib drops an empty header field: no key at all");
  for (int n = 0; n < 2; ++n) {
    auto answer = raw("Idempotency-Key:");
    BOOST_TEST(answer.rfind("HTTP/1.1 201 ", 0) == 0, answer);
    BOOST_TEST(answer.find("Idempotent-Replayed") == std::string::npos);
  }
  BOOST_TEST(rows("category") == 3);
  BOOST_TEST(rows("idempotency_key") == 1);
}

BOOST_FIXTURE_TEST_CASE(concurrent_retries_apply_once, fixture) {
  constexpr int threads = 8;
  constexpr int tries = 5;
  auto body = category_body("Books").dump();
  std::vector<std::vector<http_answer>> answers(threads);
  std::atomic<int> ready{0};
  std::vector<std::thread> workers;
  BOOST_TEST_MESSAGE(threads << " clients send the same keyed write " << tries
                             << " times each, at once");
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto client = proc.make_client();
      ++ready;
      auto deadline = std::chrono::steady_clock::now() + 10s;
      while (ready < threads && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
      for (int n = 0; n < tries; ++n)
        answers[t].push_back(send_request(*client, "POST", "/categories", body,
                                          "application/json",
                                          with_key("together")));
    });
  }
  for (auto& w : workers)
    w.join();
  std::set<std::string> bodies;
  std::set<std::string> seqs;
  int applied = 0;
  for (const auto& list : answers) {
    for (const auto& a : list) {
      BOOST_TEST(a.status == 201, a.describe());
      bodies.insert(a.body);
      seqs.insert(a.header("X-Seq"));
      if (!a.has_header("Idempotent-Replayed"))
        ++applied;
    }
  }
  BOOST_TEST(bodies.size() == 1u);
  BOOST_TEST(seqs.size() == 1u);
  BOOST_TEST(applied == 1, applied << " answers were not replays");
  BOOST_TEST(rows("category") == 1);
  BOOST_TEST(rows("commit_log") == 1);
  BOOST_TEST(rows("idempotency_key") == 1);
}

BOOST_FIXTURE_TEST_CASE(a_retry_after_a_restart_is_still_replayed, fixture) {
  auto body = category_body("Books").dump();
  auto first = post("/categories", body, "across-restart");
  BOOST_TEST_REQUIRE(first.status == 201, first.describe());
  BOOST_TEST_MESSAGE("kill -9 right after the answer, then start again");
  proc.kill();
  proc.start();
  check_replay(post("/categories", body, "across-restart"), first);
  auto other =
      post("/categories", category_body("Music").dump(), "across-restart");
  BOOST_TEST(other.status == 422, other.describe());
  BOOST_TEST(rows("category") == 1);
  BOOST_TEST(db.max_seq() == *first.x_seq());
}

BOOST_FIXTURE_TEST_CASE(keys_expire_after_the_ttl, short_ttl_fixture) {
  auto body = category_body("Books").dump();
  auto first = post("/categories", body, "short-lived");
  BOOST_TEST_REQUIRE(first.status == 201, first.describe());
  check_replay(post("/categories", body, "short-lived"), first);
  BOOST_TEST_MESSAGE("wait past command.idempotency_ttl_s (1 s)");
  std::this_thread::sleep_for(2500ms);
  auto again = post("/categories", body, "short-lived");
  BOOST_TEST(again.status == 201, again.describe());
  BOOST_TEST(!again.has_header("Idempotent-Replayed"));
  BOOST_TEST(again.x_seq().value_or(-1) == *first.x_seq() + 1);
  BOOST_TEST(rows("category") == 2);
  BOOST_TEST(rows("idempotency_key") == 1);
  BOOST_TEST_MESSAGE("a restart prunes expired keys");
  std::this_thread::sleep_for(2500ms);
  BOOST_TEST_REQUIRE(proc.stop() == 0);
  proc.start();
  // The command actor opens its store (and prunes) right after /readyz
  // turns 200, without any write.
  const std::string pruned = "pruned 1 idempotency keys older than 1 s";
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (proc.log().find(pruned) == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  BOOST_TEST(proc.log().find(pruned) != std::string::npos, proc.log());
  BOOST_TEST(rows("idempotency_key") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_version_1_database_is_migrated_on_start, fixture) {
  auto cat = create("/categories", category_body("Books"));
  BOOST_TEST_REQUIRE(proc.stop() == 0);
  BOOST_TEST_MESSAGE("turn the database back into schema version 1");
  {
    auto sql = raw();
    *sql << "DROP TABLE idempotency_key";
    *sql << "UPDATE schema_version SET version = 1";
  }
  BOOST_TEST_REQUIRE(scalar("SELECT version FROM schema_version") == 1);
  proc.start();
  BOOST_TEST(scalar("SELECT version FROM schema_version") == schema_version);
  BOOST_TEST(db.category(cat)["description"] == "Books");
  auto first = post("/categories", category_body("Music").dump(), "after-v1");
  BOOST_TEST_REQUIRE(first.status == 201, first.describe());
  check_replay(post("/categories", category_body("Music").dump(), "after-v1"),
               first);
  BOOST_TEST(rows("category") == 2);
  BOOST_TEST(rows("idempotency_key") == 1);
}

BOOST_AUTO_TEST_CASE(query_nodes_forward_the_key_to_the_command_node) {
  if (backend_from_environment() != database_backend::postgresql) {
    BOOST_TEST_MESSAGE("skipped on sqlite: a cluster runs on PostgreSQL");
    return;
  }
  test_cluster c;
  auto& cmd = c.start_command();
  auto& q1 = c.start_query("q1");
  auto& q2 = c.start_query("q2");
  for (auto* node : {&q1, &q2}) {
    auto state = wait_link_state(*node, "linked", "in_use", 20s);
    BOOST_TEST_REQUIRE(state.is("linked", "in_use"), state.raw);
  }
  auto db = c.make_oracle();
  auto body = category_body("Books").dump();
  auto send = [&](cqrsd_process& node, const std::string& text) {
    return node.request("POST", "/categories", text, "application/json",
                        with_key("via-cluster"));
  };
  auto first = send(q1, body);
  BOOST_TEST_REQUIRE(first.status == 201, first.describe());
  BOOST_TEST(!first.has_header("Idempotent-Replayed"));
  BOOST_TEST_MESSAGE("retries through the other query node and the command "
                     "node replay");
  check_replay(send(q2, body), first);
  check_replay(send(cmd, body), first);
  auto reused = send(q2, category_body("Music").dump());
  BOOST_TEST(reused.status == 422, reused.describe());
  BOOST_TEST(error_code_of(reused) == "idempotency_key_reused");
  BOOST_TEST(db->row_counts()["category"] == 1);
  BOOST_TEST(db->max_seq() == *first.x_seq());
}

BOOST_AUTO_TEST_SUITE_END()
