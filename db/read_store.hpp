// The read side of the database: flat views with their snapshot seq and
// dependencies, and the commit log.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "config/settings.hpp"
#include "model/views.hpp"

namespace soci {
class session;
} // namespace soci

namespace cqrs {

class statement_cache;

/// A view read in one read transaction together with `max(commit_log.seq)`.
template <class T> struct snapshot {
  /// The view, or nothing when the addressed row does not exist.
  std::optional<T> value;
  /// The last commit the read reflects.
  seq_t read_seq = 0;
  /// Row keys the view was built from; a change to any of them invalidates
  /// it. For a missing row, the key of the row that was looked for.
  std::vector<std::string> dependencies;
};

/// One row of `commit_log`.
struct commit_entry {
  seq_t seq = 0;
  std::vector<std::string> changed;
};

/// Read-only access to the database. Every method reads one snapshot: a
/// single statement where one suffices, else one read transaction.
class read_store {
public:
  /// Opens a read-only session.
  static caf::expected<std::unique_ptr<read_store>>
  open(const database_settings& cfg);

  ~read_store();

  /// The object view with id `id`: one join over the four tables.
  caf::expected<snapshot<object_view>> object(row_id id);

  /// A page of object views ordered by id; see `query` for the filters. The
  /// dependencies are the four tables as a whole.
  caf::expected<snapshot<object_page>> objects(const query& q);

  caf::expected<snapshot<category>> category_by_id(row_id id);

  caf::expected<snapshot<related_object>> related_object_by_id(row_id id);

  /// Commits with `after < seq <= up_to`, in seq order, at most `limit`.
  caf::expected<std::vector<commit_entry>> commits(seq_t after, seq_t up_to,
                                                   size_t limit);

  /// `max(commit_log.seq)`, 0 when empty.
  caf::expected<seq_t> current_seq();

private:
  read_store(std::unique_ptr<soci::session> sql, database_backend backend);

  std::unique_ptr<soci::session> sql_;
  // The statements run on `sql_`; declared after it, so they go first.
  std::unique_ptr<statement_cache> statements_;
  database_backend backend_;
};

} // namespace cqrs
