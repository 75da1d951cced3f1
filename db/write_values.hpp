// Private to db/: binding a command's values to the write store's generated
// statements, and reading values back.
#pragma once

#include <string>
#include <vector>

#include <soci/soci.h>

#include "db/write_sql.hpp"
#include "model/command.hpp"
#include "model/domain.hpp"

namespace cqrs::detail {

/// Keeps the values bound to one run of a statement alive and in place
/// (SOCI binds references) until the run ends.
class bound_values {
public:
  /// Room for `capacity` values; binding more is a bug (it would move the
  /// values SOCI refers to).
  explicit bound_values(size_t capacity);

  /// Binds `v` as a value of a column of `type`; null binds NULL. Text is
  /// bound in place: `v` must outlive the run.
  void bind(soci::statement& st, const field_value& v, column_type type);

  /// Binds an id.
  void bind_id(soci::statement& st, row_id id);

  /// Binds a text (a JSON array).
  void bind_text(soci::statement& st, std::string text);

private:
  std::vector<long long> integers_;
  std::vector<double> numbers_;
  std::vector<std::string> texts_;
  std::vector<soci::indicator> indicators_;
};

/// Where the placeholders of one run of a statement take their values.
struct bind_source {
  const command* cmd = nullptr;
  /// Per node, the indexes of its rows in `cmd->rows`, in command order.
  const std::vector<std::vector<size_t>>* rows_of = nullptr;
  /// The row being written: its values, its parent's id and its id.
  const std::vector<field_value>* values = nullptr;
  row_id parent = 0;
  row_id id = 0;
  /// `write_param::probe`.
  const field_value* probe = nullptr;
  /// `write_param::row_list`.
  const std::string* row_list = nullptr;
};

/// Binds every placeholder of `s`, in order, from `src`.
void bind_params(soci::statement& st, bound_values& values,
                 const write_statement& s, const bind_source& src);

/// Appends `v`, a value of a column of `type`, to `out` as JSON: what
/// PostgreSQL's json functions and SQLite's json_each read back as the same
/// value (numbers round-trip, booleans as true/false).
void append_json(std::string& out, const field_value& v, column_type type);

/// `v` as a value of a column of `type` (a number given as an integer, a
/// boolean as 0/1).
field_value as_column_value(const field_value& v, column_type type);

} // namespace cqrs::detail
