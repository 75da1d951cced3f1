// Private to db/: reads items and pages of views with the generated
// statements, and turns their rows into JSON answers and dependency keys.
#pragma once

#include <cstdint>

#include "db/read_store.hpp"
#include "db/view_sql.hpp"
#include "model/domain.hpp"
#include "model/query.hpp"

namespace cqrs {

class statement_cache;

/// Runs the statements of `view_sql` and `list_sql` on one session. Every
/// method throws what SOCI throws; the caller runs it inside one statement
/// or read transaction and turns failures into errors.
class view_reader {
public:
  view_reader(const domain& d, statement_cache& statements)
      : domain_(d), statements_(statements) {
    // nop
  }

  /// Reads the item `id` of view `v`, with its collections, and the seq of
  /// the snapshot the item statement read. Views with collections must run
  /// inside one read transaction.
  view_snapshot item(const view_sql& v, row_id id);

  /// Reads a page of at most `limit` items of view `v` as `q` asks, with
  /// the list statement `l` made for the filters `q` gives. Views with
  /// collections must run inside one read transaction.
  view_snapshot list(const view_sql& v, const list_sql& l, const query& q,
                     uint32_t limit);

private:
  const domain& domain_;
  statement_cache& statements_;
};

} // namespace cqrs
