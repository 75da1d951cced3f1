// Typed settings of a cqrsd node, loaded from YAML and validated.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/logging.hpp"

namespace cqrs {

/// What a node runs.
enum class node_role : uint8_t { standalone, command, query };

/// How the gateway picks a query actor for a read.
enum class routing_policy : uint8_t { key_affinity, round_robin };

/// What a keep-alive connection's plain reads are guaranteed to see.
enum class session_consistency : uint8_t {
  /// At least the highest seq already answered on the connection: reads
  /// see the connection's own writes and never go back in time.
  connection,
  /// Whatever the query actor's cache holds; only `X-Min-Seq` sets a floor.
  none,
};

/// Which database the node talks to.
enum class database_backend : uint8_t { sqlite, postgresql };

struct node_settings {
  std::string name = "node-1";
  node_role role = node_role::standalone;
};

/// The certificate of the HTTPS gateway; both files empty serves plain HTTP.
struct http_tls_settings {
  /// PEM certificate chain presented to clients.
  std::string cert_file;
  /// PEM private key of `cert_file` (unencrypted).
  std::string key_file;

  bool enabled() const noexcept { return !cert_file.empty(); }
};

struct http_settings {
  /// Listen address as "host:port".
  std::string listen = "127.0.0.1:8080";
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  /// Worker threads; one per concurrent keep-alive connection.
  uint32_t threads = 16;
  /// Largest accepted request body.
  uint64_t max_body_bytes = 65536;
  /// Accepted connections that may wait for a free worker thread; past
  /// that, new connections are answered 503 at once.
  uint32_t max_queued_connections = 64;
  /// Requests handled at once (health probes aside); 0 means `threads`.
  uint32_t max_in_flight = 0;
  /// How long a client may take to send one whole request (from its first
  /// byte) and, on a new connection, to start sending it.
  uint32_t read_timeout_ms = 10000;
  /// How long one write of an answer may wait for the client to read.
  uint32_t write_timeout_ms = 10000;
  /// How long an idle keep-alive connection is kept open.
  uint32_t keep_alive_timeout_ms = 5000;
  /// Largest request line plus headers.
  uint32_t max_header_bytes = 16384;
  /// When non-empty, writes need `Authorization: Bearer <write_token>`.
  std::string write_token;
  /// When non-empty, reads (and /status) need `Authorization: Bearer` with
  /// this token or `write_token`; /healthz, /readyz and /metrics stay open.
  std::string read_token;
  /// The folder of the web pages, /docs and /console (`http/assets.hpp`);
  /// "" finds the installed one next to the executable. `load_settings`
  /// resolves a relative path against the config file's folder.
  std::string assets_dir;
  /// HTTPS instead of plain HTTP when set.
  http_tls_settings tls;
};

struct database_settings {
  database_backend backend = database_backend::sqlite;
  /// Path of the SQLite file; created with its schema on first start.
  std::string sqlite_path = "data/cqrsd.db";
  /// libpq conninfo when `backend == postgresql`.
  std::string postgresql;
  /// Optional libpq conninfo of a streaming replica that query fills and
  /// commit_log reads use instead of `postgresql` (PostgreSQL only).
  std::string read_postgresql;
  /// Size of the DB reader pool (read-only connections).
  uint32_t read_connections = 4;
  /// SQLite busy timeout in milliseconds.
  uint32_t busy_timeout_ms = 5000;
  /// PostgreSQL: how long a write transaction waits for a row or table lock
  /// held elsewhere before it fails (503); 0 waits forever.
  uint32_t lock_timeout_ms = 5000;
  /// PostgreSQL: how long one statement of a write transaction may run
  /// before it is cancelled (503); 0 leaves the server's setting.
  uint32_t statement_timeout_ms = 0;
};

struct query_settings {
  /// Number of query actors.
  uint32_t actors = 8;
  routing_policy routing = routing_policy::key_affinity;
  bool cache_enabled = true;
  /// Bound of cached entries per query actor.
  uint64_t cache_max_entries = 100000;
  /// Whether an entry that was read, once a write evicts it, is read again
  /// at once rather than at the next read.
  bool refresh_on_invalidation = false;
  /// How long a read waits for `X-Min-Seq` before answering 504.
  uint32_t min_seq_timeout_ms = 1000;
  /// Whether a connection's plain reads wait for what it was answered.
  session_consistency session = session_consistency::connection;
  /// Query actor restarts tolerated within `restart_window_ms`.
  uint32_t max_restarts = 10;
  uint32_t restart_window_ms = 10000;
};

struct command_settings {
  /// Most commands grouped into one transaction (group commit).
  uint32_t max_batch = 256;
  /// How long a write may take before the gateway gives up, in milliseconds.
  uint32_t timeout_ms = 10000;
  /// How long a successful write's `Idempotency-Key` is kept and honoured,
  /// in seconds.
  uint32_t idempotency_ttl_s = 86400;
  /// Command actor restarts tolerated within `restart_window_ms`; past
  /// that the node stops.
  uint32_t max_restarts = 10;
  uint32_t restart_window_ms = 10000;
};

/// Mutual TLS on cluster links: a node only links with nodes presenting a
/// certificate signed by `ca_file`. All files empty links in plain text.
struct cluster_tls_settings {
  /// PEM certificate(s) of the CA that signs every node's certificate.
  std::string ca_file;
  /// PEM certificate chain of this node.
  std::string cert_file;
  /// PEM private key of `cert_file`.
  std::string key_file;
  /// Passphrase of an encrypted `key_file`; empty for a plain key.
  std::string key_password;

  bool enabled() const noexcept { return !cert_file.empty(); }
};

/// One address of a cluster: "host:port" as written, and its parts.
struct cluster_endpoint {
  std::string address;
  std::string host;
  uint16_t port = 0;
};

struct cluster_settings {
  /// Role `command`: where the command actor is published, "host:port".
  std::string listen = "127.0.0.1:7070";
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 7070;
  /// Roles `query` and `command`: every command-capable node, "host:port"
  /// each (one string or a list in YAML). A query node or a standby links
  /// to whichever of them leads.
  std::vector<cluster_endpoint> command_nodes{
      cluster_endpoint{"127.0.0.1:7070", "127.0.0.1", 7070}};
  /// Role `command` on PostgreSQL: how long a dead or frozen leader's
  /// session may keep the leader lock. The leader's write session gets
  /// server-side idle timeouts and TCP keepalives from it.
  uint32_t leader_lease_ms = 5000;
  /// How often the command node sends a heartbeat with its latest seq; also
  /// CAF's middleman heartbeat.
  uint32_t heartbeat_interval_ms = 500;
  /// Heartbeats a query node may miss before it considers the command node
  /// lost, flushes its caches and serves reads from the database.
  uint32_t missed_heartbeats = 3;
  /// Reconnect backoff: first delay, doubled up to the maximum.
  uint32_t reconnect_initial_ms = 100;
  uint32_t reconnect_max_ms = 5000;
  /// Encrypted, authenticated links when set.
  cluster_tls_settings tls;
};

struct log_settings {
  log_level level = log_level::info;
};

/// Every setting of a node. Default-constructed, it is the built-in default
/// configuration.
struct settings {
  node_settings node;
  http_settings http;
  database_settings database;
  query_settings query;
  command_settings command;
  cluster_settings cluster;
  log_settings log;
  /// The domain file to serve (DOMAIN.md). `load_settings` resolves a
  /// relative path against the config file's folder; empty serves the
  /// built-in `objects` domain.
  std::string domain;
};

/// A configuration that failed to load: the key and what is wrong with it.
struct config_error {
  /// Dotted path of the offending key, e.g. "query.actors"; empty when the
  /// file itself is unreadable or not YAML.
  std::string key;
  /// A sentence naming the value and what was expected.
  std::string message;
};

/// Parses and validates YAML text. `${VAR}` inside scalar values is replaced
/// by the environment variable VAR (an unset variable is an error). Unknown
/// keys, wrong types and out-of-range values are errors naming the key.
std::optional<settings> parse_settings(const std::string& yaml_text,
                                       config_error& err);

/// Loads and validates a YAML file; see `parse_settings`. A relative
/// `domain` or `http.assets_dir` path is made relative to the folder of
/// `path` (`parse_settings` leaves them as written).
std::optional<settings> load_settings(const std::string& path,
                                      config_error& err);

/// Formats `err` as one line for humans: "config error: query.actors: ...".
std::string to_string(const config_error& err);

const char* to_string(node_role x);
const char* to_string(routing_policy x);
const char* to_string(session_consistency x);
const char* to_string(database_backend x);
const char* to_string(log_level x);

} // namespace cqrs
