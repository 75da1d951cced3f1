// A command's checks: one statement that reads whatever can refuse it, and
// the refusal, worded as validation words its errors.
#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <soci/soci.h>

#include "common/error.hpp"
#include "db/statement_cache.hpp"
#include "db/write_command.hpp"
#include "db/write_values.hpp"
#include "model/row_key.hpp"

namespace cqrs::detail {

namespace {

// -- refusals -----------------------------------------------------------------

caf::error malformed(const std::string& what) {
  return make_cqrs_error(ec::internal, "malformed command: " + what);
}

std::string field_path(const write_context& x, size_t row, size_t column) {
  const auto& node = x.r.nodes[x.cmd.rows[row].node];
  return row_path(x, row) + "." + x.d.tables[node.table].columns[column].name;
}

// A value of the command that a check refuses: its row and column.
struct culprit {
  size_t row = 0;
  size_t column = 0;
  size_t check = 0;
  // duplicate_value: the row of the first occurrence of a repeated value,
  // or the row holding it when the check read it.
  std::optional<size_t> first;
  std::optional<long long> holder;

  bool before(const culprit& other) const {
    return std::pair{row, column} < std::pair{other.row, other.column};
  }
};

// Runs the one-probe statement `s` and reads one integer; nothing for NULL
// or no row.
std::optional<long long> probe(const write_context& x, const write_statement& s,
                               const field_value& value) {
  bound_values values{s.params.size()};
  bind_source src;
  src.cmd = &x.cmd;
  src.rows_of = &x.shape.rows_of;
  src.probe = &value;
  long long result = 0;
  soci::indicator ind = soci::i_null;
  bool got = x.q.exec_with(s.text, [&](soci::statement& st) {
    bind_params(st, values, s, src);
    st.exchange(soci::into(result, ind));
  });
  if (!got || ind != soci::i_ok)
    return std::nullopt;
  return result;
}

// -- the check statement ------------------------------------------------------

// Reads the rows of the check statement: the checks' values into `checks`,
// the existing rows into `found`.
void read_checks(const write_context& x, const check_sql& c,
                 std::vector<std::optional<long long>>& checks,
                 found_rows& found) {
  const auto first_slot = 2 + c.checks.size();
  const auto columns = first_slot + c.slot_types.size();
  std::vector<long long> integers(columns, 0);
  std::vector<double> numbers(columns, 0);
  std::vector<std::string> texts(columns);
  std::vector<soci::indicator> inds(columns, soci::i_null);
  auto type_of = [&](size_t column) {
    return column < first_slot ? column_type::integer
                               : c.slot_types[column - first_slot];
  };
  // Takes the row of node `n` whose id is in column `id_column`, if any.
  auto take = [&](size_t n, size_t id_column) {
    if (inds[id_column] != soci::i_ok)
      return;
    existing_row row;
    row.id = integers[id_column];
    const auto& table = x.d.tables[x.r.nodes[n].table];
    row.keyed.reserve(table.keyed_columns.size());
    for (size_t k = 0; k < table.keyed_columns.size(); ++k) {
      auto column = c.keyed_column[n] + k;
      field_value v;
      if (inds[column] == soci::i_ok) {
        switch (type_of(column)) {
        case column_type::text:
          v = field_value::of_text(texts[column]);
          break;
        case column_type::number:
          v = field_value::of_number(numbers[column]);
          break;
        case column_type::boolean:
          v = field_value::of_boolean(integers[column] != 0);
          break;
        case column_type::integer:
        case column_type::reference:
          v = field_value::of_integer(integers[column]);
          break;
        }
      }
      row.keyed.push_back(std::move(v));
    }
    found.of_node[n].push_back(std::move(row));
  };
  auto take_row = [&] {
    if (integers[0] >= 0) {
      take(static_cast<size_t>(integers[0]), 1);
      return;
    }
    for (size_t i = 0; i < c.checks.size(); ++i)
      if (inds[2 + i] == soci::i_ok)
        checks[i] = integers[2 + i];
    if (x.cmd.op != operation::create)
      for (size_t n = 0; n < x.r.nodes.size(); ++n)
        if (x.sql.scalar[n])
          take(n, c.id_column[n]);
  };
  bound_values values{c.statement.params.size()};
  bind_source src;
  src.cmd = &x.cmd;
  src.rows_of = &x.shape.rows_of;
  x.q.exec_with(
      c.statement.text,
      [&](soci::statement& st) {
        bind_params(st, values, c.statement, src);
        for (size_t i = 0; i < columns; ++i) {
          switch (type_of(i)) {
          case column_type::text:
            st.exchange(soci::into(texts[i], inds[i]));
            break;
          case column_type::number:
            st.exchange(soci::into(numbers[i], inds[i]));
            break;
          default:
            st.exchange(soci::into(integers[i], inds[i]));
          }
        }
      },
      [&](soci::statement& st) {
        do
          take_row();
        while (st.fetch());
      });
  for (auto& rows : found.of_node)
    std::sort(rows.begin(), rows.end(),
              [](const existing_row& a, const existing_row& b) {
                return a.id < b.id;
              });
}

// -- the order of refusals ----------------------------------------------------

// The row of node `n` that a check's value `value` names: its only row, or
// the one at index `value` of a list.
std::optional<size_t> row_of_check(const write_context& x,
                                   const write_check& check, long long value) {
  const auto& rows = x.shape.rows_of[check.node];
  auto index = check.list ? value : 0;
  if (index < 0 || static_cast<size_t>(index) >= rows.size())
    return std::nullopt;
  return rows[static_cast<size_t>(index)];
}

// The first value repeated within the body in a unique column of an owned
// array, named at its second occurrence.
std::optional<culprit> first_repeat(const write_context& x) {
  std::optional<culprit> result;
  for (size_t n = 0; n < x.r.nodes.size(); ++n) {
    const auto& rows = x.shape.rows_of[n];
    if (rows.size() < 2)
      continue;
    const auto& table = x.d.tables[x.r.nodes[n].table];
    for (size_t c = 0; c < table.columns.size(); ++c) {
      if (!table.columns[c].unique || (n != 0 && x.r.nodes[n].by == c))
        continue;
      std::map<std::string, size_t> seen;
      for (auto row : rows) {
        const auto& v = x.cmd.rows[row].values[c];
        if (v.is_null())
          continue;
        // Text as it is: value_text hashes long text.
        auto key = v.kind == value_kind::text ? v.text : value_text(v);
        auto [at, fresh] = seen.emplace(std::move(key), row);
        if (fresh)
          continue;
        culprit found{row, c, 0, at->second, std::nullopt};
        if (!result || found.before(*result))
          result = found;
        break;
      }
    }
  }
  return result;
}

caf::error refuse_missing_reference(const write_context& x,
                                    const culprit& bad) {
  const auto& node = x.r.nodes[x.cmd.rows[bad.row].node];
  const auto& col = x.d.tables[node.table].columns[bad.column];
  const auto& v = x.cmd.rows[bad.row].values[bad.column];
  return make_cqrs_error(ec::missing_reference,
                         "field '" + field_path(x, bad.row, bad.column) +
                             "': " + col.references + " " + value_text(v) +
                             " does not exist");
}

caf::error refuse_duplicate(const write_context& x, const check_sql& c,
                            const culprit& bad) {
  const auto& node = x.r.nodes[x.cmd.rows[bad.row].node];
  const auto& table = x.d.tables[node.table];
  auto path = "field '" + field_path(x, bad.row, bad.column) + "'";
  auto unique =
      table.name + "." + table.columns[bad.column].name + " must be unique";
  if (bad.first)
    return make_cqrs_error(ec::duplicate_value,
                           path + " repeats the value of '" +
                               field_path(x, *bad.first, bad.column) + "'; " +
                               unique);
  auto holder = bad.holder;
  const auto& check = c.checks[bad.check];
  if (check.list && check.follow_up >= 0)
    holder = probe(x, c.follow_ups[check.follow_up],
                   x.cmd.rows[bad.row].values[bad.column]);
  auto who = holder ? table.name + " " + std::to_string(*holder)
                    : "another row of " + table.name;
  return make_cqrs_error(ec::duplicate_value,
                         path + ": " + who + " already holds this value; " +
                             unique);
}

caf::error refuse_still_referenced(const write_context& x, const check_sql& c,
                                   const write_check& check, long long id) {
  long long count = 0;
  if (check.follow_up >= 0)
    count = probe(x, c.follow_ups[check.follow_up], field_value::of_integer(id))
                .value_or(0);
  const auto& removed = x.d.tables[x.r.nodes[check.node].table];
  const auto& referencing = x.d.tables[check.referencing_table];
  return make_cqrs_error(
      ec::still_referenced,
      removed.name + " " + std::to_string(id) + " is still referenced by " +
          std::to_string(count) + (count == 1 ? " row" : " rows") + " of " +
          referencing.name + "." +
          referencing.columns[check.referencing_column].name);
}

// The first refusal of the command whose checks read `checks` and `found`,
// in the order of DOMAIN.md: 1. its root row exists (update, remove); 2. the
// first missing reference, 3. the first duplicate, by the order of rows and
// columns; 4. the first row still referenced. Nothing when it passes.
caf::error first_refusal(const write_context& x, const check_sql& c,
                         const std::vector<std::optional<long long>>& checks,
                         const found_rows& found) {
  if (x.cmd.op != operation::create && found.of_node[0].empty())
    return make_cqrs_error(ec::not_found, x.d.tables[x.r.nodes[0].table].name +
                                              " " + std::to_string(x.cmd.id) +
                                              " does not exist");
  std::optional<culprit> missing;
  std::optional<culprit> duplicate = first_repeat(x);
  for (size_t i = 0; i < c.checks.size(); ++i) {
    if (!checks[i])
      continue;
    const auto& check = c.checks[i];
    if (check.kind == write_check::still_referenced)
      continue;
    auto row = row_of_check(x, check, *checks[i]);
    if (!row)
      return make_cqrs_error(ec::internal, "a check read an unknown row");
    culprit here{*row, check.column, i, std::nullopt, std::nullopt};
    if (check.kind == write_check::duplicate_value && !check.list)
      here.holder = *checks[i];
    auto& slot =
        check.kind == write_check::missing_reference ? missing : duplicate;
    if (!slot || here.before(*slot))
      slot = here;
  }
  if (missing)
    return refuse_missing_reference(x, *missing);
  if (duplicate)
    return refuse_duplicate(x, c, *duplicate);
  for (size_t i = 0; i < c.checks.size(); ++i)
    if (checks[i] && c.checks[i].kind == write_check::still_referenced)
      return refuse_still_referenced(x, c, c.checks[i], *checks[i]);
  return {};
}

} // namespace

// -- shape --------------------------------------------------------------------

caf::expected<command_shape> shape_of(const domain& d, const resource_decl& r,
                                      const command& cmd) {
  command_shape shape;
  shape.rows_of.resize(r.nodes.size());
  if (cmd.op == operation::remove)
    return shape;
  const auto& rows = cmd.rows;
  if (rows.empty() || rows[0].node != 0 || rows[0].parent != -1)
    return malformed("the root row must come first");
  shape.item.assign(rows.size(), 0);
  // Per row and child node: how many rows it has of that child.
  std::vector<std::vector<uint32_t>> children(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    if (row.node >= r.nodes.size())
      return malformed("row " + std::to_string(i) + " has no node");
    const auto& node = r.nodes[row.node];
    if (row.values.size() != d.tables[node.table].columns.size())
      return malformed("row " + std::to_string(i) + " has " +
                       std::to_string(row.values.size()) + " values");
    if (i != 0) {
      if (row.parent < 0 || static_cast<size_t>(row.parent) >= i ||
          rows[row.parent].node != node.parent)
        return malformed("row " + std::to_string(i) + " has no parent row");
      auto& counts = children[row.parent];
      counts.resize(r.nodes.size(), 0);
      shape.item[i] = counts[row.node]++;
    }
    shape.rows_of[row.node].push_back(i);
  }
  for (size_t i = 0; i < rows.size(); ++i)
    for (auto child : r.nodes[rows[i].node].children)
      if (!r.nodes[child].many &&
          (children[i].size() <= child || children[i][child] != 1))
        return malformed("row " + std::to_string(i) + " needs one '" +
                         r.nodes[child].field + "'");
  return shape;
}

std::string row_path(const write_context& x, size_t row) {
  const auto& r = x.cmd.rows[row];
  if (r.parent < 0)
    return "body";
  const auto& node = x.r.nodes[r.node];
  auto result = row_path(x, static_cast<size_t>(r.parent)) + "." + node.field;
  if (node.many)
    result += "[" + std::to_string(x.shape.item[row]) + "]";
  return result;
}

// -- checks -------------------------------------------------------------------

caf::expected<found_rows> check_command(const write_context& x) {
  const auto& c = x.sql.checks[static_cast<size_t>(x.cmd.op)];
  found_rows found;
  found.of_node.resize(x.r.nodes.size());
  std::vector<std::optional<long long>> checks(c.checks.size());
  if (!c.statement.empty())
    read_checks(x, c, checks, found);
  auto refusal = first_refusal(x, c, checks, found);
  if (c.writes) {
    // The statement wrote when every node's row exists and every check
    // passed, which refuses nothing here either; a refusal after a write
    // would commit with the batch, so it fails the batch instead.
    bool wrote = std::all_of(found.of_node.begin(), found.of_node.end(),
                             [](const auto& rows) { return !rows.empty(); });
    wrote = wrote && std::none_of(checks.begin(), checks.end(),
                                  [](const auto& v) { return v.has_value(); });
    if (wrote && refusal)
      throw std::logic_error("a command was refused after its writes: " +
                             error_message(refusal));
    found.written = wrote;
  }
  if (refusal)
    return refusal;
  return found;
}

} // namespace cqrs::detail
