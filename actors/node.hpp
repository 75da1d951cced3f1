// The actors of one node, started and stopped in the right order.
#pragma once

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>

#include "actors/command_node.hpp"
#include "actors/command_route.hpp"
#include "actors/counters.hpp"
#include "actors/fault_hooks.hpp"
#include "actors/fwd.hpp"
#include "actors/interfaces.hpp"
#include "actors/leader_elector.hpp"
#include "actors/query_routes.hpp"
#include "actors/query_supervisor.hpp"
#include "config/settings.hpp"
#include "db/leadership.hpp"
#include "model/domain.hpp"

namespace cqrs {

/// The running actors of a node. Every role runs the DB reader pool, the
/// invalidation hub, the query supervisor (and query actors) and a link to
/// the command node. Role `standalone` also runs the command node (command
/// supervisor and command actor) in process. Role `command` on SQLite does
/// too and publishes it on `cluster.listen`, where `query` nodes link to
/// it. Role `command` on PostgreSQL runs a leader elector instead: the node
/// leads, running and publishing the command node, while it holds the
/// leader lock, and is a standby otherwise (actors/leader_elector.hpp).
class node {
public:
  /// Prepares the database (creating the SQLite file and schema on first
  /// start, unless the role is `query`), then spawns the actors. Fails with
  /// a clear error when the database cannot be opened or the command node
  /// cannot be published. Roles other than `standalone` need the CAF
  /// middleman loaded into `sys`. `faults` is for testing builds only and
  /// null in the product.
  static caf::expected<std::unique_ptr<node>>
  start(caf::actor_system& sys, const settings& cfg,
        std::shared_ptr<const domain> d, give_up_handler on_fatal,
        fault_injector_ptr faults = nullptr);

  ~node();

  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Stops every actor; returns at once, `caf::actor_system` awaits them.
  void stop();

  /// Where writes go; empty while a query node has no command node.
  command_route& commands() noexcept { return *command_route_; }

  query_routes& routes() noexcept { return *routes_; }

  node_counters& counters() noexcept { return *counters_; }

  /// The DB reader pool, for reads outside the query actors (/commits).
  const reader_actor& readers() const noexcept { return readers_; }

  const settings& config() const noexcept { return cfg_; }

  /// The domain the node serves.
  const domain& served_domain() const noexcept { return *domain_; }

  /// Whether the node competes for the leader lock (role `command` on
  /// PostgreSQL).
  bool elected() const noexcept { return static_cast<bool>(elector_); }

private:
  node(caf::actor_system& sys, settings cfg, std::shared_ptr<const domain> d);

  caf::actor_system& sys_;
  settings cfg_;
  std::shared_ptr<const domain> domain_;
  std::shared_ptr<node_counters> counters_;
  std::shared_ptr<query_routes> routes_;
  std::shared_ptr<command_route> command_route_;
  reader_actor readers_;
  hub_actor hub_;
  command_node_actor command_;
  leader_elector_actor elector_;
  query_supervisor_actor queries_;
  link_actor link_;
  // SQLite: held while the node may write the database file.
  std::unique_ptr<sqlite_writer_lock> writer_lock_;
};

} // namespace cqrs
