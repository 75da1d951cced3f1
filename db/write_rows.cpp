// A command's writes, whose checks passed: its rows, node by node, and the
// keys they change.
#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <soci/soci.h>

#include "db/statement_cache.hpp"
#include "db/write_command.hpp"
#include "db/write_values.hpp"
#include "model/row_key.hpp"

namespace cqrs::detail {

namespace {

// -- changed keys -------------------------------------------------------------

// The keys a command changes: for each row it inserts, updates or deletes,
// its row key and, for each keyed column, the column keys of its old and its
// new value.
class changed_keys {
public:
  changed_keys() { keys_.reserve(16); }

  void set_table(const table_decl& table) { table_ = &table; }

  void row(row_id id) { keys_.push_back(row_key(table_->name, id)); }

  // The keyed values that a row had, as the checks read them.
  void old_values(const existing_row& row) {
    for (size_t k = 0; k < row.keyed.size(); ++k)
      column(table_->keyed_columns[k], row.keyed[k]);
  }

  // The keyed values that a row gets: `values`, or `parent` for its `by`
  // column `by` (when it has one); none that equals its value in `old`.
  void new_values(const std::vector<field_value>& values,
                  std::optional<size_t> by, row_id parent,
                  const existing_row* old = nullptr) {
    const auto& keyed = table_->keyed_columns;
    for (size_t k = 0; k < keyed.size(); ++k) {
      auto c = keyed[k];
      auto value = by && c == *by
                       ? field_value::of_integer(parent)
                       : as_column_value(values[c], table_->columns[c].type);
      if (old == nullptr || !(old->keyed[k] == value))
        column(c, value);
    }
  }

  std::vector<std::string> take() {
    std::sort(keys_.begin(), keys_.end());
    keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
    return std::move(keys_);
  }

private:
  void column(size_t c, const field_value& v) {
    auto key = column_key(table_->name, table_->columns[c].name, v);
    if (!key.empty())
      keys_.push_back(std::move(key));
  }

  const table_decl* table_ = nullptr;
  std::vector<std::string> keys_;
};

// -- statements ---------------------------------------------------------------

class row_writer {
public:
  row_writer(const write_context& x, const found_rows& found)
      : x_(x), found_(found), ids_(x.cmd.rows.size(), 0) {
    // nop
  }

  write_result run() {
    const auto nodes = x_.r.nodes.size();
    switch (x_.cmd.op) {
    case operation::create:
      for (size_t n = 0; n < nodes; ++n)
        insert(n);
      break;
    case operation::update:
      // The root and its owned single children keep their rows (a missing
      // single child is inserted), the rows of owned arrays are replaced:
      // deleted bottom-up, then inserted in order.
      for (size_t n = 0; n < nodes; ++n)
        if (x_.sql.scalar[n])
          update(n);
      for (size_t n = nodes; n-- > 0;)
        if (!x_.sql.scalar[n])
          remove(n);
      for (size_t n = 0; n < nodes; ++n)
        if (!x_.sql.scalar[n])
          insert(n);
      break;
    case operation::remove:
      for (size_t n = nodes; n-- > 0;)
        remove(n);
      break;
    }
    write_result result;
    result.id = x_.cmd.op == operation::create ? ids_[0] : x_.cmd.id;
    result.changed = keys_.take();
    return result;
  }

private:
  const table_decl& table(size_t n) const {
    return x_.d.tables[x_.r.nodes[n].table];
  }

  std::optional<size_t> by(size_t n) const {
    if (n == 0)
      return std::nullopt;
    return x_.r.nodes[n].by;
  }

  row_id parent_id(size_t row) const {
    auto parent = x_.cmd.rows[row].parent;
    return parent < 0 ? 0 : ids_[static_cast<size_t>(parent)];
  }

  bind_source source() const {
    bind_source src;
    src.cmd = &x_.cmd;
    src.rows_of = &x_.shape.rows_of;
    return src;
  }

  // Runs `s` without reading anything back.
  void exec(const write_statement& s, const bind_source& src) {
    bound_values values{s.params.size()};
    x_.q.exec_with(
        s.text, [&](soci::statement& st) { bind_params(st, values, s, src); });
  }

  // Inserts row `row` of node `n` and returns its id: one round trip on
  // PostgreSQL (INSERT ... RETURNING id), two kept statements on SQLite.
  row_id insert_row(size_t n, size_t row) {
    const auto& s = x_.sql.nodes[n].insert_row;
    auto src = source();
    src.values = &x_.cmd.rows[row].values;
    src.parent = parent_id(row);
    bound_values values{s.params.size()};
    long long id = 0;
    bool returns_id = x_.sql.nodes[n].insert_returns_id;
    x_.q.exec_with(s.text, [&](soci::statement& st) {
      bind_params(st, values, s, src);
      if (returns_id)
        st.exchange(soci::into(id));
    });
    if (!returns_id)
      x_.q.exec("SELECT last_insert_rowid()", soci::into(id));
    return id;
  }

  // PostgreSQL: inserts every row of node `n` in one round trip, and sets
  // their ids in command order.
  void insert_rows(size_t n) {
    const auto& rows = x_.shape.rows_of[n];
    const auto& columns = table(n).columns;
    std::string list = "[";
    for (size_t i = 0; i < rows.size(); ++i) {
      list += i == 0 ? "{" : ",{";
      const auto& values = x_.cmd.rows[rows[i]].values;
      for (size_t c = 0; c < columns.size(); ++c) {
        list += c == 0 ? "\"c" : ",\"c";
        list += std::to_string(c);
        list += "\":";
        if (by(n) && c == *by(n))
          list += std::to_string(parent_id(rows[i]));
        else
          append_json(list, values[c], columns[c].type);
      }
      list += '}';
    }
    list += ']';
    const auto& s = x_.sql.nodes[n].insert_rows;
    auto src = source();
    src.row_list = &list;
    bound_values values{s.params.size()};
    std::vector<row_id> ids;
    ids.reserve(rows.size());
    long long id = 0;
    x_.q.exec_with(
        s.text,
        [&](soci::statement& st) {
          bind_params(st, values, s, src);
          st.exchange(soci::into(id));
        },
        [&](soci::statement& st) {
          do
            ids.push_back(id);
          while (st.fetch());
        });
    if (ids.size() != rows.size())
      throw std::runtime_error("an INSERT of " + std::to_string(rows.size()) +
                               " rows returned " + std::to_string(ids.size()) +
                               " ids");
    // Ids are drawn in list order.
    std::sort(ids.begin(), ids.end());
    for (size_t i = 0; i < rows.size(); ++i)
      ids_[rows[i]] = ids[i];
  }

  // Inserts the rows of node `n` (their parents' ids are known).
  void insert(size_t n) {
    const auto& rows = x_.shape.rows_of[n];
    if (rows.empty())
      return;
    if (!x_.sql.nodes[n].insert_rows.empty()) {
      insert_rows(n);
    } else {
      for (auto row : rows)
        ids_[row] = insert_row(n, row);
    }
    keys_.set_table(table(n));
    for (auto row : rows) {
      keys_.row(ids_[row]);
      keys_.new_values(x_.cmd.rows[row].values, by(n), parent_id(row));
    }
  }

  // Updates the one row of the scalar node `n` in place, or inserts it when
  // it is missing.
  void update(size_t n) {
    auto row = x_.shape.rows_of[n].front();
    const auto& existing = found_.of_node[n];
    if (existing.empty()) {
      ids_[row] = insert_row(n, row);
      keys_.set_table(table(n));
      keys_.row(ids_[row]);
      keys_.new_values(x_.cmd.rows[row].values, by(n), parent_id(row));
      return;
    }
    // A single child's `by` is unique: the node has this one row.
    const auto& kept = existing.front();
    ids_[row] = kept.id;
    const auto& s = x_.sql.nodes[n].update_row;
    if (!found_.written && !s.empty()) {
      auto src = source();
      src.values = &x_.cmd.rows[row].values;
      src.id = kept.id;
      exec(s, src);
    }
    keys_.set_table(table(n));
    keys_.row(kept.id);
    keys_.old_values(kept);
    keys_.new_values(x_.cmd.rows[row].values, by(n), parent_id(row), &kept);
  }

  // Deletes the existing rows of node `n`; its children's went first.
  void remove(size_t n) {
    const auto& existing = found_.of_node[n];
    if (existing.empty())
      return;
    exec(x_.sql.nodes[n].delete_rows, source());
    keys_.set_table(table(n));
    for (const auto& row : existing) {
      keys_.row(row.id);
      keys_.old_values(row);
    }
  }

  const write_context& x_;
  const found_rows& found_;
  // Per row of the command: its id, once known.
  std::vector<row_id> ids_;
  changed_keys keys_;
};

} // namespace

write_result write_command(const write_context& x, const found_rows& found) {
  return row_writer{x, found}.run();
}

} // namespace cqrs::detail
