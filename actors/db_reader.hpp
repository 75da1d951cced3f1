// The DB reader pool: detached actors, each with one read-only connection,
// that run cache fills and commit_log reads off the query actors' threads.
#pragma once

#include <memory>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/interfaces.hpp"
#include "config/settings.hpp"
#include "db/read_store.hpp"
#include "model/domain.hpp"

namespace cqrs {

struct db_reader_state {
  static inline constexpr const char* name = "db_reader";

  database_settings cfg;
  std::shared_ptr<const domain> dom;
  /// Null until the read session opened.
  std::unique_ptr<read_store> store;

  /// Opens the read session unless it is open; the error says why not.
  caf::error open();

  /// Reads the view `q` asks for, rendered as its JSON body.
  caf::expected<fill_result> fill(const query& q);
};

using db_reader_ptr = reader_actor::stateful_pointer<db_reader_state>;

/// Spawnable behaviour of one reader. Opens its read-only session at start;
/// when the database cannot be reached then, the reader keeps running, tries
/// again on each request and answers `ec::database_unavailable` meanwhile.
reader_actor::behavior_type db_reader_impl(db_reader_ptr self,
                                           database_settings cfg,
                                           std::shared_ptr<const domain> d);

struct reader_pool_state {
  static inline constexpr const char* name = "db_reader_pool";

  std::vector<reader_actor> readers;
  size_t next = 0;
};

using reader_pool_ptr = reader_actor::stateful_pointer<reader_pool_state>;

/// Spawnable behaviour of the pool: spawns `cfg.read_connections` detached
/// readers, linked to the pool, and spreads requests over them round-robin.
reader_actor::behavior_type reader_pool_impl(reader_pool_ptr self,
                                             database_settings cfg,
                                             std::shared_ptr<const domain> d);

} // namespace cqrs
