// cqrsd: command line, signals, start-up and shutdown order.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <pthread.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "actors/node.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "config/domain_file.hpp"
#include "config/openapi_yaml.hpp"
#include "config/settings.hpp"
#include "http/gateway.hpp"
#include "http/server/tls.hpp"
#include "model/openapi.hpp"

#ifdef CQRSD_FAULT_INJECTION
#include "app/faults.hpp"
#endif

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

void print_usage(std::ostream& out) {
  out << "usage: cqrsd --config FILE        serve with the YAML configuration "
         "FILE\n"
         "       cqrsd --check-config FILE  validate FILE and its domain file; "
         "exit 0 if valid, 2 if not\n"
         "       cqrsd [--config FILE] --openapi OUT\n"
         "                                  write the OpenAPI document of the "
         "served domain\n"
         "                                  to OUT (JSON if it ends in .json, "
         "else YAML; - for stdout)\n"
         "       cqrsd --help | --version\n"
         "\n"
         "SIGTERM or SIGINT drains requests in flight, then exits 0.\n";
}

// Names the database for the start-up log, without credentials.
std::string describe(const cqrs::database_settings& db) {
  if (db.backend == cqrs::database_backend::sqlite)
    return "SQLite " + db.sqlite_path;
  return db.read_postgresql.empty() ? "PostgreSQL"
                                    : "PostgreSQL with a read replica";
}

/// Loads the cluster credentials with the loader of the HTTPS server, as
/// CAF's OpenSSL module will load them, so that a bad file stops the start
/// with a message instead of failing each handshake. Returns what is wrong,
/// or "" when all loads.
std::string check_cluster_tls(const cqrs::cluster_tls_settings& tls) {
  cqrs::http::tls_files files;
  files.cert_file = tls.cert_file;
  files.key_file = tls.key_file;
  files.key_password = tls.key_password;
  files.ca_file = tls.ca_file;
  cqrs::http::tls_error error;
  if (cqrs::http::make_tls_context(files, error))
    return {};
  switch (error.step) {
  case cqrs::http::tls_step::context:
    break;
  case cqrs::http::tls_step::cert_file:
    return "cluster.tls.cert_file '" + tls.cert_file +
           "' is not a PEM certificate: " + error.reason;
  case cqrs::http::tls_step::key_file:
    return "cluster.tls.key_file '" + tls.key_file +
           "' is not the PEM key of cluster.tls.cert_file (or "
           "cluster.tls.key_password is wrong): " +
           error.reason;
  case cqrs::http::tls_step::ca_file:
    return "cluster.tls.ca_file '" + tls.ca_file +
           "' holds no PEM CA certificate: " + error.reason;
  }
  return "cannot create an OpenSSL context: " + error.reason;
}

// Loads the configuration at `path` (the built-in defaults when empty) and
// the domain it names; prints what is wrong and returns nothing when either
// is invalid.
std::optional<std::pair<cqrs::settings, std::shared_ptr<const cqrs::domain>>>
load_config_and_domain(const std::string& path) {
  cqrs::settings cfg;
  if (!path.empty()) {
    cqrs::config_error err;
    auto loaded = cqrs::load_settings(path, err);
    if (!loaded) {
      std::cerr << to_string(err) << '\n';
      return std::nullopt;
    }
    cfg = std::move(*loaded);
  }
  cqrs::domain_error err;
  auto d = cqrs::load_configured_domain(cfg, err);
  if (!d) {
    std::cerr << to_string(err) << '\n';
    return std::nullopt;
  }
  return std::make_pair(std::move(cfg), std::move(d));
}

int check_config(const std::string& path) {
  auto loaded = load_config_and_domain(path);
  if (!loaded)
    return exit_usage;
  const auto& d = *loaded->second;
  std::cout << path << ": configuration is valid; domain '" << d.name << "' ("
            << d.tables.size() << " tables, " << d.resources.size()
            << " resources, " << d.views.size() << " views, digest " << d.digest
            << ")\n";
  return exit_ok;
}

int write_openapi(const std::string& config_path, const std::string& out) {
  auto loaded = load_config_and_domain(config_path);
  if (!loaded)
    return exit_usage;
  auto doc = cqrs::openapi_document(*loaded->second);
  auto ends_with_json =
      out.size() >= 5 && out.compare(out.size() - 5, 5, ".json") == 0;
  auto text = ends_with_json ? doc.dump(2) + "\n" : cqrs::openapi_yaml(doc);
  if (out == "-") {
    std::cout << text;
    return exit_ok;
  }
  std::ofstream file{out, std::ios::binary | std::ios::trunc};
  file << text;
  file.close();
  if (!file) {
    std::cerr << "cannot write " << out << ": " << std::strerror(errno) << '\n';
    return exit_failure;
  }
  return exit_ok;
}

int serve(const std::string& path) {
  auto loaded = load_config_and_domain(path);
  if (!loaded)
    return exit_usage;
  auto cfg = std::make_unique<cqrs::settings>(std::move(loaded->first));
  auto domain = std::move(loaded->second);
  cqrs::logging::set_level(cfg->log.level);
  // Every thread started from here on inherits the blocked signals; only
  // the signal thread below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::atomic<int> exit_code{exit_ok};
  caf::actor_system_config sys_cfg;
  cqrs::add_cqrs_types(sys_cfg);
  // Work sharing: idle workers wait on one queue's condition variable
  // instead of polling and sleeping (work stealing, CAF's default). On
  // this 2-core box, with 64 HTTP threads beside them, it served more of
  // everything side by side (bench/run.sh --quick, two runs each): cold
  // Zipf reads 63-66k vs 51-59k req/s, mixed 95/5 40k vs 32-35k req/s,
  // invalidation visibility p99 0.42 vs 0.70 ms; and with 100,000 query
  // actors (bench/scale.sh --quick) work stealing took 33 s to get ready,
  // over 5 s to fan out one batch and starved hot reads (1 req/s), against
  // 6.3 s, 0.2 s and 87k req/s.
  sys_cfg.set("scheduler.policy", caf::atom("sharing"));
  // The command actor blocks a worker while it commits (it runs on the
  // scheduler: see actors/command_node.cpp). One worker more than CAF's
  // default, max(cores, 4), keeps that worker from the other actors.
  sys_cfg.set("scheduler.max-threads",
              std::max<size_t>(std::thread::hardware_concurrency(), 4) + 1);
  if (cfg->node.role != cqrs::node_role::standalone) {
    // Clustered: the command node is reached over the CAF middleman, whose
    // heartbeats (off by default) detect a dead peer.
    sys_cfg.load<caf::io::middleman>();
    auto interval = caf::timespan{
        std::chrono::milliseconds{cfg->cluster.heartbeat_interval_ms}};
    const auto& tls = cfg->cluster.tls;
    sys_cfg.set("middleman.heartbeat-interval", interval);
    sys_cfg.set("middleman.connection-timeout",
                interval * cfg->cluster.missed_heartbeats);
    if (tls.enabled()) {
      if (auto why = check_cluster_tls(tls); !why.empty()) {
        CQRS_LOG(error, "main", "cannot start: " << why);
        return exit_failure;
      }
      // Every link is TLS with certificates checked on both ends against
      // the cluster CA: CAF's OpenSSL module requires a peer certificate
      // as soon as any credential is configured.
      sys_cfg.load<caf::openssl::manager>();
      sys_cfg.openssl_cafile = tls.ca_file;
      sys_cfg.openssl_certificate = tls.cert_file;
      sys_cfg.openssl_key = tls.key_file;
      sys_cfg.openssl_passphrase = tls.key_password;
    }
  }
  caf::actor_system sys{sys_cfg};
  auto on_fatal = [&exit_code](const std::string& why) {
    CQRS_LOG(error, "main", "stopping the node: " << why);
    exit_code = exit_failure;
    kill(getpid(), SIGTERM);
  };
  cqrs::fault_injector_ptr faults;
#ifdef CQRSD_FAULT_INJECTION
  // Only the testing build (cqrsd-testing) reads fault switches.
  faults = cqrs::faults_from_environment();
#endif
  auto n = cqrs::node::start(sys, *cfg, domain, on_fatal, faults);
  if (!n) {
    CQRS_LOG(error, "main", "cannot start: " << cqrs::error_message(n.error()));
    // A database whose tables contradict the domain file is a
    // configuration error, like a bad domain file.
    return cqrs::error_code(n.error()) == cqrs::ec::schema_mismatch
               ? exit_usage
               : exit_failure;
  }
  cqrs::http::gateway gw{sys, **n, *cfg};
  auto port = gw.bind();
  if (!port) {
    CQRS_LOG(error, "main", cqrs::error_message(port.error()));
    (*n)->stop();
    return exit_failure;
  }
  std::atomic<bool> stopping{false};
  std::thread signal_thread{[&] {
    int sig = 0;
    sigwait(&signals, &sig);
    stopping = true;
    CQRS_LOG(info, "main",
             "received " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
                         << ", draining requests in flight");
    gw.stop();
  }};
  CQRS_LOG(info, "main",
           "cqrsd " << CQRSD_VERSION << " serving "
                    << (cfg->http.tls.enabled() ? "https" : "http") << "://"
                    << cfg->http.host << ':' << *port << " ("
                    << to_string(cfg->node.role) << " node '" << cfg->node.name
                    << "', " << describe(cfg->database) << ")");
  gw.serve();
  if (!stopping) {
    CQRS_LOG(error, "main", "HTTP server stopped unexpectedly");
    exit_code = exit_failure;
    kill(getpid(), SIGTERM);
  }
  signal_thread.join();
  (*n)->stop();
  CQRS_LOG(info, "main", "stopped");
  return exit_code;
}

} // namespace

int main(int argc, char** argv) {
  std::string arg1 = argc > 1 ? argv[1] : "";
  if (argc == 2 && (arg1 == "--help" || arg1 == "-h")) {
    print_usage(std::cout);
    return exit_ok;
  }
  if (argc == 2 && arg1 == "--version") {
    std::cout << "cqrsd " << CQRSD_VERSION << '\n';
    return exit_ok;
  }
  if (argc == 3 && arg1 == "--check-config")
    return check_config(argv[2]);
  if (argc == 3 && arg1 == "--config")
    return serve(argv[2]);
  if (argc == 3 && arg1 == "--openapi")
    return write_openapi("", argv[2]);
  if (argc == 5 && arg1 == "--config" && std::string{argv[3]} == "--openapi")
    return write_openapi(argv[2], argv[4]);
  print_usage(std::cerr);
  return exit_usage;
}
