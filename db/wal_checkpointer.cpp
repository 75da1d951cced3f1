// Checkpoints the SQLite write-ahead log off the writer's thread.
#include "db/wal_checkpointer.hpp"

#include <string>

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "common/error.hpp"
#include "common/logging.hpp"
#include "db/schema.hpp"

namespace cqrs {

namespace {

namespace sq = ::sqlite_api;

sq::sqlite3* native(soci::session& sql) {
  return static_cast<soci::sqlite3_session_backend*>(sql.get_backend())->conn_;
}

// SQLite calls this on the writer's thread after each commit, with the
// number of pages now in the WAL.
int on_wal_commit(void* checkpointer, sq::sqlite3*, const char*, int pages) {
  if (pages >= wal_checkpointer::checkpoint_pages)
    static_cast<wal_checkpointer*>(checkpointer)->request();
  return SQLITE_OK;
}

} // namespace

std::unique_ptr<wal_checkpointer>
wal_checkpointer::attach(const database_settings& cfg, soci::session& writer) {
  auto own = open_session(cfg, session_mode::write);
  if (!own) {
    CQRS_LOG(warning, "checkpointer",
             "cannot open a checkpoint connection, commits keep SQLite's "
             "automatic checkpoint: "
                 << error_message(own.error()));
    return nullptr;
  }
  std::unique_ptr<wal_checkpointer> result{
      new wal_checkpointer(std::move(*own), writer, cfg.sqlite_path)};
  // Replaces SQLite's automatic checkpoint, which is a WAL hook too.
  sq::sqlite3_wal_hook(native(writer), on_wal_commit, result.get());
  sq::sqlite3_exec(
      native(writer),
      ("PRAGMA journal_size_limit=" + std::to_string(wal_size_limit_bytes))
          .c_str(),
      nullptr, nullptr, nullptr);
  result->thread_ = std::thread{[ptr = result.get()] { ptr->run(); }};
  return result;
}

wal_checkpointer::wal_checkpointer(std::unique_ptr<soci::session> own,
                                   soci::session& writer, std::string path)
    : own_(std::move(own)), writer_(writer), path_(std::move(path)) {
  // nop
}

wal_checkpointer::~wal_checkpointer() {
  sq::sqlite3_wal_autocheckpoint(native(writer_), checkpoint_pages);
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void wal_checkpointer::request() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (requested_)
      return;
    requested_ = true;
  }
  cv_.notify_one();
}

uint64_t wal_checkpointer::completed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return completed_;
}

void wal_checkpointer::run() {
  std::unique_lock<std::mutex> guard{mtx_};
  for (;;) {
    cv_.wait(guard, [this] { return requested_ || stopping_; });
    if (stopping_)
      break;
    requested_ = false;
    guard.unlock();
    auto ok = checkpoint();
    guard.lock();
    if (ok)
      ++completed_;
  }
  guard.unlock();
  // What the last writes left in the WAL goes to the database file now
  // rather than at the next start.
  checkpoint();
}

bool wal_checkpointer::checkpoint() {
  int wal_frames = 0;
  int copied = 0;
  auto rc = sq::sqlite3_wal_checkpoint_v2(
      native(*own_), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
  if (rc != SQLITE_OK) {
    CQRS_LOG(warning, "checkpointer",
             "checkpoint of "
                 << path_ << " failed: " << sq::sqlite3_errmsg(native(*own_))
                 << " (the WAL keeps growing until one succeeds)");
    return false;
  }
  CQRS_LOG(debug, "checkpointer",
           "copied " << copied << " of " << wal_frames << " WAL frames into "
                     << path_);
  return true;
}

} // namespace cqrs
