// Start-up and shutdown of a node's actors.
#include "actors/node.hpp"

#include <chrono>
#include <thread>

#include <caf/exit_reason.hpp>
#include <caf/message.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>

#include "actors/cluster_link.hpp"
#include "actors/cluster_transport.hpp"
#include "actors/db_reader.hpp"
#include "actors/invalidation_hub.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"
#include "db/read_store.hpp"
#include "db/write_store.hpp"

namespace cqrs {

void add_cqrs_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::cqrsd>();
  cfg.add_message_types<caf::id_block::cqrsd_actors>();
  cfg.add_error_category(caf::atom("cqrs"), [](uint8_t code, caf::atom_value,
                                               const caf::message& ctx) {
    auto result = to_string(static_cast<ec>(code));
    if (ctx.match_elements<std::string>())
      result += ": " + ctx.get_as<std::string>(0);
    return result;
  });
}

node::node(caf::actor_system& sys, settings cfg,
           std::shared_ptr<const domain> d)
    : sys_(sys), cfg_(std::move(cfg)), domain_(std::move(d)),
      counters_(std::make_shared<node_counters>(domain_->views.size())),
      routes_(std::make_shared<query_routes>(cfg_.query.routing)),
      command_route_(std::make_shared<command_route>()) {
  // nop
}

node::~node() {
  stop();
}

namespace {

// The seq the node starts from: the write store creates the database and
// its schema and knows the last seq; a query node only reads.
caf::expected<seq_t> prepare_database(const settings& cfg,
                                      const std::shared_ptr<const domain>& d) {
  if (cfg.node.role == node_role::query) {
    auto store = read_store::open(cfg.database, d);
    if (!store)
      return std::move(store.error());
    return (*store)->current_seq();
  }
  auto store = write_store::open(cfg.database, d);
  if (!store)
    return std::move(store.error());
  return (*store)->last_seq();
}

} // namespace

caf::expected<std::unique_ptr<node>>
node::start(caf::actor_system& sys, const settings& cfg,
            std::shared_ptr<const domain> d, give_up_handler on_fatal,
            fault_injector_ptr faults) {
  const bool writes = cfg.node.role != node_role::query;
  const bool elected = cfg.node.role == node_role::command &&
                       cfg.database.backend == database_backend::postgresql;
  // One process at a time writes an SQLite file; the lock is taken before
  // anything else touches the file.
  std::unique_ptr<sqlite_writer_lock> writer_lock;
  if (writes && cfg.database.backend == database_backend::sqlite) {
    auto lock = sqlite_writer_lock::acquire(cfg.database);
    if (!lock)
      return std::move(lock.error());
    writer_lock = std::move(*lock);
  }
  // Opening the store up front fails the start with a clear message instead
  // of a supervisor's restart loop.
  auto last_seq = prepare_database(cfg, d);
  if (!last_seq)
    return std::move(last_seq.error());
  std::unique_ptr<node> n{new node(sys, cfg, d)};
  n->writer_lock_ = std::move(writer_lock);
  const auto& counters = n->counters_;
  auto heartbeat = std::chrono::milliseconds{cfg.cluster.heartbeat_interval_ms};
  // -- readers and hub --------------------------------------------------------
  auto read_cfg = cfg.database;
  if (!read_cfg.read_postgresql.empty())
    read_cfg.postgresql = read_cfg.read_postgresql;
  n->readers_ = sys.spawn(reader_pool_impl, read_cfg, d);
  invalidation_hub_config hub_cfg;
  hub_cfg.initial_seq = *last_seq;
  // What the database shows committed; on a query node, heartbeats and
  // batches from the command node move it on.
  node_counters::set(counters->current_seq, *last_seq);
  hub_cfg.sync_timeout = std::chrono::milliseconds{
      std::max<uint32_t>(cfg.query.min_seq_timeout_ms, 1000)};
  hub_cfg.heartbeat_timeout = heartbeat * cfg.cluster.missed_heartbeats;
  hub_cfg.counters = counters;
  hub_cfg.faults = faults;
  n->hub_ = sys.spawn(invalidation_hub_impl, hub_cfg, n->readers_);
  supervision_config query_supervision;
  query_supervision.max_restarts = cfg.query.max_restarts;
  query_supervision.window =
      std::chrono::milliseconds{cfg.query.restart_window_ms};
  query_supervision.settings = "query.max_restarts, query.restart_window_ms";
  query_supervision.on_give_up = on_fatal;
  supervision_config command_supervision;
  command_supervision.max_restarts = cfg.command.max_restarts;
  command_supervision.window =
      std::chrono::milliseconds{cfg.command.restart_window_ms};
  command_supervision.settings =
      "command.max_restarts, command.restart_window_ms";
  command_supervision.on_give_up = std::move(on_fatal);
  // -- command node -----------------------------------------------------------
  cluster_link_config link_cfg;
  link_cfg.initial_backoff =
      std::chrono::milliseconds{cfg.cluster.reconnect_initial_ms};
  link_cfg.max_backoff =
      std::chrono::milliseconds{cfg.cluster.reconnect_max_ms};
  link_cfg.domain_digest = d->digest;
  link_cfg.counters = counters;
  link_cfg.tls = cfg.cluster.tls.enabled();
  if (cfg.node.role == node_role::query || elected) {
    link_cfg.remotes = cfg.cluster.command_nodes;
    link_cfg.wait_for_local = elected;
    // A frozen command node keeps its connections up but answers nothing:
    // the link gives it as long as the hub gives its heartbeats.
    link_cfg.ping_interval = heartbeat;
    link_cfg.ping_timeout = heartbeat * cfg.cluster.missed_heartbeats;
  }
  command_actor_config cmd_cfg;
  cmd_cfg.database = cfg.database;
  cmd_cfg.node_name = cfg.node.name;
  cmd_cfg.dom = d;
  cmd_cfg.max_batch = cfg.command.max_batch;
  cmd_cfg.idempotency_ttl = std::chrono::seconds{cfg.command.idempotency_ttl_s};
  cmd_cfg.counters = counters;
  cmd_cfg.faults = faults;
  // The first attempt at the leader lock is made before the node serves,
  // so a lone command node serves writes as soon as it is ready.
  auto lease = std::chrono::milliseconds{cfg.cluster.leader_lease_ms};
  bool fenced = !(faults && faults->fencing_disabled());
  auto first_store = std::make_shared<std::unique_ptr<write_store>>();
  if (elected) {
    auto store = try_to_lead(cmd_cfg, lease, fenced);
    if (!store)
      return std::move(store.error());
    *first_store = std::move(*store);
  } else if (writes) {
    // The only node that writes: it leads, with no lock to lose.
    node_counters::set(counters->leader, 1);
    n->command_ =
        sys.spawn(command_supervisor_impl, cmd_cfg, command_supervision,
                  *last_seq, caf::timespan{heartbeat});
    link_cfg.local = n->command_;
    // The command node runs in this process: writes may go to it at once,
    // before the link has subscribed the hub.
    n->command_route_->set(n->command_, cfg.node.name);
    if (cfg.node.role == node_role::command) {
      auto tls = cfg.cluster.tls.enabled();
      auto port =
          publish_command_node(sys, n->command_, cfg.cluster.listen_host,
                               cfg.cluster.listen_port, tls);
      if (!port)
        return make_cqrs_error(ec::internal,
                               "cannot publish the command node on " +
                                   cfg.cluster.listen + ": " +
                                   caf::to_string(port.error()));
      CQRS_LOG(info, "node",
               "command node published on " << cfg.cluster.listen
                                            << published_transport(tls));
    }
  }
  // -- query actors and the link ----------------------------------------------
  query_supervisor_config q_cfg;
  q_cfg.actors = cfg.query.actors;
  q_cfg.actor.cache_enabled = cfg.query.cache_enabled;
  q_cfg.actor.refresh_on_invalidation = cfg.query.refresh_on_invalidation;
  q_cfg.actor.cache_max_entries = cfg.query.cache_max_entries;
  q_cfg.actor.min_seq_timeout =
      std::chrono::milliseconds{cfg.query.min_seq_timeout_ms};
  q_cfg.actor.counters = counters;
  q_cfg.actor.faults = std::move(faults);
  q_cfg.supervision = std::move(query_supervision);
  n->queries_ =
      sys.spawn(query_supervisor_impl, q_cfg, n->readers_, n->hub_, n->routes_);
  n->link_ = sys.spawn(cluster_link_impl, link_cfg, n->hub_, n->command_route_);
  if (elected) {
    leader_elector_config elect;
    elect.command = std::move(cmd_cfg);
    elect.supervision = std::move(command_supervision);
    elect.heartbeat_interval = heartbeat;
    elect.lease = lease;
    elect.listen = cfg.cluster.listen;
    elect.listen_host = cfg.cluster.listen_host;
    elect.listen_port = cfg.cluster.listen_port;
    elect.tls = cfg.cluster.tls.enabled();
    elect.fenced = fenced;
    elect.route = n->command_route_;
    elect.link = n->link_;
    bool leads = *first_store != nullptr;
    // Detached: it blocks on the database and on publishing.
    n->elector_ = sys.spawn<caf::detached>(leader_elector_impl,
                                           std::move(elect), first_store);
    // A leader serves writes once it has published.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    while (leads && !n->command_route_->current()->node &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  // The supervisor fills the routing table as it starts, on a scheduler
  // thread. Waiting for the full table keeps the gateway from serving (and
  // /readyz from saying ready) before reads have a query actor to go to,
  // which a restart under load would otherwise show as a burst of 503s.
  // (Asking the supervisor for its status instead would cost a message to
  // and from every query actor: seconds with 100,000 of them.)
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{60};
  while (n->routes_->snapshot()->size() < cfg.query.actors) {
    if (std::chrono::steady_clock::now() >= deadline) {
      CQRS_LOG(warning, "node",
               "the query supervisor has not spawned its "
                   << cfg.query.actors << " query actors within 60 s; "
                   << "serving anyway");
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  CQRS_LOG(info, "node",
           "started " << to_string(cfg.node.role) << " node '" << cfg.node.name
                      << "' serving domain '" << d->name << "' (digest "
                      << d->digest.substr(0, 12) << "): " << cfg.query.actors
                      << " query actors, " << cfg.database.read_connections
                      << " DB readers, last seq " << *last_seq);
  return n;
}

void node::stop() {
  // Writers and the link first, so no invalidation is lost behind a stopped
  // hub, then readers of every kind.
  auto stop_one = [](const auto& handle) {
    if (handle)
      caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
  };
  stop_one(link_);
  stop_one(elector_);
  stop_one(command_);
  stop_one(queries_);
  stop_one(hub_);
  stop_one(readers_);
  link_ = nullptr;
  elector_ = nullptr;
  command_ = nullptr;
  queries_ = nullptr;
  hub_ = nullptr;
  readers_ = nullptr;
  routes_->clear();
  command_route_->clear();
}

} // namespace cqrs
