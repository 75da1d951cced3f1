// Tests of the YAML settings loader, its error messages and the logger.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

#include "common/logging.hpp"
#include "config/domain_file.hpp"
#include "config/settings.hpp"

using namespace cqrs;

namespace {

/// Parses YAML snippets, writes temporary config files and sets environment
/// variables, undoing all of it on teardown.
struct fixture {
  fixture() {
    char pattern[] = "/tmp/cqrsd-config-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    BOOST_REQUIRE(made != nullptr);
    dir = made;
  }

  ~fixture() {
    // Restore in reverse order so that a variable set twice ends up as it
    // was before the test.
    for (auto i = variables.rbegin(); i != variables.rend(); ++i) {
      if (i->second)
        ::setenv(i->first.c_str(), i->second->c_str(), 1);
      else
        ::unsetenv(i->first.c_str());
    }
    for (const auto& path : files)
      std::remove(path.c_str());
    ::rmdir(dir.c_str());
  }

  /// Parses `yaml` and requires success.
  settings parse_ok(const std::string& yaml) {
    config_error err;
    auto result = parse_settings(yaml, err);
    BOOST_REQUIRE_MESSAGE(result.has_value(), "unexpected " << to_string(err)
                                                            << " for:\n"
                                                            << yaml);
    return *result;
  }

  /// Parses `yaml`, requires failure and returns the error.
  config_error parse_error(const std::string& yaml) {
    config_error err;
    auto result = parse_settings(yaml, err);
    BOOST_REQUIRE_MESSAGE(!result.has_value(), "expected an error for:\n"
                                                   << yaml);
    return err;
  }

  /// Checks that `yaml` fails on `key` with a message mentioning `mentions`.
  void check_error(const std::string& yaml, const std::string& key,
                   const std::string& mentions) {
    BOOST_TEST_CONTEXT("yaml: " << yaml) {
      auto err = parse_error(yaml);
      BOOST_TEST(err.key == key);
      BOOST_TEST(err.message.find(mentions) != std::string::npos,
                 "message '" << err.message << "' does not mention '"
                             << mentions << "'");
    }
  }

  /// Writes `text` into a file of the temporary directory.
  std::string write_file(const std::string& name, const std::string& text) {
    auto path = dir + "/" + name;
    std::ofstream out{path};
    out << text;
    out.close();
    BOOST_REQUIRE(out.good());
    files.push_back(path);
    return path;
  }

  /// Sets an environment variable until teardown, which restores its
  /// previous value (or unsets it).
  void set_variable(const std::string& name, const std::string& value) {
    const char* old = std::getenv(name.c_str());
    variables.emplace_back(
        name, old != nullptr ? std::optional<std::string>{old} : std::nullopt);
    ::setenv(name.c_str(), value.c_str(), 1);
  }

  /// Loads a shipped file of config/ and requires success.
  settings load_shipped(const std::string& name) {
    config_error err;
    auto path = std::string{CQRSD_SOURCE_DIR} + "/config/" + name;
    auto result = load_settings(path, err);
    BOOST_REQUIRE_MESSAGE(result.has_value(), name << ": " << to_string(err));
    return *result;
  }

  std::string dir;
  std::vector<std::string> files;
  std::vector<std::pair<std::string, std::optional<std::string>>> variables;
};

/// Checks every field of `x` against `y`.
void check_equal(const settings& x, const settings& y) {
  BOOST_TEST(x.node.name == y.node.name);
  BOOST_TEST(to_string(x.node.role) == to_string(y.node.role));
  BOOST_TEST(x.http.listen == y.http.listen);
  BOOST_TEST(x.http.host == y.http.host);
  BOOST_TEST(x.http.port == y.http.port);
  BOOST_TEST(x.http.threads == y.http.threads);
  BOOST_TEST(x.http.max_body_bytes == y.http.max_body_bytes);
  BOOST_TEST(x.http.max_queued_connections == y.http.max_queued_connections);
  BOOST_TEST(x.http.max_in_flight == y.http.max_in_flight);
  BOOST_TEST(x.http.read_timeout_ms == y.http.read_timeout_ms);
  BOOST_TEST(x.http.write_timeout_ms == y.http.write_timeout_ms);
  BOOST_TEST(x.http.keep_alive_timeout_ms == y.http.keep_alive_timeout_ms);
  BOOST_TEST(x.http.max_header_bytes == y.http.max_header_bytes);
  BOOST_TEST(x.http.write_token == y.http.write_token);
  BOOST_TEST(x.http.read_token == y.http.read_token);
  BOOST_TEST(x.http.assets_dir == y.http.assets_dir);
  BOOST_TEST(to_string(x.database.backend) == to_string(y.database.backend));
  BOOST_TEST(x.database.sqlite_path == y.database.sqlite_path);
  BOOST_TEST(x.database.postgresql == y.database.postgresql);
  BOOST_TEST(x.database.read_postgresql == y.database.read_postgresql);
  BOOST_TEST(x.database.read_connections == y.database.read_connections);
  BOOST_TEST(x.database.busy_timeout_ms == y.database.busy_timeout_ms);
  BOOST_TEST(x.database.lock_timeout_ms == y.database.lock_timeout_ms);
  BOOST_TEST(x.database.statement_timeout_ms ==
             y.database.statement_timeout_ms);
  BOOST_TEST(x.query.actors == y.query.actors);
  BOOST_TEST(to_string(x.query.routing) == to_string(y.query.routing));
  BOOST_TEST(x.query.cache_enabled == y.query.cache_enabled);
  BOOST_TEST(x.query.cache_max_entries == y.query.cache_max_entries);
  BOOST_TEST(x.query.min_seq_timeout_ms == y.query.min_seq_timeout_ms);
  BOOST_TEST(x.query.max_restarts == y.query.max_restarts);
  BOOST_TEST(x.query.restart_window_ms == y.query.restart_window_ms);
  BOOST_TEST(x.command.max_batch == y.command.max_batch);
  BOOST_TEST(x.command.timeout_ms == y.command.timeout_ms);
  BOOST_TEST(x.command.max_restarts == y.command.max_restarts);
  BOOST_TEST(x.command.restart_window_ms == y.command.restart_window_ms);
  BOOST_TEST(x.cluster.listen == y.cluster.listen);
  BOOST_TEST(x.cluster.listen_host == y.cluster.listen_host);
  BOOST_TEST(x.cluster.listen_port == y.cluster.listen_port);
  BOOST_TEST(x.cluster.command_nodes.at(0).address ==
             y.cluster.command_nodes.at(0).address);
  BOOST_TEST(x.cluster.command_nodes.at(0).host ==
             y.cluster.command_nodes.at(0).host);
  BOOST_TEST(x.cluster.command_nodes.at(0).port ==
             y.cluster.command_nodes.at(0).port);
  BOOST_TEST(x.cluster.heartbeat_interval_ms ==
             y.cluster.heartbeat_interval_ms);
  BOOST_TEST(x.cluster.missed_heartbeats == y.cluster.missed_heartbeats);
  BOOST_TEST(x.cluster.reconnect_initial_ms == y.cluster.reconnect_initial_ms);
  BOOST_TEST(x.cluster.reconnect_max_ms == y.cluster.reconnect_max_ms);
  BOOST_TEST(to_string(x.log.level) == to_string(y.log.level));
  BOOST_TEST(x.domain == y.domain);
}

/// Captures what is written to stderr while alive.
struct stderr_capture {
  explicit stderr_capture(const std::string& path) {
    std::fflush(stderr);
    saved = ::dup(STDERR_FILENO);
    std::FILE* file = std::fopen(path.c_str(), "w");
    BOOST_REQUIRE(file != nullptr);
    ::dup2(::fileno(file), STDERR_FILENO);
    std::fclose(file);
  }

  ~stderr_capture() {
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
  }

  int saved;
};

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(config, fixture)

// -- defaults and valid documents ---------------------------------------------

BOOST_AUTO_TEST_CASE(empty_document_is_the_default_configuration) {
  settings defaults;
  BOOST_TEST_MESSAGE("empty text");
  check_equal(parse_ok(""), defaults);
  BOOST_TEST_MESSAGE("only comments and blank lines");
  check_equal(parse_ok("# nothing here\n\n   # still nothing\n"), defaults);
  BOOST_TEST_MESSAGE("sections left empty");
  check_equal(parse_ok("node:\nquery:\nlog: {}\n"), defaults);
}

BOOST_AUTO_TEST_CASE(built_in_defaults_serve_on_localhost_with_sqlite) {
  settings s;
  BOOST_TEST(s.http.listen == "127.0.0.1:8080");
  BOOST_TEST(s.http.host == "127.0.0.1");
  BOOST_TEST(s.http.port == 8080u);
  BOOST_TEST(to_string(s.database.backend) == "sqlite");
  BOOST_TEST(s.database.sqlite_path == "data/cqrsd.db");
  BOOST_TEST(to_string(s.node.role) == "standalone");
}

BOOST_AUTO_TEST_CASE(built_in_cluster_defaults) {
  settings s;
  BOOST_TEST(s.database.read_postgresql == "");
  BOOST_TEST(s.cluster.listen == "127.0.0.1:7070");
  BOOST_TEST(s.cluster.listen_host == "127.0.0.1");
  BOOST_TEST(s.cluster.listen_port == 7070u);
  BOOST_TEST(s.cluster.command_nodes.at(0).address == "127.0.0.1:7070");
  BOOST_TEST(s.cluster.command_nodes.at(0).host == "127.0.0.1");
  BOOST_TEST(s.cluster.command_nodes.at(0).port == 7070u);
  BOOST_TEST(s.cluster.heartbeat_interval_ms == 500u);
  BOOST_TEST(s.cluster.missed_heartbeats == 3u);
  BOOST_TEST(s.cluster.reconnect_initial_ms == 100u);
  BOOST_TEST(s.cluster.reconnect_max_ms == 5000u);
  BOOST_TEST_MESSAGE("an empty cluster section keeps them");
  check_equal(parse_ok("cluster:\n"), s);
  check_equal(parse_ok("cluster: {}\n"), s);
}

BOOST_AUTO_TEST_CASE(shipped_default_yaml_equals_built_in_defaults) {
  config_error err;
  auto path = std::string{CQRSD_SOURCE_DIR} + "/config/default.yaml";
  auto loaded = load_settings(path, err);
  BOOST_REQUIRE_MESSAGE(loaded.has_value(), to_string(err));
  check_equal(*loaded, settings{});
  BOOST_TEST(loaded->http.host == "127.0.0.1");
  BOOST_TEST(loaded->http.port == 8080u);
  BOOST_TEST(loaded->database.sqlite_path == "data/cqrsd.db");
}

BOOST_AUTO_TEST_CASE(shipped_default_yaml_lists_every_key) {
  // Each key of the contract appears in default.yaml with a comment above it.
  auto text = read_file(std::string{CQRSD_SOURCE_DIR} + "/config/default.yaml");
  const char* keys[] = {
      "name",
      "role",
      "listen",
      "threads",
      "max_body_bytes",
      "max_queued_connections",
      "max_in_flight",
      "read_timeout_ms",
      "write_timeout_ms",
      "keep_alive_timeout_ms",
      "max_header_bytes",
      "write_token",
      "read_token",
      "assets_dir",
      "backend",
      "sqlite_path",
      "postgresql",
      "read_postgresql",
      "read_connections",
      "busy_timeout_ms",
      "lock_timeout_ms",
      "statement_timeout_ms",
      "actors",
      "routing",
      "cache_enabled",
      "cache_max_entries",
      "min_seq_timeout_ms",
      "session_consistency",
      "max_restarts",
      "restart_window_ms",
      "max_batch",
      "timeout_ms",
      "command_node",
      "leader_lease_ms",
      "heartbeat_interval_ms",
      "missed_heartbeats",
      "reconnect_initial_ms",
      "reconnect_max_ms",
      "level",
  };
  for (auto key : keys) {
    std::regex commented{"#[^\n]*\n[ ]+" + std::string{key} + ":"};
    BOOST_TEST(std::regex_search(text, commented),
               "default.yaml lacks a commented '" << key << ":'");
  }
  std::regex cluster_listen{"\ncluster:\n(  [^\n]*\n)*  #[^\n]*\n  listen:"};
  BOOST_TEST(std::regex_search(text, cluster_listen),
             "default.yaml lacks a commented 'listen:' under 'cluster:'");
}

BOOST_AUTO_TEST_CASE(every_key_can_be_set) {
  auto s = parse_ok(R"(
node:
  name: reader-7
  role: query
http:
  listen: "0.0.0.0:9090"
  threads: 1024
  max_body_bytes: 1073741824
  write_token: s3cret
  read_token: r3ader
database:
  backend: postgresql
  sqlite_path: other.db
  postgresql: "host=db dbname=cqrs"
  read_postgresql: "host=replica dbname=cqrs"
  read_connections: 256
  busy_timeout_ms: 0
  lock_timeout_ms: 600000
  statement_timeout_ms: 3600000
query:
  actors: 100000
  routing: round_robin
  cache_enabled: false
  cache_max_entries: 1
  min_seq_timeout_ms: 600000
  session_consistency: none
  max_restarts: 0
  restart_window_ms: 3600000
command:
  max_batch: 1
  timeout_ms: 600000
  max_restarts: 100000
  restart_window_ms: 1
cluster:
  listen: "0.0.0.0:65535"
  command_node: "cmd.example:1"
  heartbeat_interval_ms: 60000
  missed_heartbeats: 100
  reconnect_initial_ms: 60000
  reconnect_max_ms: 600000
log:
  level: debug
)");
  BOOST_TEST(s.node.name == "reader-7");
  BOOST_TEST(to_string(s.node.role) == "query");
  BOOST_TEST(s.http.listen == "0.0.0.0:9090");
  BOOST_TEST(s.http.host == "0.0.0.0");
  BOOST_TEST(s.http.port == 9090u);
  BOOST_TEST(s.http.threads == 1024u);
  BOOST_TEST(s.http.max_body_bytes == 1073741824u);
  BOOST_TEST(s.http.write_token == "s3cret");
  BOOST_TEST(s.http.read_token == "r3ader");
  BOOST_TEST(to_string(s.database.backend) == "postgresql");
  BOOST_TEST(s.database.sqlite_path == "other.db");
  BOOST_TEST(s.database.postgresql == "host=db dbname=cqrs");
  BOOST_TEST(s.database.read_postgresql == "host=replica dbname=cqrs");
  BOOST_TEST(s.database.read_connections == 256u);
  BOOST_TEST(s.database.busy_timeout_ms == 0u);
  BOOST_TEST(s.database.lock_timeout_ms == 600000u);
  BOOST_TEST(s.database.statement_timeout_ms == 3600000u);
  BOOST_TEST(s.query.actors == 100000u);
  BOOST_TEST(to_string(s.query.routing) == "round_robin");
  BOOST_TEST(s.query.cache_enabled == false);
  BOOST_TEST(s.query.cache_max_entries == 1u);
  BOOST_TEST(s.query.min_seq_timeout_ms == 600000u);
  BOOST_TEST(to_string(s.query.session) == "none");
  BOOST_TEST(s.query.max_restarts == 0u);
  BOOST_TEST(s.query.restart_window_ms == 3600000u);
  BOOST_TEST(s.command.max_batch == 1u);
  BOOST_TEST(s.command.timeout_ms == 600000u);
  BOOST_TEST(s.command.max_restarts == 100000u);
  BOOST_TEST(s.command.restart_window_ms == 1u);
  BOOST_TEST(s.cluster.listen == "0.0.0.0:65535");
  BOOST_TEST(s.cluster.listen_host == "0.0.0.0");
  BOOST_TEST(s.cluster.listen_port == 65535u);
  BOOST_TEST(s.cluster.command_nodes.at(0).address == "cmd.example:1");
  BOOST_TEST(s.cluster.command_nodes.at(0).host == "cmd.example");
  BOOST_TEST(s.cluster.command_nodes.at(0).port == 1u);
  BOOST_TEST(s.cluster.heartbeat_interval_ms == 60000u);
  BOOST_TEST(s.cluster.missed_heartbeats == 100u);
  BOOST_TEST(s.cluster.reconnect_initial_ms == 60000u);
  BOOST_TEST(s.cluster.reconnect_max_ms == 600000u);
  BOOST_TEST(to_string(s.log.level) == "debug");
}

BOOST_AUTO_TEST_CASE(keys_left_out_keep_their_defaults) {
  auto s = parse_ok("query:\n  actors: 3\n");
  BOOST_TEST(s.query.actors == 3u);
  BOOST_TEST(s.query.cache_max_entries == 100000u);
  BOOST_TEST(s.http.port == 8080u);
}

BOOST_AUTO_TEST_CASE(listen_accepts_ipv6_hostnames_and_port_zero) {
  auto v6 = parse_ok("http: {listen: \"[::1]:8080\"}");
  BOOST_TEST(v6.http.listen == "[::1]:8080");
  BOOST_TEST(v6.http.host == "::1");
  BOOST_TEST(v6.http.port == 8080u);
  auto any = parse_ok("http: {listen: \"127.0.0.1:0\"}");
  BOOST_TEST(any.http.host == "127.0.0.1");
  BOOST_TEST(any.http.port == 0u);
  auto named = parse_ok("http: {listen: \"localhost:65535\"}");
  BOOST_TEST(named.http.host == "localhost");
  BOOST_TEST(named.http.port == 65535u);
}

BOOST_AUTO_TEST_CASE(booleans_accept_yaml_1_2_spellings) {
  BOOST_TEST(parse_ok("query: {cache_enabled: false}").query.cache_enabled ==
             false);
  BOOST_TEST(parse_ok("query: {cache_enabled: FALSE}").query.cache_enabled ==
             false);
  BOOST_TEST(parse_ok("query: {cache_enabled: True}").query.cache_enabled ==
             true);
}

// -- structural errors --------------------------------------------------------

BOOST_AUTO_TEST_CASE(unknown_keys_are_named) {
  check_error("nodes: {name: x}", "nodes", "unknown key 'nodes'");
  check_error("query:\n  actorz: 3\n", "query.actorz",
              "unknown key 'query.actorz'");
  check_error("http: {host: 127.0.0.1}", "http.host", "'http.host'");
  check_error("http: {port: 80}", "http.port", "'http.port'");
}

BOOST_AUTO_TEST_CASE(sections_must_be_mappings) {
  check_error("query: 5", "query", "'5'");
  check_error("http: [a, b]", "http", "a sequence");
}

BOOST_AUTO_TEST_CASE(top_level_must_be_a_mapping) {
  check_error("- a\n- b\n", "", "a sequence");
  check_error("just text", "", "'just text'");
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_errors) {
  check_error("query:\n  actors: 1\n  actors: 2\n", "query.actors",
              "duplicate key 'query.actors'");
  check_error("log: {level: info}\nlog: {level: debug}\n", "log",
              "duplicate key 'log'");
}

BOOST_AUTO_TEST_CASE(yaml_syntax_errors_give_line_and_column) {
  auto err = parse_error("query:\n  actors: [1, 2\nlog: {}\n");
  BOOST_TEST(err.key == "");
  BOOST_TEST(err.message.find("line") != std::string::npos, err.message);
  BOOST_TEST(err.message.find("column") != std::string::npos, err.message);
  BOOST_TEST(to_string(err).rfind("config error: yaml-cpp", 0) == 0u,
             to_string(err));
}

BOOST_AUTO_TEST_CASE(more_than_one_document_is_an_error) {
  check_error("query: {actors: 1}\n---\nquery: {actors: 2}\n", "", "2");
}

// yaml-cpp 0.7 alone loops forever (growing without bound) on a ',' where a
// block node starts; found by fuzz/config_fuzzer. Each parse runs on its own
// thread so that a regression fails here instead of hanging the suite.
BOOST_AUTO_TEST_CASE(stray_commas_are_errors_not_hangs) {
  for (std::string yaml :
       {",", ",a\n", ", e.g. \"x\"\n", "log: {level: info}\n--- \n,\n"}) {
    BOOST_TEST_CONTEXT("yaml: " << yaml) {
      auto err = std::make_shared<config_error>();
      std::packaged_task<bool()> parse{
          [yaml, err] { return parse_settings(yaml, *err).has_value(); }};
      auto parsed = parse.get_future();
      std::thread{std::move(parse)}.detach();
      BOOST_REQUIRE_MESSAGE(parsed.wait_for(std::chrono::seconds{60}) ==
                                std::future_status::ready,
                            "parse_settings did not return");
      BOOST_TEST(!parsed.get());
      BOOST_TEST(err->message.find("malformed YAML") != std::string::npos,
                 err->message);
    }
  }
}

// -- wrong types --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(integers_must_be_plain_integers) {
  check_error("query: {actors: \"many\"}", "query.actors",
              "expected an integer in 1..100000, got 'many'");
  check_error("query: {actors: 1.5}", "query.actors", "'1.5'");
  check_error("query: {actors: -1}", "query.actors", "'-1'");
  check_error("query: {actors: 0x10}", "query.actors", "'0x10'");
  check_error("query: {actors: 1e3}", "query.actors", "'1e3'");
  check_error("http: {max_body_bytes: 99999999999999999999999}",
              "http.max_body_bytes", "'99999999999999999999999'");
  check_error("command: {max_batch: [1]}", "command.max_batch", "a sequence");
  check_error("command: {timeout_ms: {a: 1}}", "command.timeout_ms",
              "a mapping");
  check_error("command: {timeout_ms: }", "command.timeout_ms", "null");
}

BOOST_AUTO_TEST_CASE(booleans_must_be_true_or_false) {
  check_error("query: {cache_enabled: yes}", "query.cache_enabled",
              "expected true or false, got 'yes'");
  check_error("query: {cache_enabled: 1}", "query.cache_enabled", "'1'");
  check_error("query: {cache_enabled: [true]}", "query.cache_enabled",
              "a sequence");
}

BOOST_AUTO_TEST_CASE(strings_must_be_scalars) {
  check_error("node: {name: [a, b]}", "node.name",
              "expected a string, got a sequence");
  check_error("http: {write_token: {a: b}}", "http.write_token", "a mapping");
  check_error("http: {read_token: [t]}", "http.read_token", "a sequence");
  check_error("node: {name: \"\"}", "node.name", "non-empty");
}

BOOST_AUTO_TEST_CASE(enums_name_their_choices) {
  check_error("node: {role: leader}", "node.role",
              "expected one of standalone, command, query, got 'leader'");
  check_error("query: {routing: random}", "query.routing", "'random'");
  check_error("query: {session_consistency: strict}",
              "query.session_consistency", "'strict'");
  check_error("database: {backend: mysql}", "database.backend", "'mysql'");
  check_error("log: {level: trace}", "log.level", "'trace'");
  check_error("log: {level: INFO}", "log.level", "'INFO'");
}

// -- ranges -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(out_of_range_values_name_the_range) {
  check_error("http: {threads: 0}", "http.threads",
              "expected an integer in 1..1024, got '0'");
  check_error("http: {threads: 1025}", "http.threads", "'1025'");
  check_error("query: {actors: 0}", "query.actors", "'0'");
  check_error("query: {actors: 100001}", "query.actors", "'100001'");
  check_error("database: {busy_timeout_ms: 600001}", "database.busy_timeout_ms",
              "'600001'");
  check_error("database: {read_connections: 257}", "database.read_connections",
              "'257'");
  check_error("database: {lock_timeout_ms: 600001}", "database.lock_timeout_ms",
              "expected an integer in 0..600000, got '600001'");
  check_error("database: {lock_timeout_ms: -1}", "database.lock_timeout_ms",
              "'-1'");
  check_error("database: {statement_timeout_ms: 3600001}",
              "database.statement_timeout_ms",
              "expected an integer in 0..3600000, got '3600001'");
  check_error("database: {statement_timeout_ms: soon}",
              "database.statement_timeout_ms", "'soon'");
  check_error("query: {restart_window_ms: 0}", "query.restart_window_ms",
              "'0'");
  check_error("command: {max_restarts: 100001}", "command.max_restarts",
              "expected an integer in 0..100000, got '100001'");
  check_error("command: {restart_window_ms: 3600001}",
              "command.restart_window_ms", "'3600001'");
  check_error("http: {max_body_bytes: 1073741825}", "http.max_body_bytes",
              "'1073741825'");
  BOOST_TEST_MESSAGE("the bounds themselves are accepted");
  BOOST_TEST(parse_ok("http: {threads: 1}").http.threads == 1u);
  BOOST_TEST(parse_ok("query: {max_restarts: 100000}").query.max_restarts ==
             100000u);
}

BOOST_AUTO_TEST_CASE(overload_settings_have_sane_defaults) {
  settings s;
  BOOST_TEST(s.http.max_queued_connections == 64u);
  BOOST_TEST(s.http.max_in_flight == 0u); // Same as http.threads.
  BOOST_TEST(s.http.read_timeout_ms == 10000u);
  BOOST_TEST(s.http.write_timeout_ms == 10000u);
  BOOST_TEST(s.http.keep_alive_timeout_ms == 5000u);
  BOOST_TEST(s.http.max_header_bytes == 16384u);
}

BOOST_AUTO_TEST_CASE(overload_settings_can_be_set) {
  auto s = parse_ok(R"(
http:
  threads: 8
  max_queued_connections: 0
  max_in_flight: 8
  read_timeout_ms: 100
  write_timeout_ms: 600000
  keep_alive_timeout_ms: 250
  max_header_bytes: 1048576
)");
  BOOST_TEST(s.http.max_queued_connections == 0u);
  BOOST_TEST(s.http.max_in_flight == 8u);
  BOOST_TEST(s.http.read_timeout_ms == 100u);
  BOOST_TEST(s.http.write_timeout_ms == 600000u);
  BOOST_TEST(s.http.keep_alive_timeout_ms == 250u);
  BOOST_TEST(s.http.max_header_bytes == 1048576u);
  BOOST_TEST(parse_ok("http: {max_queued_connections: 65536}")
                 .http.max_queued_connections == 65536u);
  BOOST_TEST(parse_ok("http: {max_header_bytes: 1024}").http.max_header_bytes ==
             1024u);
}

BOOST_AUTO_TEST_CASE(overload_settings_are_range_checked) {
  check_error("http: {max_queued_connections: 65537}",
              "http.max_queued_connections",
              "expected an integer in 0..65536, got '65537'");
  check_error("http: {max_queued_connections: -1}",
              "http.max_queued_connections", "'-1'");
  check_error("http: {max_in_flight: 1025}", "http.max_in_flight",
              "expected an integer in 0..1024, got '1025'");
  check_error("http: {read_timeout_ms: 99}", "http.read_timeout_ms",
              "expected an integer in 100..600000, got '99'");
  check_error("http: {read_timeout_ms: 600001}", "http.read_timeout_ms",
              "'600001'");
  check_error("http: {write_timeout_ms: 0}", "http.write_timeout_ms",
              "expected an integer in 100..600000, got '0'");
  check_error("http: {keep_alive_timeout_ms: 600001}",
              "http.keep_alive_timeout_ms", "'600001'");
  check_error("http: {max_header_bytes: 1023}", "http.max_header_bytes",
              "expected an integer in 1024..1048576, got '1023'");
  check_error("http: {max_header_bytes: 1048577}", "http.max_header_bytes",
              "'1048577'");
  check_error("http: {read_timeout_ms: 1.5}", "http.read_timeout_ms",
              "got '1.5'");
  check_error("http: {max_in_flight: [1]}", "http.max_in_flight",
              "expected an integer");
  check_error("http: {max_inflight: 4}", "http.max_inflight", "unknown");
}

BOOST_AUTO_TEST_CASE(max_in_flight_must_not_exceed_threads) {
  check_error("http: {threads: 4, max_in_flight: 5}", "http.max_in_flight",
              "expected 0 (same as http.threads) or an integer <= "
              "http.threads (4), got '5'");
  BOOST_TEST_MESSAGE("the default threads (16) bound it too");
  check_error("http: {max_in_flight: 17}", "http.max_in_flight", "(16)");
  BOOST_TEST(
      parse_ok("http: {threads: 4, max_in_flight: 4}").http.max_in_flight ==
      4u);
  BOOST_TEST(
      parse_ok("http: {threads: 4, max_in_flight: 1}").http.max_in_flight ==
      1u);
}

BOOST_AUTO_TEST_CASE(bad_listen_addresses_are_rejected) {
  const char* bad[] = {"nohost",          "127.0.0.1:99999", ":80",
                       "127.0.0.1:",      "::1:8080",        "[::1]",
                       "[]:80",           "127.0.0.1:8o",    "127.0.0.1:-1",
                       "127.0.0.1:123456"};
  for (auto listen : bad)
    check_error("http: {listen: \"" + std::string{listen} + "\"}",
                "http.listen", "'" + std::string{listen} + "'");
  check_error("http: {listen: 8080}", "http.listen", "'8080'");
}

BOOST_AUTO_TEST_CASE(database_connection_must_match_backend) {
  check_error("database: {backend: postgresql}", "database.postgresql",
              "postgresql");
  check_error("database: {sqlite_path: \"\"}", "database.sqlite_path",
              "sqlite");
  // The unused one may be empty.
  auto s = parse_ok("database: {backend: postgresql, postgresql: "
                    "\"dbname=x\", sqlite_path: \"\"}");
  BOOST_TEST(s.database.postgresql == "dbname=x");
}

// -- database.read_postgresql -------------------------------------------------

BOOST_AUTO_TEST_CASE(read_postgresql_needs_the_postgresql_backend) {
  check_error("database: {read_postgresql: \"host=replica\"}",
              "database.read_postgresql",
              "read replicas need database.backend: postgresql");
  check_error("database: {backend: sqlite, read_postgresql: \"dbname=x\"}",
              "database.read_postgresql", "sqlite");
  check_error("database: {read_postgresql: [a]}", "database.read_postgresql",
              "a sequence");
  BOOST_TEST_MESSAGE("empty or null is fine with sqlite");
  BOOST_TEST(
      parse_ok("database: {read_postgresql: \"\"}").database.read_postgresql ==
      "");
  BOOST_TEST(
      parse_ok("database: {read_postgresql: }").database.read_postgresql == "");
  BOOST_TEST_MESSAGE("and set with postgresql");
  auto s = parse_ok("database: {backend: postgresql, postgresql: \"dbname=x\", "
                    "read_postgresql: \"port=5433 dbname=x\"}");
  BOOST_TEST(s.database.read_postgresql == "port=5433 dbname=x");
  BOOST_TEST(s.database.postgresql == "dbname=x");
}

// -- cluster ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(cluster_addresses_are_parsed) {
  auto s = parse_ok(R"(
cluster:
  listen: "[::1]:7171"
  command_node: "command-1.internal:7272"
)");
  BOOST_TEST(s.cluster.listen == "[::1]:7171");
  BOOST_TEST(s.cluster.listen_host == "::1");
  BOOST_TEST(s.cluster.listen_port == 7171u);
  BOOST_TEST(s.cluster.command_nodes.at(0).address ==
             "command-1.internal:7272");
  BOOST_TEST(s.cluster.command_nodes.at(0).host == "command-1.internal");
  BOOST_TEST(s.cluster.command_nodes.at(0).port == 7272u);
  BOOST_TEST(s.cluster.command_nodes.size() == 1u);
  BOOST_TEST(s.cluster.leader_lease_ms == 5000u);
  BOOST_TEST_MESSAGE("command_node may list every command-capable node");
  auto two = parse_ok(R"(
cluster:
  command_node: ["10.0.0.1:7070", "[::1]:7071"]
  leader_lease_ms: 2000
)");
  BOOST_TEST_REQUIRE(two.cluster.command_nodes.size() == 2u);
  BOOST_TEST(two.cluster.command_nodes[0].host == "10.0.0.1");
  BOOST_TEST(two.cluster.command_nodes[0].port == 7070u);
  BOOST_TEST(two.cluster.command_nodes[1].address == "[::1]:7071");
  BOOST_TEST(two.cluster.command_nodes[1].host == "::1");
  BOOST_TEST(two.cluster.command_nodes[1].port == 7071u);
  BOOST_TEST(two.cluster.leader_lease_ms == 2000u);
  BOOST_TEST_MESSAGE("setting one address leaves the other at its default");
  auto only = parse_ok("cluster: {listen: \"0.0.0.0:9000\"}");
  BOOST_TEST(only.cluster.command_nodes.at(0).address == "127.0.0.1:7070");
  BOOST_TEST(only.cluster.command_nodes.at(0).port == 7070u);
  BOOST_TEST(only.http.port == 8080u);
}

BOOST_AUTO_TEST_CASE(bad_cluster_addresses_are_rejected) {
  const char* bad[] = {"nohost",           "127.0.0.1:99999", ":7070",
                       "127.0.0.1:",       "::1:7070",        "[::1]",
                       "[]:7070",          "127.0.0.1:7o70",  "127.0.0.1:-1",
                       "127.0.0.1:123456", "127.0.0.1:65536"};
  for (auto address : bad) {
    for (auto key : {"listen", "command_node"}) {
      check_error("cluster: {" + std::string{key} + ": \"" + address + "\"}",
                  "cluster." + std::string{key},
                  "'" + std::string{address} + "'");
    }
  }
  BOOST_TEST_MESSAGE("port 0 is not allowed in the cluster");
  check_error("cluster: {listen: \"127.0.0.1:0\"}", "cluster.listen",
              "with a port in 1..65535, got '127.0.0.1:0'");
  check_error("cluster: {command_node: \"127.0.0.1:0\"}",
              "cluster.command_node", "port in 1..65535");
  check_error("cluster: {listen: 7070}", "cluster.listen", "'7070'");
  check_error("cluster: {command_node: [a]}", "cluster.command_node[0]", "'a'");
  check_error("cluster: {command_node: []}", "cluster.command_node",
              "non-empty list");
  check_error("cluster: {command_node: [\"h:1\", \"h:2\", \"h:1\"]}",
              "cluster.command_node[2]", "'h:1' twice");
  check_error("cluster: {command_node: {h: 1}}", "cluster.command_node",
              "a mapping");
  check_error("cluster: {leader_lease_ms: 999}", "cluster.leader_lease_ms",
              "'999'");
  BOOST_TEST_MESSAGE("http.listen still allows port 0");
  BOOST_TEST(parse_ok("http: {listen: \"127.0.0.1:0\"}").http.port == 0u);
}

BOOST_AUTO_TEST_CASE(cluster_ranges_are_checked) {
  check_error("cluster: {heartbeat_interval_ms: 49}",
              "cluster.heartbeat_interval_ms",
              "expected an integer in 50..60000, got '49'");
  check_error("cluster: {heartbeat_interval_ms: 60001}",
              "cluster.heartbeat_interval_ms", "'60001'");
  check_error("cluster: {missed_heartbeats: 0}", "cluster.missed_heartbeats",
              "expected an integer in 1..100, got '0'");
  check_error("cluster: {missed_heartbeats: 101}", "cluster.missed_heartbeats",
              "'101'");
  check_error("cluster: {reconnect_initial_ms: 9}",
              "cluster.reconnect_initial_ms",
              "expected an integer in 10..60000, got '9'");
  check_error("cluster: {reconnect_initial_ms: 60001}",
              "cluster.reconnect_initial_ms", "'60001'");
  check_error("cluster: {reconnect_max_ms: 9}", "cluster.reconnect_max_ms",
              "expected an integer in 10..600000, got '9'");
  check_error("cluster: {reconnect_max_ms: 600001, reconnect_initial_ms: 10}",
              "cluster.reconnect_max_ms", "'600001'");
  check_error("cluster: {missed_heartbeats: three}",
              "cluster.missed_heartbeats", "'three'");
  check_error("cluster: {heartbeat_interval_ms: -500}",
              "cluster.heartbeat_interval_ms", "'-500'");
  BOOST_TEST_MESSAGE("the lower bounds themselves are accepted");
  auto s = parse_ok("cluster: {heartbeat_interval_ms: 50, missed_heartbeats: "
                    "1, reconnect_initial_ms: 10, reconnect_max_ms: 10}");
  BOOST_TEST(s.cluster.heartbeat_interval_ms == 50u);
  BOOST_TEST(s.cluster.missed_heartbeats == 1u);
  BOOST_TEST(s.cluster.reconnect_initial_ms == 10u);
  BOOST_TEST(s.cluster.reconnect_max_ms == 10u);
}

BOOST_AUTO_TEST_CASE(reconnect_max_must_not_be_below_initial) {
  check_error("cluster: {reconnect_initial_ms: 2000, reconnect_max_ms: 1999}",
              "cluster.reconnect_max_ms",
              "expected an integer >= cluster.reconnect_initial_ms (2000), "
              "got '1999'");
  BOOST_TEST_MESSAGE("against the default of the other key, in either order");
  check_error("cluster: {reconnect_max_ms: 99}", "cluster.reconnect_max_ms",
              "(100)");
  check_error("cluster: {reconnect_initial_ms: 5001}",
              "cluster.reconnect_max_ms", "got '5000'");
  check_error("cluster: {reconnect_max_ms: 50, reconnect_initial_ms: 60}",
              "cluster.reconnect_max_ms", "got '50'");
  auto s = parse_ok("cluster: {reconnect_initial_ms: 700, reconnect_max_ms: "
                    "700}");
  BOOST_TEST(s.cluster.reconnect_max_ms == 700u);
}

BOOST_AUTO_TEST_CASE(cluster_unknown_keys_and_shapes) {
  check_error("cluster: {port: 7070}", "cluster.port",
              "unknown key 'cluster.port'");
  check_error("cluster:\n  heartbeat_ms: 500\n", "cluster.heartbeat_ms",
              "unknown key 'cluster.heartbeat_ms'");
  check_error("cluster: 7070", "cluster", "'7070'");
  check_error("cluster: [a]", "cluster", "a sequence");
  check_error("cluster:\n  listen: \"127.0.0.1:1\"\n  listen: "
              "\"127.0.0.1:2\"\n",
              "cluster.listen", "duplicate key 'cluster.listen'");
}

BOOST_AUTO_TEST_CASE(cluster_roles_work_with_either_backend) {
  for (auto role : {"command", "query", "standalone"}) {
    auto sqlite = parse_ok("node: {role: " + std::string{role} + "}");
    BOOST_TEST(to_string(sqlite.node.role) == std::string{role});
    auto pg = parse_ok("node: {role: " + std::string{role} +
                       "}\ndatabase: {backend: postgresql, postgresql: "
                       "\"dbname=x\"}");
    BOOST_TEST(to_string(pg.database.backend) == "postgresql");
  }
}

BOOST_AUTO_TEST_CASE(cluster_values_expand_environment_variables) {
  set_variable("CQRSD_TEST_COMMAND_PORT", "7444");
  set_variable("CQRSD_TEST_HEARTBEAT", "250");
  auto s = parse_ok(R"(
cluster:
  command_node: "10.0.0.5:${CQRSD_TEST_COMMAND_PORT}"
  heartbeat_interval_ms: "${CQRSD_TEST_HEARTBEAT}"
)");
  BOOST_TEST(s.cluster.command_nodes.at(0).host == "10.0.0.5");
  BOOST_TEST(s.cluster.command_nodes.at(0).port == 7444u);
  BOOST_TEST(s.cluster.heartbeat_interval_ms == 250u);
  set_variable("CQRSD_TEST_COMMAND_PORT", "0");
  check_error("cluster: {command_node: \"h:${CQRSD_TEST_COMMAND_PORT}\"}",
              "cluster.command_node", "'h:0'");
}

// -- shipped example files ----------------------------------------------------

BOOST_AUTO_TEST_CASE(shipped_postgresql_yaml_is_a_standalone_postgresql_node) {
  const std::string conninfo =
      "host=127.0.0.1 port=5432 user=cqrsd dbname=cqrsd";
  set_variable("CQRSD_POSTGRESQL", conninfo);
  auto s = load_shipped("postgresql.yaml");
  BOOST_TEST(to_string(s.node.role) == "standalone");
  BOOST_TEST(to_string(s.database.backend) == "postgresql");
  BOOST_TEST(s.database.postgresql == conninfo);
  BOOST_TEST(s.database.read_postgresql == "");
  BOOST_TEST(s.http.listen == "127.0.0.1:8080");
  BOOST_TEST_MESSAGE("without CQRSD_POSTGRESQL it names the variable");
  ::unsetenv("CQRSD_POSTGRESQL");
  config_error err;
  BOOST_TEST(
      !load_settings(std::string{CQRSD_SOURCE_DIR} + "/config/postgresql.yaml",
                     err)
           .has_value());
  BOOST_TEST(err.key == "database.postgresql");
  BOOST_TEST(err.message.find("'CQRSD_POSTGRESQL'") != std::string::npos,
             err.message);
}

BOOST_AUTO_TEST_CASE(shipped_library_yaml_serves_the_library_domain) {
  auto s = load_shipped("library.yaml");
  BOOST_TEST(s.domain ==
             std::string{CQRSD_SOURCE_DIR} + "/config/../domains/library.yaml");
  BOOST_TEST(s.database.sqlite_path == "data/library.db");
  domain_error err;
  auto d = load_configured_domain(s, err);
  BOOST_REQUIRE_MESSAGE(d != nullptr, to_string(err));
  BOOST_TEST(d->name == "library");
  BOOST_TEST_MESSAGE("without a domain key, the built-in domain");
  auto plain = load_shipped("default.yaml");
  auto builtin = load_configured_domain(plain, err);
  BOOST_REQUIRE(builtin != nullptr);
  BOOST_TEST(builtin->name == "objects");
}

BOOST_AUTO_TEST_CASE(shipped_cluster_command_yaml_is_a_command_node) {
  const std::string conninfo = "host=127.0.0.1 port=55432 user=cqrsd";
  set_variable("CQRSD_POSTGRESQL", conninfo);
  auto s = load_shipped("cluster-command.yaml");
  BOOST_TEST(s.node.name == "command-1");
  BOOST_TEST(to_string(s.node.role) == "command");
  BOOST_TEST(s.http.host == "127.0.0.1");
  BOOST_TEST(s.http.port == 8080u);
  BOOST_TEST(s.cluster.listen == "127.0.0.1:7070");
  BOOST_TEST(s.cluster.listen_host == "127.0.0.1");
  BOOST_TEST(s.cluster.listen_port == 7070u);
  BOOST_TEST(to_string(s.database.backend) == "postgresql");
  BOOST_TEST(s.database.postgresql == conninfo);
  BOOST_TEST(s.database.read_postgresql == "");
}

BOOST_AUTO_TEST_CASE(shipped_failover_example_is_one_cluster) {
  set_variable("CQRSD_POSTGRESQL", "host=127.0.0.1 port=55432 user=cqrsd");
  auto one = load_shipped("failover-command-1.yaml");
  auto two = load_shipped("failover-command-2.yaml");
  auto query = load_shipped("failover-query.yaml");
  BOOST_TEST(to_string(one.node.role) == "command");
  BOOST_TEST(to_string(two.node.role) == "command");
  BOOST_TEST(to_string(query.node.role) == "query");
  BOOST_TEST(one.node.name != two.node.name);
  BOOST_TEST(one.cluster.listen != two.cluster.listen);
  BOOST_TEST(one.http.port != two.http.port);
  BOOST_TEST(one.http.port != query.http.port);
  BOOST_TEST(two.http.port != query.http.port);
  BOOST_TEST_MESSAGE("every node lists both command-capable nodes' "
                     "cluster.listen, and they share one database");
  for (const auto* s : {&one, &two, &query}) {
    BOOST_TEST_CONTEXT("node " << s->node.name) {
      BOOST_TEST_REQUIRE(s->cluster.command_nodes.size() == 2u);
      BOOST_TEST(s->cluster.command_nodes[0].address == one.cluster.listen);
      BOOST_TEST(s->cluster.command_nodes[1].address == two.cluster.listen);
      BOOST_TEST(to_string(s->database.backend) == "postgresql");
      BOOST_TEST(s->database.postgresql == one.database.postgresql);
      BOOST_TEST(s->cluster.heartbeat_interval_ms ==
                 one.cluster.heartbeat_interval_ms);
    }
  }
  BOOST_TEST(one.cluster.leader_lease_ms == two.cluster.leader_lease_ms);
}

BOOST_AUTO_TEST_CASE(shipped_cluster_query_yaml_is_a_query_node) {
  const std::string conninfo = "host=127.0.0.1 port=55432 user=cqrsd";
  set_variable("CQRSD_POSTGRESQL", conninfo);
  auto s = load_shipped("cluster-query.yaml");
  BOOST_TEST(s.node.name == "query-1");
  BOOST_TEST(to_string(s.node.role) == "query");
  BOOST_TEST(s.http.host == "127.0.0.1");
  BOOST_TEST(s.http.port == 8081u);
  BOOST_TEST(s.cluster.command_nodes.at(0).address == "127.0.0.1:7070");
  BOOST_TEST(s.cluster.command_nodes.at(0).host == "127.0.0.1");
  BOOST_TEST(s.cluster.command_nodes.at(0).port == 7070u);
  BOOST_TEST(to_string(s.database.backend) == "postgresql");
  BOOST_TEST(s.database.postgresql == conninfo);
  BOOST_TEST(s.database.read_postgresql == "");
  BOOST_TEST_MESSAGE("its heartbeat settings match the command node's");
  auto command = load_shipped("cluster-command.yaml");
  BOOST_TEST(s.cluster.heartbeat_interval_ms ==
             command.cluster.heartbeat_interval_ms);
  BOOST_TEST(s.cluster.command_nodes.at(0).address == command.cluster.listen);
}

// -- environment variables ----------------------------------------------------

BOOST_AUTO_TEST_CASE(environment_variables_are_expanded) {
  set_variable("CQRSD_TEST_ACTORS", "12");
  set_variable("CQRSD_TEST_TOKEN", "t0k3n");
  set_variable("CQRSD_TEST_PORT", "9191");
  auto s = parse_ok(R"(
query: {actors: "${CQRSD_TEST_ACTORS}"}
http:
  write_token: ${CQRSD_TEST_TOKEN}
  listen: "127.0.0.1:${CQRSD_TEST_PORT}"
node: {name: "a-${CQRSD_TEST_TOKEN}-${CQRSD_TEST_ACTORS}-$HOME-$"}
)");
  BOOST_TEST(s.query.actors == 12u);
  BOOST_TEST(s.http.write_token == "t0k3n");
  BOOST_TEST(s.http.port == 9191u);
  BOOST_TEST(s.node.name == "a-t0k3n-12-$HOME-$");
}

BOOST_AUTO_TEST_CASE(unset_environment_variables_are_errors) {
  ::unsetenv("CQRSD_TEST_UNSET");
  check_error("http: {write_token: \"${CQRSD_TEST_UNSET}\"}",
              "http.write_token", "'CQRSD_TEST_UNSET'");
  check_error("http: {write_token: \"${CQRSD_TEST_UNSET\"}", "http.write_token",
              "'${CQRSD_TEST_UNSET'");
  check_error("http: {write_token: \"${1BAD}\"}", "http.write_token", "'1BAD'");
  check_error("http: {write_token: \"${}\"}", "http.write_token", "'${}'");
}

BOOST_AUTO_TEST_CASE(expanded_values_are_validated) {
  set_variable("CQRSD_TEST_ACTORS", "lots");
  check_error("query: {actors: \"${CQRSD_TEST_ACTORS}\"}", "query.actors",
              "'lots'");
}

// -- the domain file ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(domain_is_empty_by_default_and_parsed_as_written) {
  BOOST_TEST(settings{}.domain == "");
  BOOST_TEST(parse_ok("").domain == "");
  BOOST_TEST(parse_ok("domain:\n").domain == "");
  BOOST_TEST(parse_ok("domain: library.yaml\n").domain == "library.yaml");
  BOOST_TEST(parse_ok("domain: ../domains/library.yaml\n").domain ==
             "../domains/library.yaml");
  set_variable("CQRSD_TEST_DOMAIN", "/srv/shop.yaml");
  BOOST_TEST(parse_ok("domain: ${CQRSD_TEST_DOMAIN}\n").domain ==
             "/srv/shop.yaml");
  check_error("domain: [a.yaml]\n", "domain",
              "expected a string, got a sequence");
  check_error("domain: {file: a.yaml}\n", "domain", "a mapping");
}

BOOST_AUTO_TEST_CASE(load_settings_finds_a_relative_domain_beside_the_config) {
  config_error err;
  auto relative = write_file("relative.yaml", "domain: library.yaml\n");
  auto s = load_settings(relative, err);
  BOOST_REQUIRE_MESSAGE(s.has_value(), to_string(err));
  BOOST_TEST(s->domain == dir + "/library.yaml");
  auto up = write_file("up.yaml", "domain: ../domains/shop.yaml\n");
  BOOST_TEST(load_settings(up, err)->domain == dir + "/../domains/shop.yaml");
  auto absolute = write_file("absolute.yaml", "domain: /srv/shop.yaml\n");
  BOOST_TEST(load_settings(absolute, err)->domain == "/srv/shop.yaml");
  auto none = write_file("none.yaml", "log: {level: info}\n");
  BOOST_TEST(load_settings(none, err)->domain == "");
}

BOOST_AUTO_TEST_CASE(
    load_settings_finds_a_relative_assets_dir_beside_the_config) {
  config_error err;
  auto relative = write_file("web.yaml", "http: {assets_dir: ../web}\n");
  auto s = load_settings(relative, err);
  BOOST_REQUIRE_MESSAGE(s.has_value(), to_string(err));
  BOOST_TEST(s->http.assets_dir == dir + "/../web");
  auto absolute =
      write_file("web-absolute.yaml", "http: {assets_dir: /srv/web}\n");
  BOOST_TEST(load_settings(absolute, err)->http.assets_dir == "/srv/web");
  auto none = write_file("web-none.yaml", "log: {level: info}\n");
  BOOST_TEST(load_settings(none, err)->http.assets_dir == "");
  check_error("http: {assets_dir: [web]}", "http.assets_dir", "a sequence");
}

// -- files and formatting -----------------------------------------------------

BOOST_AUTO_TEST_CASE(load_settings_reads_a_file) {
  auto path = write_file("node.yaml", "query: {actors: 5}\n");
  config_error err;
  auto s = load_settings(path, err);
  BOOST_REQUIRE_MESSAGE(s.has_value(), to_string(err));
  BOOST_TEST(s->query.actors == 5u);
  auto bad = write_file("bad.yaml", "query: {actorz: 5}\n");
  BOOST_TEST(!load_settings(bad, err).has_value());
  BOOST_TEST(err.key == "query.actorz");
}

BOOST_AUTO_TEST_CASE(missing_file_is_an_error) {
  auto path = dir + "/does-not-exist.yaml";
  config_error err;
  BOOST_TEST(!load_settings(path, err).has_value());
  BOOST_TEST(err.key == "");
  BOOST_TEST(err.message == "cannot read config file '" + path +
                                "': No such file or directory");
  BOOST_TEST_MESSAGE("a directory is not a config file");
  BOOST_TEST(!load_settings(dir, err).has_value());
  BOOST_TEST(err.message.find("'" + dir + "'") != std::string::npos,
             err.message);
}

BOOST_AUTO_TEST_CASE(errors_format_as_one_line) {
  BOOST_TEST(to_string(config_error{"query.actors", "expected x, got 'y'"}) ==
             "config error: query.actors: expected x, got 'y'");
  BOOST_TEST(to_string(config_error{"", "cannot read"}) ==
             "config error: cannot read");
}

BOOST_AUTO_TEST_CASE(enum_names_round_trip) {
  BOOST_TEST(to_string(node_role::command) == std::string{"command"});
  BOOST_TEST(to_string(routing_policy::key_affinity) ==
             std::string{"key_affinity"});
  BOOST_TEST(to_string(database_backend::postgresql) ==
             std::string{"postgresql"});
  BOOST_TEST(to_string(log_level::warning) == std::string{"warning"});
  for (auto level : {"error", "warning", "info", "debug"}) {
    auto s = parse_ok("log: {level: " + std::string{level} + "}");
    BOOST_TEST(to_string(s.log.level) == std::string{level});
  }
}

// -- command.idempotency_ttl_s ------------------------------------------------

BOOST_AUTO_TEST_CASE(idempotency_ttl_s_defaults_to_a_day_and_is_checked) {
  BOOST_TEST(settings{}.command.idempotency_ttl_s == 86400u);
  BOOST_TEST_MESSAGE("default.yaml lists it, commented, with the default");
  auto text = read_file(std::string{CQRSD_SOURCE_DIR} + "/config/default.yaml");
  std::regex commented{"\ncommand:\n(  [^\n]*\n)*  #[^\n]*\n"
                       "  idempotency_ttl_s: 86400\n"};
  BOOST_TEST(std::regex_search(text, commented),
             "default.yaml lacks a commented 'idempotency_ttl_s: 86400' under "
             "'command:'");
  config_error err;
  auto shipped = load_settings(
      std::string{CQRSD_SOURCE_DIR} + "/config/default.yaml", err);
  BOOST_REQUIRE_MESSAGE(shipped.has_value(), to_string(err));
  BOOST_TEST(shipped->command.idempotency_ttl_s == 86400u);
  BOOST_TEST_MESSAGE("the bounds are accepted");
  BOOST_TEST(
      parse_ok("command: {idempotency_ttl_s: 1}").command.idempotency_ttl_s ==
      1u);
  BOOST_TEST(parse_ok("command: {idempotency_ttl_s: 31536000}")
                 .command.idempotency_ttl_s == 31536000u);
  BOOST_TEST_MESSAGE("out of range, wrong types and typos name the key");
  check_error("command: {idempotency_ttl_s: 0}", "command.idempotency_ttl_s",
              "expected an integer in 1..31536000, got '0'");
  check_error("command: {idempotency_ttl_s: 31536001}",
              "command.idempotency_ttl_s", "'31536001'");
  check_error("command: {idempotency_ttl_s: -5}", "command.idempotency_ttl_s",
              "'-5'");
  check_error("command: {idempotency_ttl_s: 1.5}", "command.idempotency_ttl_s",
              "'1.5'");
  check_error("command: {idempotency_ttl_s: day}", "command.idempotency_ttl_s",
              "'day'");
  check_error("command: {idempotency_ttl_s: [60]}", "command.idempotency_ttl_s",
              "a sequence");
  check_error("command: {idempotency_ttl: 60}", "command.idempotency_ttl",
              "unknown");
}

// -- TLS ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(tls_is_off_by_default) {
  auto s = parse_ok("");
  BOOST_TEST(!s.http.tls.enabled());
  BOOST_TEST(!s.cluster.tls.enabled());
}

BOOST_AUTO_TEST_CASE(http_tls_reads_both_files) {
  auto cert = write_file("cert.pem", "certificate");
  auto key = write_file("key.pem", "key");
  auto s = parse_ok("http:\n  tls:\n    cert_file: " + cert +
                    "\n    key_file: " + key + "\n");
  BOOST_TEST(s.http.tls.enabled());
  BOOST_TEST(s.http.tls.cert_file == cert);
  BOOST_TEST(s.http.tls.key_file == key);
}

BOOST_AUTO_TEST_CASE(http_tls_needs_both_files) {
  auto cert = write_file("cert.pem", "certificate");
  check_error("http:\n  tls:\n    cert_file: " + cert + "\n",
              "http.tls.key_file", "got only cert_file");
  check_error("http:\n  tls:\n    key_file: " + cert + "\n",
              "http.tls.cert_file", "got only key_file");
}

BOOST_AUTO_TEST_CASE(http_tls_files_must_be_readable) {
  auto cert = write_file("cert.pem", "certificate");
  auto missing = dir + "/missing.pem";
  check_error("http:\n  tls:\n    cert_file: " + cert +
                  "\n    key_file: " + missing + "\n",
              "http.tls.key_file", "cannot read '" + missing + "'");
  check_error("http:\n  tls:\n    cert_file: " + missing +
                  "\n    key_file: " + cert + "\n",
              "http.tls.cert_file", "No such file or directory");
  // A directory opens but cannot be read.
  check_error("http:\n  tls:\n    cert_file: " + dir +
                  "\n    key_file: " + cert + "\n",
              "http.tls.cert_file", "Is a directory");
}

BOOST_AUTO_TEST_CASE(http_tls_rejects_bad_shapes) {
  check_error("http:\n  tls: yes\n", "http.tls", "expected a mapping");
  check_error("http:\n  tls:\n    cert_file: ''\n", "http.tls.cert_file",
              "non-empty");
  check_error("http:\n  tls:\n    cert_file: [a]\n", "http.tls.cert_file",
              "expected a string");
  check_error("http:\n  tls:\n    ca_file: x\n", "http.tls.ca_file",
              "unknown key");
}

BOOST_AUTO_TEST_CASE(cluster_tls_reads_every_file) {
  auto ca = write_file("ca.pem", "ca");
  auto cert = write_file("node.pem", "certificate");
  auto key = write_file("node.key", "key");
  set_variable("CQRSD_TEST_KEY_PASSWORD", "s3cret");
  for (auto role : {"command", "query"}) {
    auto s = parse_ok(std::string{"node:\n  role: "} + role +
                      "\ncluster:\n  tls:\n    ca_file: " + ca +
                      "\n    cert_file: " + cert + "\n    key_file: " + key +
                      "\n    key_password: ${CQRSD_TEST_KEY_PASSWORD}\n");
    BOOST_TEST(s.cluster.tls.enabled());
    BOOST_TEST(s.cluster.tls.ca_file == ca);
    BOOST_TEST(s.cluster.tls.cert_file == cert);
    BOOST_TEST(s.cluster.tls.key_file == key);
    BOOST_TEST(s.cluster.tls.key_password == "s3cret");
  }
}

BOOST_AUTO_TEST_CASE(cluster_tls_needs_all_three_files) {
  auto ca = write_file("ca.pem", "ca");
  auto cert = write_file("node.pem", "certificate");
  auto key = write_file("node.key", "key");
  std::string head = "node:\n  role: query\ncluster:\n  tls:\n";
  check_error(head + "    cert_file: " + cert + "\n    key_file: " + key + "\n",
              "cluster.tls.ca_file", "got no cluster.tls.ca_file");
  check_error(head + "    ca_file: " + ca + "\n    key_file: " + key + "\n",
              "cluster.tls.cert_file", "together");
  check_error(head + "    ca_file: " + ca + "\n    cert_file: " + cert + "\n",
              "cluster.tls.key_file", "together");
  check_error(head + "    key_password: x\n", "cluster.tls.ca_file",
              "together");
}

BOOST_AUTO_TEST_CASE(cluster_tls_files_must_be_readable) {
  auto ca = write_file("ca.pem", "ca");
  auto cert = write_file("node.pem", "certificate");
  auto missing = dir + "/missing.pem";
  check_error("node:\n  role: command\ncluster:\n  tls:\n    ca_file: " + ca +
                  "\n    cert_file: " + cert + "\n    key_file: " + missing +
                  "\n",
              "cluster.tls.key_file", "cannot read '" + missing + "'");
  check_error(
      "node:\n  role: command\ncluster:\n  tls:\n    ca_file: " + missing +
          "\n    cert_file: " + cert + "\n    key_file: " + cert + "\n",
      "cluster.tls.ca_file", "No such file or directory");
}

BOOST_AUTO_TEST_CASE(cluster_tls_is_for_cluster_roles_only) {
  auto ca = write_file("ca.pem", "ca");
  auto cert = write_file("node.pem", "certificate");
  auto key = write_file("node.key", "key");
  check_error("cluster:\n  tls:\n    ca_file: " + ca +
                  "\n    cert_file: " + cert + "\n    key_file: " + key + "\n",
              "cluster.tls", "node.role standalone");
  check_error("node:\n  role: query\ncluster:\n  tls:\n    capath: x\n",
              "cluster.tls.capath", "unknown key");
}

BOOST_AUTO_TEST_CASE(config_file_error_names_the_tls_key) {
  auto cert = write_file("cert.pem", "certificate");
  auto missing = dir + "/missing.key";
  auto path = write_file("tls.yaml", "http:\n  tls:\n    cert_file: " + cert +
                                         "\n    key_file: " + missing + "\n");
  config_error err;
  BOOST_TEST(!load_settings(path, err).has_value());
  BOOST_TEST(to_string(err) ==
             "config error: http.tls.key_file: cannot read '" + missing +
                 "': No such file or directory");
}

// -- logging ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(logger_filters_by_level_and_writes_one_line) {
  BOOST_TEST(logging::enabled(log_level::info));
  BOOST_TEST(!logging::enabled(log_level::debug));
  auto path = dir + "/stderr.log";
  files.push_back(path);
  {
    stderr_capture capture{path};
    logging::set_level(log_level::warning);
    CQRS_LOG(info, "test", "dropped " << 1);
    CQRS_LOG(warning, "test", "kept " << 2 << "\nsecond line");
    CQRS_LOG(error, "db", "failed");
    logging::set_level(log_level::info);
  }
  auto text = read_file(path);
  std::regex expected{
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN  test: kept 2\\nsecond line)"
      "\n"
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ERROR db: failed)"
      "\n"};
  BOOST_TEST(std::regex_match(text, expected), "logged: " << text);
  BOOST_TEST(logging::enabled(log_level::info));
}

BOOST_AUTO_TEST_SUITE_END()
