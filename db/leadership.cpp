// The leader lock on PostgreSQL and the writer lock on SQLite.
#include "db/leadership.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <soci/soci.h>

#include "common/error.hpp"
#include "db/schema.hpp"
#include "db/soci_mapping.hpp"

namespace cqrs {

// -- PostgreSQL ---------------------------------------------------------------

caf::expected<std::unique_ptr<soci::session>>
open_leader_session(const database_settings& cfg,
                    std::chrono::milliseconds lease) {
  auto sql = open_session(cfg, session_mode::write);
  if (!sql)
    return sql;
  // Three keepalive probes a second apart after a quiet spell: together
  // about one lease. TCP keepalive settings are whole seconds, at least 1.
  auto lease_ms = std::max<long long>(lease.count(), 1000);
  auto idle_s = std::max<long long>((lease_ms - 3000) / 1000, 1);
  auto ms = std::to_string(lease_ms) + "ms";
  try {
    // On a Unix-domain socket the server ignores the TCP settings; the
    // idle timeouts still bound a frozen holder.
    **sql << "SET idle_session_timeout = '" + ms +
                 "'; SET idle_in_transaction_session_timeout = '" + ms +
                 "'; SET tcp_keepalives_idle = " + std::to_string(idle_s) +
                 "; SET tcp_keepalives_interval = 1"
                 "; SET tcp_keepalives_count = 3"
                 "; SET tcp_user_timeout = " +
                 std::to_string(lease_ms);
  } catch (const std::exception& e) {
    return detail::database_error(
        "cannot bound the leader session's lifetime (PostgreSQL 14 or "
        "later is needed for idle_session_timeout)",
        e);
  }
  return sql;
}

caf::expected<bool> try_leader_lock(soci::session& sql) {
  try {
    int taken = 0;
    sql << "SELECT CASE WHEN pg_try_advisory_lock(" +
               std::to_string(leader_lock_key) + ") THEN 1 ELSE 0 END",
        soci::into(taken);
    return taken == 1;
  } catch (const std::exception& e) {
    return detail::database_error("cannot try the leader lock", e);
  }
}

bool holds_leader_lock(soci::session& sql) noexcept {
  // A bigint advisory key shows in pg_locks as its high and low 32 bits,
  // with objsubid 1.
  static const std::string query =
      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
      " AND pid = pg_backend_pid() AND granted AND objsubid = 1"
      " AND classid = " +
      std::to_string(leader_lock_key >> 32) +
      " AND objid = " + std::to_string(leader_lock_key & 0xffffffffLL);
  try {
    if (!sql.is_connected())
      return false;
    long long held = 0;
    sql << query, soci::into(held);
    return held == 1;
  } catch (...) {
    return false;
  }
}

bool leader_ping(soci::session& sql) noexcept {
  try {
    if (!sql.is_connected())
      return false;
    int one = 0;
    sql << "SELECT 1", soci::into(one);
    return one == 1;
  } catch (...) {
    return false;
  }
}

// -- SQLite -------------------------------------------------------------------

caf::expected<std::unique_ptr<sqlite_writer_lock>>
sqlite_writer_lock::acquire(const database_settings& cfg) {
  namespace fs = std::filesystem;
  auto path = cfg.sqlite_path + ".writer-lock";
  std::error_code ignored;
  auto parent = fs::path{cfg.sqlite_path}.parent_path();
  if (!parent.empty())
    fs::create_directories(parent, ignored); // open() below says what failed
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_cqrs_error(ec::database_unavailable,
                           "cannot open the writer lock file " + path + ": " +
                               std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    auto code = errno;
    char holder[32] = {};
    auto n = ::pread(fd, holder, sizeof holder - 1, 0);
    ::close(fd);
    if (code != EWOULDBLOCK)
      return make_cqrs_error(ec::database_unavailable, "cannot lock " + path +
                                                           ": " +
                                                           std::strerror(code));
    std::string pid{holder, n > 0 ? static_cast<size_t>(n) : 0};
    pid.erase(std::remove(pid.begin(), pid.end(), '\n'), pid.end());
    return make_cqrs_error(
        ec::database_unavailable,
        "the SQLite database " + cfg.sqlite_path +
            " is already written by another cqrsd node" +
            (pid.empty() ? "" : " (pid " + pid + ")") + ", which holds " +
            path +
            ". SQLite allows one command node: stop the other one, or use "
            "PostgreSQL (database.backend: postgresql) to run a standby "
            "command node");
  }
  // Who holds it, for the message above; the lock, not the text, decides.
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // Only the message of a refused node loses the pid.
  }
  return std::unique_ptr<sqlite_writer_lock>{new sqlite_writer_lock(fd)};
}

sqlite_writer_lock::~sqlite_writer_lock() {
  ::close(fd_);
}

} // namespace cqrs
