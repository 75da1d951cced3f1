// The read side of the database: the items and lists of a domain's views
// with their snapshot seq and dependencies, and the commit log.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "config/settings.hpp"
#include "model/domain.hpp"
#include "model/query.hpp"
#include "model/value.hpp"

namespace soci {
class session;
} // namespace soci

namespace cqrs {

class statement_cache;

/// A view or list read in one snapshot.
struct view_snapshot {
  /// False: the item does not exist (404). Lists are always found.
  bool found = false;
  /// The JSON answer when found.
  std::string body;
  /// `max(commit_log.seq)` in the same snapshot: the last commit the read
  /// reflects.
  seq_t read_seq = 0;
  /// The keys (model/row_key.hpp) of what the answer was built from,
  /// deduplicated. A commit after `read_seq` that names one of them (or a
  /// row of a table whose `table_key` is here) may change the answer; no
  /// other commit can. They are:
  ///
  /// - `row_key(t, id)` for every row read, of every source of the view and
  ///   of its collections: an update or delete of the row names it. For an
  ///   item whose root does not exist, the root's key alone: the insert
  ///   that creates it names it (negative caching).
  /// - `column_key(t, c, parent_id)` for every backward join `t.c` from a
  ///   row that was found, whether or not it found a row: a row of `t`
  ///   that starts or stops pointing at the parent names it (the writer
  ///   names the old and new value of every references column of each row
  ///   it writes). E.g. the backward join to an owned single child: a root
  ///   read while its child did not exist yet (404) must go when the child
  ///   is written.
  /// - `column_key(from, by, parent_id)` for every collection under a row
  ///   that was found: "a new child row changes the collections of its
  ///   parent" (DOMAIN.md), and so does a deleted or moved one, even one
  ///   that sorts past the collection's `limit`.
  /// - `table_key(t)` for the tables on the join path to a collection's
  ///   `order_by` field, when a parent had more rows than `limit`: a change
  ///   there may move a row that was not read into the first `limit`.
  /// - For a list, the keys of its membership, besides those of the items
  ///   it returned. For each source on the join path from the root to a
  ///   source filtered in this query, or to a backward inner join (and the
  ///   root itself): `column_key(t, c, value)` for each filter `c = value`
  ///   on it, else `table_key(t)`. "A new root row joined to an existing
  ///   row can enter a list filtered through that row": books filtered by
  ///   `author.country_id` depend on `book:*`, which the new book's row key
  ///   evicts. "Moving a joined row (e.g. a depot to another region) moves
  ///   roots in and out of such lists": the depot's write names
  ///   `depot.region_id=<old>` and `depot.region_id=<new>`. Forward inner
  ///   joins cannot change membership (a referenced row cannot be deleted,
  ///   ids are never reused), and left joins never remove roots.
  std::vector<std::string> dependencies;
};

/// One row of `commit_log`.
struct commit_entry {
  seq_t seq = 0;
  std::vector<std::string> changed;
};

/// Read-only access to the database. Every method reads one snapshot: a
/// single statement where one suffices (views without collections), else
/// one read transaction.
class read_store {
public:
  /// Opens a read-only session and generates the SQL of every view of `d`.
  static caf::expected<std::unique_ptr<read_store>>
  open(const database_settings& cfg, std::shared_ptr<const domain> d);

  ~read_store();

  /// Reads the item or list page `q` asks for: its JSON answer (keys in the
  /// order of `fields`, then collections), the seq it reflects and what it
  /// depends on. A list's `limit` is kept within 1..`max_limit`.
  caf::expected<view_snapshot> read(const query& q);

  /// Commits with `after < seq <= up_to`, in seq order, at most `limit`.
  caf::expected<std::vector<commit_entry>> commits(seq_t after, seq_t up_to,
                                                   size_t limit);

  /// `max(commit_log.seq)`, 0 when empty.
  caf::expected<seq_t> current_seq();

private:
  struct plans;

  read_store(std::unique_ptr<soci::session> sql, database_backend backend,
             std::shared_ptr<const domain> d);

  caf::expected<view_snapshot> read_list(const query& q);

  std::unique_ptr<soci::session> sql_;
  // The statements run on `sql_`; declared after it, so they go first.
  std::unique_ptr<statement_cache> statements_;
  database_backend backend_;
  std::shared_ptr<const domain> domain_;
  // The SQL of every view, and of the lists built so far.
  std::unique_ptr<plans> plans_;
};

} // namespace cqrs
