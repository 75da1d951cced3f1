// Private to db/: the SQL text of every view, collection and list of a
// domain, generated once from the declaration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "model/domain.hpp"

namespace cqrs {

// -- select lists -------------------------------------------------------------

/// How one column of a generated select list is read: `integer` (ids,
/// integers and references) into `long long`, `number` into `double`, `text`
/// into `std::string`, `boolean` into `long long` 0/1 (PostgreSQL's BOOLEAN
/// is selected as `CAST(x AS INTEGER)`).
enum class sql_value : uint8_t { integer, number, text, boolean };

/// The columns every statement of one scope (a view, or a collection)
/// selects, named `c0`, `c1`...: first the id of each source, in source
/// order (NULL where a left join found no row), then one column per field
/// that reads a declared column. A field that reads `id` uses its source's
/// id column.
struct scope_columns {
  /// One per column.
  std::vector<sql_value> types;
  /// Per resolved field of the scope: the index of its column.
  std::vector<size_t> field_column;
};

// -- statements ---------------------------------------------------------------

/// The largest number of parent rows one collection statement reads for.
inline constexpr size_t max_collection_batch = 512;

/// The statements of one collection (and of the collections nested in it).
struct collection_sql {
  /// The declaration, in the domain the statements were made from.
  const collection_decl* decl = nullptr;
  /// Index of the collection's `from` table in `domain::tables`.
  size_t table = 0;
  scope_columns columns;
  /// `batch[k]` reads the collection for up to 2^k parent rows at once. It
  /// binds `:p0`...`:p<2^k - 1>` (parent ids; 0 pads, as no id is 0), then
  /// `:fetch`, the most rows per parent. It selects `p` (the parent id),
  /// then `columns`, with real inner and left joins, ordered by parent,
  /// then in the collection's order (`order_by` ascending, NULL first, text
  /// by code point, ties by id).
  std::vector<std::string> batch;
  /// The sources other than the root on the join path to the source of the
  /// `order_by` field: when a parent has more rows than `limit`, a change to
  /// one of these tables may move a row that was not read into the first
  /// `limit`, so the read depends on each of their tables.
  std::vector<size_t> order_sources;
  /// One per collection of the scope, in declared order.
  std::vector<collection_sql> nested;
};

/// The statements of one view's items.
struct view_sql {
  const view_decl* decl = nullptr;
  /// Index of the view's `from` table in `domain::tables`.
  size_t table = 0;
  scope_columns columns;
  /// One statement that reads `max(commit_log.seq)` and the item: it binds
  /// `:id` and selects `seq`, then `columns`, with every join a LEFT JOIN
  /// (the reader applies the inner joins), and always returns one row.
  std::string item;
  /// One per collection of the view, in declared order.
  std::vector<collection_sql> collections;
};

/// Which of a list's filters a query gives, as a text of '0' and '1', one
/// per filter in declared order.
using filter_mask = std::string;

/// A source of a list whose rows decide which roots are members, and the
/// filters on it.
struct membership_source {
  /// Index into the view's sources.
  size_t source = 0;
  /// Indexes (into the list's filters) of the given filters on this
  /// source; empty when there are none.
  std::vector<size_t> filters;
};

/// The statement of one view's list for one filter mask.
struct list_sql {
  /// One statement that reads `max(commit_log.seq)` and a page: it binds
  /// `:after`, then `:f<i>` for each given filter i, then `:fetch` (the page
  /// size plus one), and selects `seq`, then the view's `columns`, with
  /// real inner and left joins, ordered by root id. With no matching row it
  /// returns one row whose columns other than `seq` are NULL.
  std::string text;
  /// The root and every source on the join path from the root to a source
  /// with a given filter, or to a backward inner join, in source order.
  std::vector<membership_source> membership;
};

/// Generates the statements of view `v` of domain `d` for `backend`.
view_sql make_view_sql(const domain& d, const view_decl& v,
                       database_backend backend);

/// Generates the list statement of view `v` (which has a list) for the
/// filters that `mask` gives.
list_sql make_list_sql(const domain& d, const view_decl& v,
                       const filter_mask& mask, database_backend backend);

/// Returns `name` as a double-quoted SQL identifier.
std::string quote_identifier(const std::string& name);

} // namespace cqrs
