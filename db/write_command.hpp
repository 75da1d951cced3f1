// Private to db/: one command of the write store in two steps, its checks
// (reads only, the only place it is refused) and then its writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "db/write_sql.hpp"
#include "model/command.hpp"
#include "model/domain.hpp"

namespace cqrs {

class statement_cache;

} // namespace cqrs

namespace cqrs::detail {

/// The rows of a command sorted by node.
struct command_shape {
  /// Per node, the indexes of its rows in `command::rows`, in command order.
  std::vector<std::vector<size_t>> rows_of;
  /// Per row, its index in its parent's array (0 for other rows).
  std::vector<uint32_t> item;
};

/// One existing row of the aggregate, as the checks read it.
struct existing_row {
  row_id id = 0;
  /// The values of the table's `keyed_columns`, in that order.
  std::vector<field_value> keyed;
};

/// What a command's checks found, for its writes.
struct found_rows {
  /// Per node, its existing rows in the aggregate (update, remove), by
  /// ascending id.
  std::vector<std::vector<existing_row>> of_node;
  /// The check statement already wrote every row (see `check_sql::writes`).
  bool written = false;
};

/// Everything the steps of one command use.
struct write_context {
  statement_cache& q;
  const domain& d;
  const resource_decl& r;
  const resource_sql& sql;
  const command& cmd;
  const command_shape& shape;
};

/// Sorts the rows of `cmd` by node and checks that they fit the resource
/// `r`: the root first, each row's parent before it and of the parent node,
/// one value per column, exactly one row of each owned single child per
/// parent row. Returns `ec::internal` naming what does not fit.
caf::expected<command_shape> shape_of(const domain& d, const resource_decl& r,
                                      const command& cmd);

/// Runs the checks of `x.cmd`: reads only (on PostgreSQL, an update of a
/// resource without owned arrays also writes when they pass; see
/// `check_sql::writes`). Returns the error that refuses the command, the
/// first of: `ec::not_found`, `ec::missing_reference`,
/// `ec::duplicate_value`, `ec::still_referenced`; or what its writes need.
/// Throws on database errors.
caf::expected<found_rows> check_command(const write_context& x);

/// Writes `x.cmd`, whose checks passed and found `found`. Returns the root's
/// id and the changed keys, sorted and without duplicates; `seq` is left
/// for the caller. Throws on database errors, and refuses nothing.
write_result write_command(const write_context& x, const found_rows& found);

/// "body", "body.child", "body.copies[2]": the path of row `row` of `x.cmd`
/// as validation names it.
std::string row_path(const write_context& x, size_t row);

} // namespace cqrs::detail
