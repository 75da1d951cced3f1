// The SQL of the write store, generated once per resource from the domain's
// declaration: each command's checks, and the writes of each of its tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "model/command.hpp"
#include "model/domain.hpp"

namespace cqrs::detail {

// -- statements ---------------------------------------------------------------

/// Where the value of one placeholder comes from.
struct write_param {
  enum kind_t : uint8_t {
    /// The command's `id`: the root row of an update or removal.
    root_id,
    /// The value of `column` in the one row of the scalar node `node`.
    node_value,
    /// The values of `column` in the rows of node `node`, in command order,
    /// as one JSON array (nulls included, so indexes follow the rows);
    /// `type` is the column's.
    node_list,
    /// The value of `column` in the row being written.
    row_value,
    /// The rows being written, as the JSON array that `insert_rows` reads.
    row_list,
    /// The id of the parent row of the row being written.
    parent_id,
    /// The id of the row being written.
    row_id,
    /// The value a follow-up statement looks for, of type `type`.
    probe,
  };
  kind_t kind = root_id;
  uint16_t node = 0;
  uint16_t column = 0;
  /// The type of the bound value (ids are `integer`; a list's elements).
  column_type type = column_type::integer;
};

/// A generated statement: its text and, in the order of its placeholders
/// (each used once), where their values come from.
struct write_statement {
  std::string text;
  std::vector<write_param> params;

  bool empty() const noexcept { return text.empty(); }
};

// -- a command's checks -------------------------------------------------------

/// One check of a command, a column of the check row. Each reads NULL when
/// the command passes it.
struct write_check {
  enum kind_t : uint8_t {
    /// A reference names no row, or one that this write removes. Reads 1
    /// (scalar node) or the index of the first such row among the node's
    /// rows (list).
    missing_reference,
    /// A `unique` value is held by a row this write neither updates in place
    /// nor removes. Reads that row's id (scalar node) or the index of the
    /// first such row among the node's rows (list; `follow_up` then finds
    /// the holder).
    duplicate_value,
    /// A row this write removes is referenced from a row outside the
    /// aggregate (the rows inside are removed too, or updated in place with
    /// new values that `missing_reference` checks). Reads the least such
    /// referenced id; `follow_up` counts its referencing rows.
    still_referenced,
  };
  kind_t kind = missing_reference;
  /// missing_reference, duplicate_value: the node and column whose values
  /// are checked. still_referenced: the node whose rows are removed.
  uint16_t node = 0;
  uint16_t column = 0;
  /// The value of the check is an index into the node's rows.
  bool list = false;
  /// still_referenced: the referencing table and column (indexes into
  /// `domain::tables` and its columns).
  size_t referencing_table = 0;
  size_t referencing_column = 0;
  /// Index into `check_sql::follow_ups`, or -1.
  int follow_up = -1;
};

/// The one statement that checks a command and reads what its writes need.
///
/// Its first row, the check row, has node -1 and holds the value of each
/// check (`checks`, from column 2 on) and, for an update or removal, the
/// existing row of each scalar node `n`: its id (NULL when there is none)
/// in column `id_column[n]`, its keyed values (`table_decl::keyed_columns`)
/// from `keyed_column[n]` on. Each further row is an existing row of a list
/// node `n` of the aggregate: node `n` in column 0, its id in column 1
/// (`id_column[n]`), its keyed values from `keyed_column[n]` on. Every other
/// column is NULL. Booleans read as 0/1.
struct check_sql {
  write_statement statement;
  std::vector<write_check> checks;
  /// Per node (update, remove): see above.
  std::vector<size_t> id_column;
  std::vector<size_t> keyed_column;
  /// The type that each result column from `2 + checks.size()` on reads.
  std::vector<column_type> slot_types;
  /// Statements run only to word a refusal: a duplicate's holder (one
  /// `probe`), a referenced row's count of referencing rows (one `probe`).
  std::vector<write_statement> follow_ups;
  /// PostgreSQL, updates of resources without owned arrays: the statement
  /// also writes every row, but only when every check passed and every
  /// node's row exists (which the caller sees in its result).
  bool writes = false;
};

// -- a table's writes ---------------------------------------------------------

/// The writes of one node of a resource.
struct node_sql {
  /// Inserts one row (`row_value`s, `parent_id` for the `by` column).
  write_statement insert_row;
  /// `insert_row` returns the new id (PostgreSQL); otherwise it is
  /// `last_insert_rowid()` (SQLite).
  bool insert_returns_id = false;
  /// PostgreSQL, nodes in or under an owned array: inserts many rows from
  /// one `row_list` and returns their ids, ascending in list order.
  write_statement insert_rows;
  /// Sets every column but `by` of the row `row_id`; empty when there is
  /// none.
  write_statement update_row;
  /// Deletes the node's existing rows of the aggregate `root_id`.
  write_statement delete_rows;
};

/// Everything a resource's commands run.
struct resource_sql {
  /// By `operation`: create, update, remove.
  check_sql checks[3];
  /// Per node.
  std::vector<node_sql> nodes;
  /// Per node: a root, or an owned single child of a scalar node. Such a
  /// node has exactly one row per command; the others (owned arrays and
  /// everything under them) have any number and are replaced on update.
  std::vector<bool> scalar;
  /// Per table of the domain: its node in this resource, or -1.
  std::vector<int> node_of_table;
};

/// Generates the statements of every resource of `d` (derived), in the order
/// of `d.resources`. Every identifier is double-quoted.
std::vector<resource_sql> generate_write_sql(const domain& d,
                                             database_backend backend);

} // namespace cqrs::detail
