// cqrsd: command line, signals, start-up and shutdown order.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include <pthread.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "actors/node.hpp"
#include "config/logging.hpp"
#include "config/settings.hpp"
#include "db/error.hpp"
#include "http/gateway.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

void print_usage(std::ostream& out) {
  out << "usage: cqrsd --config FILE        serve with the YAML configuration "
         "FILE\n"
         "       cqrsd --check-config FILE  validate FILE; exit 0 if valid, "
         "2 if not\n"
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

int check_config(const std::string& path) {
  cqrs::config_error err;
  if (!cqrs::load_settings(path, err)) {
    std::cerr << to_string(err) << '\n';
    return exit_usage;
  }
  std::cout << path << ": configuration is valid\n";
  return exit_ok;
}

int serve(const std::string& path) {
  cqrs::config_error err;
  auto cfg = cqrs::load_settings(path, err);
  if (!cfg) {
    std::cerr << to_string(err) << '\n';
    return exit_usage;
  }
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
  if (cfg->node.role != cqrs::node_role::standalone) {
    // Clustered: the command node is reached over the CAF middleman, whose
    // heartbeats (off by default) detect a dead peer.
    sys_cfg.load<caf::io::middleman>();
    auto interval = caf::timespan{
        std::chrono::milliseconds{cfg->cluster.heartbeat_interval_ms}};
    sys_cfg.set("middleman.heartbeat-interval", interval);
    sys_cfg.set("middleman.connection-timeout",
                interval * cfg->cluster.missed_heartbeats);
  }
  caf::actor_system sys{sys_cfg};
  auto on_fatal = [&exit_code](const std::string& why) {
    CQRS_LOG(error, "main", "stopping the node: " << why);
    exit_code = exit_failure;
    kill(getpid(), SIGTERM);
  };
  cqrs::fault_injection faults;
#ifdef CQRSD_FAULT_INJECTION
  // Only the testing build (cqrsd-testing) reads fault switches.
  if (auto drop = std::getenv("CQRSD_FAULT_DROP_BATCHES")) {
    faults.drop_batches =
        static_cast<uint32_t>(std::strtoul(drop, nullptr, 10));
    CQRS_LOG(warning, "main",
             "fault injection: the hub drops the next " << faults.drop_batches
                                                        << " batches");
  }
  // CQRSD_FAULT_CRASH_*_EVERY=N: an actor fails with an error exit on every
  // Nth message of `unit` it handles.
  auto every = [](const char* name, const char* who, const char* unit,
                  uint32_t& out) {
    if (auto value = std::getenv(name)) {
      out = static_cast<uint32_t>(std::strtoul(value, nullptr, 10));
      if (out != 0)
        CQRS_LOG(warning, "main",
                 "fault injection: " << who << " crashes once every " << out
                                     << ' ' << unit << 's');
    }
  };
  every("CQRSD_FAULT_CRASH_QUERY_ACTOR_EVERY", "each query actor", "read",
        faults.crash_query_actor_every);
  every("CQRSD_FAULT_CRASH_COMMAND_ACTOR_EVERY", "the command actor", "command",
        faults.crash_command_actor_every);
#endif
  auto n = cqrs::node::start(sys, *cfg, on_fatal, faults);
  if (!n) {
    CQRS_LOG(error, "main", "cannot start: " << cqrs::error_message(n.error()));
    return exit_failure;
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
           "cqrsd " << CQRSD_VERSION << " serving http://" << cfg->http.host
                    << ':' << *port << " (" << to_string(cfg->node.role)
                    << " node '" << cfg->node.name << "', "
                    << describe(cfg->database) << ")");
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
  print_usage(std::cerr);
  return exit_usage;
}
