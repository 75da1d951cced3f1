// Checkpoints the SQLite write-ahead log off the writer's thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/settings.hpp"

namespace soci {
class session;
} // namespace soci

namespace cqrs {

/// SQLite's automatic checkpoint runs inside the COMMIT that fills the WAL
/// past 1,000 pages: that commit, and every write waiting behind it, pays
/// for copying the WAL into the database file and syncing it (hundreds of
/// milliseconds under load). A `wal_checkpointer` moves that work to a
/// thread and a connection of its own: the writer's commit only notes that
/// the WAL is long, and a PASSIVE checkpoint, which never blocks the writer
/// or readers, copies it back meanwhile. Durability is unchanged: a commit
/// is durable once its WAL frames are synced (`synchronous=FULL`).
class wal_checkpointer {
public:
  /// WAL length, in pages, past which a checkpoint is asked for (SQLite's
  /// own automatic checkpoint threshold).
  static constexpr int checkpoint_pages = 1000;

  /// Size the WAL file is truncated back to after a checkpoint let SQLite
  /// restart it, so one burst of writes does not keep a huge file.
  static constexpr long long wal_size_limit_bytes = 64LL << 20;

  /// Opens the checkpointer's connection to the SQLite database of `cfg`,
  /// starts its thread and takes over checkpointing from `writer` (a write
  /// session on the same database). Returns null, logging why, if it cannot
  /// open its connection: `writer` then keeps SQLite's automatic checkpoint.
  static std::unique_ptr<wal_checkpointer> attach(const database_settings& cfg,
                                                  soci::session& writer);

  /// Hands checkpointing back to the writer's automatic checkpoint, runs a
  /// last checkpoint and stops the thread.
  ~wal_checkpointer();

  wal_checkpointer(const wal_checkpointer&) = delete;
  wal_checkpointer& operator=(const wal_checkpointer&) = delete;

  /// Asks for a checkpoint; returns at once. Requests made while one runs
  /// are served by one more run.
  void request();

  /// Checkpoints run so far (each copies the WAL into the database file as
  /// far as open read transactions allow).
  uint64_t completed() const;

private:
  wal_checkpointer(std::unique_ptr<soci::session> own, soci::session& writer,
                   std::string path);

  void run();

  // Runs one PASSIVE checkpoint; logs a failure and returns false.
  bool checkpoint();

  std::unique_ptr<soci::session> own_;
  soci::session& writer_;
  std::string path_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  bool requested_ = false;
  bool stopping_ = false;
  uint64_t completed_ = 0;
  std::thread thread_;
};

} // namespace cqrs
