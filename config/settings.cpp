// Loads cqrsd settings from YAML and validates every key, naming the bad one.
#include "config/settings.hpp"

#include "config/yaml_document.hpp"

#include "common/numbers.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace cqrs {

namespace {

// -- enum names ---------------------------------------------------------------

template <class E> struct enum_name {
  const char* name;
  E value;
};

constexpr enum_name<node_role> node_roles[] = {
    {"standalone", node_role::standalone},
    {"command", node_role::command},
    {"query", node_role::query},
};

constexpr enum_name<routing_policy> routing_policies[] = {
    {"key_affinity", routing_policy::key_affinity},
    {"round_robin", routing_policy::round_robin},
};

constexpr enum_name<session_consistency> session_levels[] = {
    {"connection", session_consistency::connection},
    {"none", session_consistency::none},
};

constexpr enum_name<database_backend> database_backends[] = {
    {"sqlite", database_backend::sqlite},
    {"postgresql", database_backend::postgresql},
};

constexpr enum_name<log_level> log_levels[] = {
    {"error", log_level::error},
    {"warning", log_level::warning},
    {"info", log_level::info},
    {"debug", log_level::debug},
};

template <class E, size_t N>
const char* name_of(const enum_name<E> (&names)[N], E x) {
  for (const auto& entry : names)
    if (entry.value == x)
      return entry.name;
  return "unknown";
}

// -- parser -------------------------------------------------------------------

/// Walks a YAML document into `settings`, stopping at the first error.
class settings_parser {
public:
  explicit settings_parser(config_error& err) : err_(err) {}

  bool parse_root(const YAML::Node& root, settings& out) {
    if (root.IsNull())
      return true; // An empty document is the default configuration.
    if (!root.IsMap())
      return fail("", "expected a mapping of sections at the top level, got " +
                          describe(root));
    auto ok = each_entry(root, "",
                         [&](const std::string& name, const std::string& key,
                             const YAML::Node& value) {
                           if (name == "node")
                             return parse_node(key, value, out.node);
                           if (name == "http")
                             return parse_http(key, value, out.http);
                           if (name == "database")
                             return parse_database(key, value, out.database);
                           if (name == "query")
                             return parse_query(key, value, out.query);
                           if (name == "command")
                             return parse_command(key, value, out.command);
                           if (name == "cluster")
                             return parse_cluster(key, value, out.cluster);
                           if (name == "log")
                             return parse_log(key, value, out.log);
                           if (name == "domain")
                             return read_string(key, value, out.domain, false);
                           return unknown(key);
                         });
    return ok && validate(out);
  }

  bool fail(std::string key, std::string message) {
    err_.key = std::move(key);
    err_.message = std::move(message);
    return false;
  }

private:
  // -- sections ---------------------------------------------------------------

  bool parse_node(const std::string& prefix, const YAML::Node& section,
                  node_settings& out) {
    return each_entry(section, prefix,
                      [&](const std::string& name, const std::string& key,
                          const YAML::Node& value) {
                        if (name == "name")
                          return read_string(key, value, out.name, true);
                        if (name == "role")
                          return read_enum(key, value, out.role, node_roles);
                        return unknown(key);
                      });
  }

  bool parse_http(const std::string& prefix, const YAML::Node& section,
                  http_settings& out) {
    return each_entry(
        section, prefix,
        [&](const std::string& name, const std::string& key,
            const YAML::Node& value) {
          if (name == "listen")
            return read_address(key, value, 0, out.listen, out.host, out.port);
          if (name == "threads")
            return read_uint(key, value, 1, 1024, out.threads);
          if (name == "max_body_bytes")
            return read_uint(key, value, 1, 1073741824, out.max_body_bytes);
          if (name == "max_queued_connections")
            return read_uint(key, value, 0, 65536, out.max_queued_connections);
          if (name == "max_in_flight")
            return read_uint(key, value, 0, 1024, out.max_in_flight);
          if (name == "read_timeout_ms")
            return read_uint(key, value, 100, 600000, out.read_timeout_ms);
          if (name == "write_timeout_ms")
            return read_uint(key, value, 100, 600000, out.write_timeout_ms);
          if (name == "keep_alive_timeout_ms")
            return read_uint(key, value, 100, 600000,
                             out.keep_alive_timeout_ms);
          if (name == "max_header_bytes")
            return read_uint(key, value, 1024, 1048576, out.max_header_bytes);
          if (name == "write_token")
            return read_string(key, value, out.write_token, false);
          if (name == "read_token")
            return read_string(key, value, out.read_token, false);
          if (name == "assets_dir")
            return read_string(key, value, out.assets_dir, false);
          if (name == "tls")
            return parse_http_tls(key, value, out.tls);
          return unknown(key);
        });
  }

  bool parse_database(const std::string& prefix, const YAML::Node& section,
                      database_settings& out) {
    return each_entry(
        section, prefix,
        [&](const std::string& name, const std::string& key,
            const YAML::Node& value) {
          if (name == "backend")
            return read_enum(key, value, out.backend, database_backends);
          if (name == "sqlite_path")
            return read_string(key, value, out.sqlite_path, false);
          if (name == "postgresql")
            return read_string(key, value, out.postgresql, false);
          if (name == "read_postgresql")
            return read_string(key, value, out.read_postgresql, false);
          if (name == "read_connections")
            return read_uint(key, value, 1, 256, out.read_connections);
          if (name == "busy_timeout_ms")
            return read_uint(key, value, 0, 600000, out.busy_timeout_ms);
          if (name == "lock_timeout_ms")
            return read_uint(key, value, 0, 600000, out.lock_timeout_ms);
          if (name == "statement_timeout_ms")
            return read_uint(key, value, 0, 3600000, out.statement_timeout_ms);
          return unknown(key);
        });
  }

  bool parse_query(const std::string& prefix, const YAML::Node& section,
                   query_settings& out) {
    return each_entry(
        section, prefix,
        [&](const std::string& name, const std::string& key,
            const YAML::Node& value) {
          if (name == "actors")
            return read_uint(key, value, 1, 100000, out.actors);
          if (name == "routing")
            return read_enum(key, value, out.routing, routing_policies);
          if (name == "cache_enabled")
            return read_bool(key, value, out.cache_enabled);
          if (name == "cache_max_entries")
            return read_uint(key, value, 1, 100000000, out.cache_max_entries);
          if (name == "refresh_on_invalidation")
            return read_bool(key, value, out.refresh_on_invalidation);
          if (name == "min_seq_timeout_ms")
            return read_uint(key, value, 1, 600000, out.min_seq_timeout_ms);
          if (name == "session_consistency")
            return read_enum(key, value, out.session, session_levels);
          if (name == "max_restarts")
            return read_uint(key, value, 0, 100000, out.max_restarts);
          if (name == "restart_window_ms")
            return read_uint(key, value, 1, 3600000, out.restart_window_ms);
          return unknown(key);
        });
  }

  bool parse_command(const std::string& prefix, const YAML::Node& section,
                     command_settings& out) {
    return each_entry(
        section, prefix,
        [&](const std::string& name, const std::string& key,
            const YAML::Node& value) {
          if (name == "max_batch")
            return read_uint(key, value, 1, 100000, out.max_batch);
          if (name == "timeout_ms")
            return read_uint(key, value, 1, 600000, out.timeout_ms);
          if (name == "idempotency_ttl_s")
            return read_uint(key, value, 1, 31536000, out.idempotency_ttl_s);
          if (name == "max_restarts")
            return read_uint(key, value, 0, 100000, out.max_restarts);
          if (name == "restart_window_ms")
            return read_uint(key, value, 1, 3600000, out.restart_window_ms);
          return unknown(key);
        });
  }

  bool parse_cluster(const std::string& prefix, const YAML::Node& section,
                     cluster_settings& out) {
    return each_entry(
        section, prefix,
        [&](const std::string& name, const std::string& key,
            const YAML::Node& value) {
          if (name == "listen")
            return read_address(key, value, 1, out.listen, out.listen_host,
                                out.listen_port);
          if (name == "command_node")
            return read_endpoints(key, value, out.command_nodes);
          if (name == "leader_lease_ms")
            return read_uint(key, value, 1000, 600000, out.leader_lease_ms);
          if (name == "heartbeat_interval_ms")
            return read_uint(key, value, 50, 60000, out.heartbeat_interval_ms);
          if (name == "missed_heartbeats")
            return read_uint(key, value, 1, 100, out.missed_heartbeats);
          if (name == "reconnect_initial_ms")
            return read_uint(key, value, 10, 60000, out.reconnect_initial_ms);
          if (name == "reconnect_max_ms")
            return read_uint(key, value, 10, 600000, out.reconnect_max_ms);
          if (name == "tls")
            return parse_cluster_tls(key, value, out.tls);
          return unknown(key);
        });
  }

  bool parse_http_tls(const std::string& prefix, const YAML::Node& section,
                      http_tls_settings& out) {
    return each_entry(section, prefix,
                      [&](const std::string& name, const std::string& key,
                          const YAML::Node& value) {
                        if (name == "cert_file")
                          return read_string(key, value, out.cert_file, true);
                        if (name == "key_file")
                          return read_string(key, value, out.key_file, true);
                        return unknown(key);
                      });
  }

  bool parse_cluster_tls(const std::string& prefix, const YAML::Node& section,
                         cluster_tls_settings& out) {
    return each_entry(section, prefix,
                      [&](const std::string& name, const std::string& key,
                          const YAML::Node& value) {
                        if (name == "ca_file")
                          return read_string(key, value, out.ca_file, true);
                        if (name == "cert_file")
                          return read_string(key, value, out.cert_file, true);
                        if (name == "key_file")
                          return read_string(key, value, out.key_file, true);
                        if (name == "key_password")
                          return read_string(key, value, out.key_password,
                                             true);
                        return unknown(key);
                      });
  }

  bool parse_log(const std::string& prefix, const YAML::Node& section,
                 log_settings& out) {
    return each_entry(section, prefix,
                      [&](const std::string& name, const std::string& key,
                          const YAML::Node& value) {
                        if (name == "level")
                          return read_enum(key, value, out.level, log_levels);
                        return unknown(key);
                      });
  }

  /// Checks rules that span several keys.
  bool validate(const settings& s) {
    // A request in flight needs a worker thread, so a larger bound could
    // never be reached.
    if (s.http.max_in_flight > s.http.threads)
      return fail("http.max_in_flight",
                  "expected 0 (same as http.threads) or an integer <= "
                  "http.threads (" +
                      std::to_string(s.http.threads) + "), got " +
                      quote(std::to_string(s.http.max_in_flight)));
    const auto& db = s.database;
    if (db.backend == database_backend::sqlite && db.sqlite_path.empty())
      return fail("database.sqlite_path",
                  "expected a non-empty path when database.backend is "
                  "sqlite, got ''");
    if (db.backend == database_backend::postgresql && db.postgresql.empty())
      return fail("database.postgresql",
                  "expected a non-empty libpq connection string when "
                  "database.backend is postgresql, got ''");
    // A node of any role may use either backend; SQLite only works for a
    // cluster whose nodes share one machine, which cannot be checked here.
    if (db.backend != database_backend::postgresql &&
        !db.read_postgresql.empty())
      return fail("database.read_postgresql",
                  "read replicas need database.backend: postgresql, got "
                  "backend " +
                      std::string{to_string(db.backend)});
    const auto& cl = s.cluster;
    if (cl.reconnect_max_ms < cl.reconnect_initial_ms)
      return fail("cluster.reconnect_max_ms",
                  "expected an integer >= cluster.reconnect_initial_ms (" +
                      std::to_string(cl.reconnect_initial_ms) + "), got " +
                      quote(std::to_string(cl.reconnect_max_ms)));
    return validate_http_tls(s.http.tls) &&
           validate_cluster_tls(s.node.role, cl.tls);
  }

  /// HTTPS needs both a certificate and its key, and both must be readable.
  bool validate_http_tls(const http_tls_settings& tls) {
    if (tls.cert_file.empty() != tls.key_file.empty())
      return fail(
          tls.cert_file.empty() ? "http.tls.cert_file" : "http.tls.key_file",
          "expected both http.tls.cert_file and http.tls.key_file "
          "(or neither), got only " +
              std::string{tls.cert_file.empty() ? "key_file" : "cert_file"});
    if (!tls.enabled())
      return true;
    return readable("http.tls.cert_file", tls.cert_file) &&
           readable("http.tls.key_file", tls.key_file);
  }

  /// Cluster TLS needs the CA, the node's certificate and its key, all
  /// readable, and only makes sense on nodes that use cluster links.
  bool validate_cluster_tls(node_role role, const cluster_tls_settings& tls) {
    struct file_key {
      const char* key;
      const std::string& path;
    };
    const file_key files[] = {{"cluster.tls.ca_file", tls.ca_file},
                              {"cluster.tls.cert_file", tls.cert_file},
                              {"cluster.tls.key_file", tls.key_file}};
    bool any = !tls.key_password.empty();
    for (const auto& f : files)
      any = any || !f.path.empty();
    if (!any)
      return true;
    for (const auto& f : files)
      if (f.path.empty())
        return fail(f.key, "expected cluster.tls.ca_file, "
                           "cluster.tls.cert_file and cluster.tls.key_file "
                           "together (or none of them), got no " +
                               std::string{f.key});
    if (role == node_role::standalone)
      return fail("cluster.tls",
                  "only command and query nodes have cluster links, got "
                  "node.role standalone; remove cluster.tls or set "
                  "node.role");
    for (const auto& f : files)
      if (!readable(f.key, f.path))
        return false;
    return true;
  }

  /// Fails naming `key` unless `path` is a file that can be read.
  bool readable(const std::string& key, const std::string& path) {
    int code = 0;
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
      code = errno;
    } else {
      // Opening a directory succeeds; reading it does not.
      std::fgetc(file);
      if (std::ferror(file))
        code = errno;
      std::fclose(file);
    }
    if (code != 0)
      return fail(key,
                  "cannot read " + quote(path) + ": " + std::strerror(code));
    return true;
  }

  // -- structure --------------------------------------------------------------

  /// Calls `f(name, dotted_key, value)` for each entry of the mapping
  /// `section`. A null section counts as an empty mapping.
  template <class F>
  bool each_entry(const YAML::Node& section, const std::string& prefix, F f) {
    if (section.IsNull())
      return true;
    if (!section.IsMap())
      return fail(prefix, "expected a mapping, got " + describe(section));
    std::set<std::string> seen;
    for (const auto& entry : section) {
      if (!entry.first.IsScalar())
        return fail(prefix, "expected only plain keys, got a key that is " +
                                describe(entry.first));
      const auto& name = entry.first.Scalar();
      auto key = prefix.empty() ? name : prefix + "." + name;
      if (!seen.insert(name).second)
        return fail(key, "duplicate key '" + key + "'");
      if (!f(name, key, entry.second))
        return false;
    }
    return true;
  }

  bool unknown(const std::string& key) {
    return fail(key, "unknown key '" + key + "'");
  }

  /// Names a node for an error message (see describe_yaml_node).
  static std::string describe(const YAML::Node& node) {
    return describe_yaml_node(node);
  }

  static std::string quote(const std::string& text) { return "'" + text + "'"; }

  // -- scalars ----------------------------------------------------------------

  /// Reads the text of a scalar with `${VAR}` expanded. `expected` words the
  /// error for a node that is not a scalar. With `null_ok`, null reads as "".
  bool scalar_text(const std::string& key, const YAML::Node& node,
                   const std::string& expected, bool null_ok,
                   std::string& out) {
    if (node.IsNull() && null_ok) {
      out.clear();
      return true;
    }
    if (!node.IsScalar())
      return fail(key, "expected " + expected + ", got " + describe(node));
    return expand(key, node.Scalar(), out);
  }

  /// Replaces each `${NAME}` in `in` by the environment variable NAME.
  bool expand(const std::string& key, const std::string& in, std::string& out) {
    out.clear();
    size_t pos = 0;
    for (;;) {
      auto start = in.find("${", pos);
      if (start == std::string::npos) {
        out.append(in, pos, std::string::npos);
        return true;
      }
      out.append(in, pos, start - pos);
      auto end = in.find('}', start + 2);
      if (end == std::string::npos)
        return fail(key, "expected '}' closing '${' in " + quote(in));
      auto name = in.substr(start + 2, end - start - 2);
      if (!valid_variable_name(name))
        return fail(key, "expected an environment variable name of "
                         "[A-Za-z_][A-Za-z0-9_]* inside '${...}', got " +
                             quote(name) + " in " + quote(in));
      const char* value = std::getenv(name.c_str());
      if (value == nullptr)
        return fail(key, "environment variable '" + name +
                             "' is not set (used in " + quote(in) + ")");
      out += value;
      pos = end + 1;
    }
  }

  static bool valid_variable_name(const std::string& name) {
    if (name.empty())
      return false;
    for (size_t i = 0; i < name.size(); ++i) {
      auto c = name[i];
      bool letter =
          (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
      bool digit = c >= '0' && c <= '9';
      if (!letter && !(digit && i > 0))
        return false;
    }
    return true;
  }

  template <class T>
  bool read_uint(const std::string& key, const YAML::Node& node, uint64_t lo,
                 uint64_t hi, T& out) {
    static_assert(std::is_unsigned<T>::value);
    auto expected =
        "an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
    std::string text;
    if (!scalar_text(key, node, expected, false, text))
      return false;
    // Only plain decimal integers of at most 20 characters: no sign,
    // fraction, exponent or 0x prefix. A leading '-' falls through to the
    // same "expected" message.
    auto value =
        text.size() <= 20 ? parse_decimal<uint64_t>(text) : std::nullopt;
    if (!value || *value < lo || *value > hi)
      return fail(key, "expected " + expected + ", got " + quote(text));
    out = static_cast<T>(*value);
    return true;
  }

  bool read_bool(const std::string& key, const YAML::Node& node, bool& out) {
    const std::string expected = "true or false";
    std::string text;
    if (!scalar_text(key, node, expected, false, text))
      return false;
    // The YAML 1.2 core schema: no yes/no/on/off.
    if (text == "true" || text == "True" || text == "TRUE") {
      out = true;
      return true;
    }
    if (text == "false" || text == "False" || text == "FALSE") {
      out = false;
      return true;
    }
    return fail(key, "expected " + expected + ", got " + quote(text));
  }

  bool read_string(const std::string& key, const YAML::Node& node,
                   std::string& out, bool non_empty) {
    std::string text;
    if (!scalar_text(key, node, "a string", true, text))
      return false;
    if (non_empty && text.empty())
      return fail(key, "expected a non-empty string, got ''");
    out = std::move(text);
    return true;
  }

  template <class E, size_t N>
  bool read_enum(const std::string& key, const YAML::Node& node, E& out,
                 const enum_name<E> (&names)[N]) {
    std::string expected = "one of ";
    for (size_t i = 0; i < N; ++i) {
      if (i > 0)
        expected += ", ";
      expected += names[i].name;
    }
    std::string text;
    if (!scalar_text(key, node, expected, false, text))
      return false;
    for (const auto& entry : names) {
      if (text == entry.name) {
        out = entry.value;
        return true;
      }
    }
    return fail(key, "expected " + expected + ", got " + quote(text));
  }

  /// Reads "host:port" or "[ipv6]:port" into `address`, `host` and `port`;
  /// the port must be in `min_port`..65535.
  bool read_address(const std::string& key, const YAML::Node& node,
                    uint32_t min_port, std::string& address, std::string& host,
                    uint16_t& port) {
    const std::string expected =
        "\"host:port\" or \"[ipv6]:port\" with a port in " +
        std::to_string(min_port) + "..65535";
    std::string text;
    if (!scalar_text(key, node, expected, false, text))
      return false;
    auto bad = [&] {
      return fail(key, "expected " + expected + ", got " + quote(text));
    };
    auto colon = text.rfind(':');
    if (colon == std::string::npos)
      return bad();
    auto host_text = text.substr(0, colon);
    auto port_text = text.substr(colon + 1);
    if (!host_text.empty() && host_text.front() == '[') {
      if (host_text.size() < 3 || host_text.back() != ']')
        return bad();
      host_text = host_text.substr(1, host_text.size() - 2);
    } else if (host_text.find(':') != std::string::npos) {
      return bad(); // A bare IPv6 address needs brackets.
    }
    if (host_text.empty())
      return bad();
    for (auto c : host_text)
      if (c == ' ' || c == '\t' || c == '[' || c == ']' || c == '/')
        return bad();
    if (port_text.empty() || port_text.size() > 5)
      return bad();
    auto port_value = parse_decimal<uint32_t>(port_text);
    if (!port_value || *port_value < min_port || *port_value > 65535)
      return bad();
    address = text;
    host = std::move(host_text);
    port = static_cast<uint16_t>(*port_value);
    return true;
  }

  /// Reads one "host:port" or a non-empty list of them, without repeats.
  bool read_endpoints(const std::string& key, const YAML::Node& node,
                      std::vector<cluster_endpoint>& out) {
    std::vector<cluster_endpoint> result;
    auto read_one = [&](const std::string& item_key, const YAML::Node& item) {
      cluster_endpoint e;
      if (!read_address(item_key, item, 1, e.address, e.host, e.port))
        return false;
      for (const auto& seen : result)
        if (seen.host == e.host && seen.port == e.port)
          return fail(item_key, "expected each address once, got " +
                                    quote(e.address) + " twice");
      result.push_back(std::move(e));
      return true;
    };
    if (node.IsSequence()) {
      if (node.size() == 0)
        return fail(key, "expected \"host:port\" or a non-empty list of "
                         "them, got an empty list");
      for (size_t i = 0; i < node.size(); ++i)
        if (!read_one(key + "[" + std::to_string(i) + "]", node[i]))
          return false;
    } else if (!read_one(key, node)) {
      return false;
    }
    out = std::move(result);
    return true;
  }

  config_error& err_;
};

} // namespace

std::optional<settings> parse_settings(const std::string& yaml_text,
                                       config_error& err) {
  settings_parser parser{err};
  std::string error;
  auto root = load_yaml_document(yaml_text, "configuration", error);
  if (!root) {
    parser.fail("", std::move(error));
    return std::nullopt;
  }
  try {
    settings result;
    if (!parser.parse_root(*root, result))
      return std::nullopt;
    return result;
  } catch (const YAML::Exception& e) {
    parser.fail("", e.what());
  } catch (const std::exception& e) {
    parser.fail("", std::string{"cannot parse configuration: "} + e.what());
  }
  return std::nullopt;
}

std::optional<settings> load_settings(const std::string& path,
                                      config_error& err) {
  int code = 0;
  auto text = read_text_file(path, code);
  if (!text) {
    err.key.clear();
    err.message =
        "cannot read config file '" + path + "': " + std::strerror(code);
    return std::nullopt;
  }
  auto result = parse_settings(*text, err);
  // A relative domain file or assets folder is found next to the config
  // file.
  auto folder = std::filesystem::path{path}.parent_path();
  if (result && !folder.empty()) {
    for (auto* relative : {&result->domain, &result->http.assets_dir})
      if (!relative->empty() && relative->front() != '/')
        *relative = (folder / *relative).string();
  }
  return result;
}

std::string to_string(const config_error& err) {
  if (err.key.empty())
    return "config error: " + err.message;
  return "config error: " + err.key + ": " + err.message;
}

const char* to_string(node_role x) {
  return name_of(node_roles, x);
}

const char* to_string(routing_policy x) {
  return name_of(routing_policies, x);
}

const char* to_string(session_consistency x) {
  return name_of(session_levels, x);
}

const char* to_string(database_backend x) {
  return name_of(database_backends, x);
}

const char* to_string(log_level x) {
  return name_of(log_levels, x);
}

} // namespace cqrs
