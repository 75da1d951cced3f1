// Start-up and shutdown of a node's actors.
#include "actors/node.hpp"

#include <caf/exit_reason.hpp>
#include <caf/message.hpp>
#include <caf/send.hpp>

#include "actors/db_reader.hpp"
#include "actors/invalidation_hub.hpp"
#include "config/logging.hpp"
#include "db/error.hpp"
#include "db/write_store.hpp"

namespace cqrs {

void add_cqrs_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::cqrsd>();
  cfg.add_error_category(caf::atom("cqrs"), [](uint8_t code, caf::atom_value,
                                               const caf::message& ctx) {
    auto result = to_string(static_cast<ec>(code));
    if (ctx.match_elements<std::string>())
      result += ": " + ctx.get_as<std::string>(0);
    return result;
  });
}

node::node(caf::actor_system& sys, settings cfg)
    : sys_(sys), cfg_(std::move(cfg)),
      counters_(std::make_shared<node_counters>()),
      routes_(std::make_shared<query_routes>(cfg_.query.routing)) {
  // nop
}

node::~node() {
  stop();
}

caf::expected<std::unique_ptr<node>> node::start(caf::actor_system& sys,
                                                 const settings& cfg,
                                                 give_up_handler on_fatal) {
  // Open the write store once up front: it creates the database and its
  // schema, and a broken database fails the start with a clear message
  // instead of a supervisor's restart loop.
  seq_t last_seq = 0;
  {
    auto store = write_store::open(cfg.database);
    if (!store)
      return std::move(store.error());
    last_seq = (*store)->last_seq();
  }
  std::unique_ptr<node> n{new node(sys, cfg)};
  auto counters = n->counters_.get();
  n->readers_ = sys.spawn(reader_pool_impl, cfg.database);
  invalidation_hub_config hub_cfg;
  hub_cfg.initial_seq = last_seq;
  hub_cfg.sync_timeout = std::chrono::milliseconds{
      std::max<uint32_t>(cfg.query.min_seq_timeout_ms, 1000)};
  hub_cfg.counters = counters;
  n->hub_ = sys.spawn(invalidation_hub_impl, hub_cfg, n->readers_);
  supervision_config supervision;
  supervision.max_restarts = cfg.query.max_restarts;
  supervision.window = std::chrono::milliseconds{cfg.query.restart_window_ms};
  supervision.on_give_up = std::move(on_fatal);
  command_actor_config cmd_cfg;
  cmd_cfg.database = cfg.database;
  cmd_cfg.max_batch = cfg.command.max_batch;
  cmd_cfg.counters = counters;
  n->command_ =
      sys.spawn(command_supervisor_impl, cmd_cfg, supervision, n->hub_);
  query_supervisor_config q_cfg;
  q_cfg.actors = cfg.query.actors;
  q_cfg.actor.cache_enabled = cfg.query.cache_enabled;
  q_cfg.actor.cache_max_entries = cfg.query.cache_max_entries;
  q_cfg.actor.min_seq_timeout =
      std::chrono::milliseconds{cfg.query.min_seq_timeout_ms};
  q_cfg.actor.counters = counters;
  q_cfg.supervision = supervision;
  n->queries_ =
      sys.spawn(query_supervisor_impl, q_cfg, n->readers_, n->hub_, n->routes_);
  CQRS_LOG(info, "node",
           "started " << to_string(cfg.node.role) << " node '" << cfg.node.name
                      << "': " << cfg.query.actors << " query actors, "
                      << cfg.database.read_connections
                      << " DB readers, last seq " << last_seq);
  return n;
}

void node::stop() {
  // Writers first, so no invalidation is lost behind a stopped hub, then
  // readers of every kind.
  auto stop_one = [](const auto& handle) {
    if (handle)
      caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
  };
  stop_one(command_);
  stop_one(queries_);
  stop_one(hub_);
  stop_one(readers_);
  command_ = nullptr;
  queries_ = nullptr;
  hub_ = nullptr;
  readers_ = nullptr;
  routes_->clear();
}

} // namespace cqrs
