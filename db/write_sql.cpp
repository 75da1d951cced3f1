// Generates the write store's SQL from a domain's declaration.
#include "db/write_sql.hpp"

#include <string_view>
#include <utility>

#include "db/view_sql.hpp"

namespace cqrs::detail {

namespace {

// -- text ---------------------------------------------------------------------

// What PostgreSQL casts a bound value of `type` to: it infers no type for a
// bare parameter in most places.
const char* cast_type(column_type type) {
  switch (type) {
  case column_type::text:
    return "TEXT";
  case column_type::number:
    return "DOUBLE PRECISION";
  case column_type::boolean:
    return "BOOLEAN";
  case column_type::integer:
  case column_type::reference:
    break;
  }
  return "BIGINT";
}

// The type of a result column that reads a value of `type`: booleans read
// as 0/1, which SOCI converts on both backends.
const char* result_type(column_type type) {
  return type == column_type::boolean ? "INTEGER" : cast_type(type);
}

write_param param(write_param::kind_t kind, size_t node = 0, size_t column = 0,
                  column_type type = column_type::integer) {
  write_param p;
  p.kind = kind;
  p.node = static_cast<uint16_t>(node);
  p.column = static_cast<uint16_t>(column);
  p.type = type;
  return p;
}

// Builds one statement: its text and its placeholders, each named once.
class builder {
public:
  explicit builder(bool pg) : pg_(pg) {
    // nop
  }

  builder& operator<<(std::string_view text) {
    out_.text += text;
    return *this;
  }

  builder& operator<<(const write_param& p) {
    auto name = ":p" + std::to_string(out_.params.size());
    bool json =
        p.kind == write_param::node_list || p.kind == write_param::row_list;
    if (pg_)
      out_.text += "CAST(" + name + " AS " +
                   (json ? std::string{"json"} : cast_type(p.type)) + ")";
    else
      out_.text += name;
    out_.params.push_back(p);
    return *this;
  }

  bool pg() const noexcept { return pg_; }

  write_statement take() { return std::move(out_); }

private:
  bool pg_;
  write_statement out_;
};

// -- one resource -------------------------------------------------------------

class resource_generator {
public:
  resource_generator(const domain& d, const resource_decl& r, bool pg,
                     resource_sql& out)
      : d_(d), r_(r), pg_(pg), out_(out) {
    // nop
  }

  void run() {
    const auto nodes = r_.nodes.size();
    out_.scalar.assign(nodes, true);
    out_.node_of_table.assign(d_.tables.size(), -1);
    for (size_t n = 0; n < nodes; ++n) {
      const auto& node = r_.nodes[n];
      if (n != 0)
        out_.scalar[n] = !node.many && out_.scalar[node.parent];
      out_.node_of_table[node.table] = static_cast<int>(n);
    }
    for (auto op : {operation::create, operation::update, operation::remove})
      out_.checks[static_cast<size_t>(op)] = checks(op);
    out_.nodes.resize(nodes);
    for (size_t n = 0; n < nodes; ++n)
      out_.nodes[n] = writes(n);
  }

private:
  // -- names ------------------------------------------------------------------

  const resource_node& node(size_t n) const { return r_.nodes[n]; }

  const table_decl& table(size_t n) const { return d_.tables[node(n).table]; }

  std::string table_name(size_t n) const {
    return quote_identifier(table(n).name);
  }

  std::string column_name(size_t n, size_t c) const {
    return quote_identifier(table(n).columns[c].name);
  }

  bool is_by(size_t n, size_t c) const { return n != 0 && node(n).by == c; }

  // -- the rows of the aggregate ----------------------------------------------

  // Appends the condition on node `n`'s table that selects the node's
  // existing rows of the aggregate whose root is the command's id.
  void existing_where(builder& b, size_t n) const {
    if (n == 0) {
      b << "id = " << param(write_param::root_id);
      return;
    }
    auto by = column_name(n, node(n).by);
    auto parent = static_cast<size_t>(node(n).parent);
    if (parent == 0) {
      b << by << " = " << param(write_param::root_id);
      return;
    }
    among_existing(b, by, parent, true);
  }

  // Appends the condition that `value` is (`among`) or is not one of the
  // ids of node `n`'s existing rows. PostgreSQL gets `= ANY(ARRAY(...))`
  // rather than `IN (...)`: a kept prepared statement runs a generic plan,
  // and for `IN` that plan may hash-join a whole table (before ANALYZE has
  // seen the rows it certainly does), while an array of ids is looked up
  // through the index on `value`. Ids are never NULL, so both forms agree.
  void among_existing(builder& b, std::string_view value, size_t n,
                      bool among) const {
    b << value;
    if (pg_)
      b << (among ? " = ANY(ARRAY(" : " <> ALL(ARRAY(");
    else
      b << (among ? " IN (" : " NOT IN (");
    existing_ids(b, n);
    b << (pg_ ? "))" : ")");
  }

  void existing_ids(builder& b, size_t n) const {
    b << "SELECT id FROM " << table_name(n) << " WHERE ";
    existing_where(b, n);
  }

  // Whether `op` removes node `n`'s existing rows: a removal all of them,
  // an update those of owned arrays and everything under them.
  bool removes(operation op, size_t n) const {
    return op == operation::remove ||
           (op == operation::update && !out_.scalar[n]);
  }

  // Appends " AND <id> is not among ..." for a row `id` of table `t` when `op`
  // removes rows of that table.
  void not_removed(builder& b, operation op, size_t t,
                   std::string_view id) const {
    auto m = out_.node_of_table[t];
    if (m < 0 || !removes(op, static_cast<size_t>(m)))
      return;
    b << " AND ";
    among_existing(b, id, static_cast<size_t>(m), false);
  }

  // Appends " AND <id> is not among ..." for a row `id` of table `t` when the
  // aggregate has rows of that table: they are removed, or updated in place
  // with new values that the write's own checks cover.
  void outside_aggregate(builder& b, size_t t, std::string_view id) const {
    auto m = out_.node_of_table[t];
    if (m < 0)
      return;
    b << " AND ";
    among_existing(b, id, static_cast<size_t>(m), false);
  }

  // -- the elements of a JSON array -------------------------------------------

  void elements(builder& b, size_t n, size_t c) const {
    auto list = param(write_param::node_list, n, c, table(n).columns[c].type);
    if (pg_)
      b << "json_array_elements_text(" << list
        << ") WITH ORDINALITY AS e(v, o)";
    else
      b << "json_each(" << list << ") AS e";
  }

  std::string element(column_type type) const {
    if (pg_)
      return std::string{"CAST(e.v AS "} + cast_type(type) + ")";
    return "e.value";
  }

  std::string element_index() const { return pg_ ? "(e.o - 1)" : "e.key"; }

  // -- checks -----------------------------------------------------------------

  void missing_reference(builder& b, operation op, size_t n, size_t c) const {
    const auto& col = table(n).columns[c];
    auto t = *d_.table_index(col.references);
    auto target = quote_identifier(d_.tables[t].name);
    if (out_.scalar[n]) {
      // A required reference is never null; an optional one is checked when
      // it is not (its value bound twice).
      auto value = param(write_param::node_value, n, c, column_type::reference);
      b << "(SELECT 1 WHERE ";
      if (col.optional)
        b << value << " IS NOT NULL AND ";
      b << "NOT EXISTS (SELECT 1 FROM " << target
        << " r WHERE r.id = " << value;
      not_removed(b, op, t, "r.id");
      b << "))";
      return;
    }
    // Per item, a scalar subquery rather than NOT EXISTS: PostgreSQL turns
    // NOT EXISTS into an anti-join over the whole table for the 100 rows it
    // guesses a JSON array holds; a scalar subquery stays one index lookup
    // per item.
    b << "(SELECT min(" << element_index() << ") FROM ";
    elements(b, n, c);
    auto value = element(column_type::reference);
    b << " WHERE " << value << " IS NOT NULL AND (SELECT 1 FROM " << target
      << " r WHERE r.id = " << value;
    not_removed(b, op, t, "r.id");
    b << " LIMIT 1) IS NULL)";
  }

  // The row an update keeps in node `n`, which may hold its own value of a
  // unique column: the node's row that the check row joins.
  void not_kept(builder& b, size_t n) const {
    b << " AND u.id <> coalesce(n" << std::to_string(n) << ".id, 0)";
  }

  void duplicate_value(builder& b, operation op, size_t n, size_t c) const {
    const auto& col = table(n).columns[c];
    if (out_.scalar[n]) {
      b << "(SELECT min(u.id) FROM " << table_name(n) << " u WHERE u."
        << column_name(n, c) << " = "
        << param(write_param::node_value, n, c, col.type);
      if (op == operation::update)
        not_kept(b, n);
      b << ")";
      return;
    }
    // A lookup per item through the column's index (see missing_reference).
    b << "(SELECT min(" << element_index() << ") FROM ";
    elements(b, n, c);
    auto value = element(col.type);
    b << " WHERE " << value << " IS NOT NULL AND (SELECT 1 FROM "
      << table_name(n) << " u WHERE u." << column_name(n, c) << " = " << value;
    not_removed(b, op, node(n).table, "u.id");
    b << " LIMIT 1) IS NOT NULL)";
  }

  write_statement duplicate_holder(operation op, size_t n, size_t c) const {
    builder b{pg_};
    b << "SELECT min(u.id) FROM " << table_name(n) << " u WHERE u."
      << column_name(n, c) << " = "
      << param(write_param::probe, n, c, table(n).columns[c].type);
    not_removed(b, op, node(n).table, "u.id");
    return b.take();
  }

  void still_referenced(builder& b, size_t n, size_t t, size_t c) const {
    auto column = quote_identifier(d_.tables[t].columns[c].name);
    b << "(SELECT min(s." << column << ") FROM "
      << quote_identifier(d_.tables[t].name) << " s WHERE ";
    among_existing(b, "s." + column, n, true);
    outside_aggregate(b, t, "s.id");
    b << ")";
  }

  write_statement referencing_count(size_t t, size_t c) const {
    builder b{pg_};
    b << "SELECT count(*) FROM " << quote_identifier(d_.tables[t].name)
      << " s WHERE s." << quote_identifier(d_.tables[t].columns[c].name)
      << " = " << param(write_param::probe, 0, 0, column_type::reference);
    outside_aggregate(b, t, "s.id");
    return b.take();
  }

  // Whether column `c` of table `t` is the `by` of a child of node `n`:
  // every row referencing a row of `n` through it is removed with it.
  bool is_child_by(size_t n, size_t t, size_t c) const {
    for (auto child : node(n).children)
      if (node(child).table == t && node(child).by == c)
        return true;
    return false;
  }

  // The checks of `op`, in the order of the check row.
  std::vector<write_check> check_list(operation op) const {
    std::vector<write_check> result;
    const auto nodes = r_.nodes.size();
    if (op != operation::remove)
      for (auto kind :
           {write_check::missing_reference, write_check::duplicate_value})
        for (size_t n = 0; n < nodes; ++n)
          for (size_t c = 0; c < table(n).columns.size(); ++c) {
            const auto& col = table(n).columns[c];
            bool wanted = kind == write_check::missing_reference
                              ? col.type == column_type::reference
                              : col.unique;
            if (!wanted || is_by(n, c))
              continue;
            write_check check;
            check.kind = kind;
            check.node = static_cast<uint16_t>(n);
            check.column = static_cast<uint16_t>(c);
            check.list = !out_.scalar[n];
            result.push_back(check);
          }
    for (size_t n = 0; n < nodes; ++n) {
      if (!removes(op, n))
        continue;
      for (size_t t = 0; t < d_.tables.size(); ++t)
        for (size_t c = 0; c < d_.tables[t].columns.size(); ++c) {
          const auto& col = d_.tables[t].columns[c];
          if (col.type != column_type::reference ||
              col.references != table(n).name || is_child_by(n, t, c))
            continue;
          write_check check;
          check.kind = write_check::still_referenced;
          check.node = static_cast<uint16_t>(n);
          check.referencing_table = t;
          check.referencing_column = c;
          result.push_back(check);
        }
    }
    return result;
  }

  void check_expression(builder& b, operation op,
                        const write_check& check) const {
    switch (check.kind) {
    case write_check::missing_reference:
      missing_reference(b, op, check.node, check.column);
      break;
    case write_check::duplicate_value:
      duplicate_value(b, op, check.node, check.column);
      break;
    case write_check::still_referenced:
      still_referenced(b, check.node, check.referencing_table,
                       check.referencing_column);
      break;
    }
  }

  // Whether `op` reads the existing rows of the aggregate.
  static bool reads_rows(operation op) { return op != operation::create; }

  std::string null_of(column_type type) const {
    return std::string{"CAST(NULL AS "} + result_type(type) + ")";
  }

  // The expression that reads keyed column `c` of node `n`'s table from
  // `prefix` (a table alias and '.', or empty).
  std::string keyed_value(size_t n, size_t c, const std::string& prefix) const {
    auto column = prefix + column_name(n, c);
    if (pg_ && table(n).columns[c].type == column_type::boolean)
      return "CAST(" + column + " AS INTEGER)";
    return column;
  }

  // Appends the check row: the checks and each scalar node's existing row,
  // NULL in the columns of list nodes. Its columns are named: n, id, k<i>
  // for check i, i<n> for the id of node n and v<n>_<j> for its keyed
  // values.
  void check_row(builder& b, operation op, const check_sql& out) const {
    b << "SELECT CAST(-1 AS BIGINT) AS n, CAST(NULL AS BIGINT) AS id";
    for (size_t i = 0; i < out.checks.size(); ++i) {
      b << ", ";
      check_expression(b, op, out.checks[i]);
      b << " AS k" << std::to_string(i);
    }
    if (!reads_rows(op))
      return;
    for (size_t n = 0; n < r_.nodes.size(); ++n) {
      const auto& keyed = table(n).keyed_columns;
      auto node = std::to_string(n);
      if (out_.scalar[n]) {
        b << ", n" << node << ".id AS i" << node;
        for (size_t j = 0; j < keyed.size(); ++j)
          b << ", n" << node << ".k" << std::to_string(j) << " AS v" << node
            << "_" << std::to_string(j);
      } else {
        for (auto c : keyed)
          b << ", " << null_of(table(n).columns[c].type);
      }
    }
    // Each scalar node's row, joined to the one row of the checks.
    b << " FROM (SELECT 1 AS one) one";
    for (size_t n = 0; n < r_.nodes.size(); ++n) {
      if (!out_.scalar[n])
        continue;
      const auto& keyed = table(n).keyed_columns;
      b << " LEFT JOIN (SELECT id";
      for (size_t j = 0; j < keyed.size(); ++j)
        b << ", " << keyed_value(n, keyed[j], "") << " AS k"
          << std::to_string(j);
      b << " FROM " << table_name(n) << " WHERE ";
      // A single child's `by` is unique (db/domain_schema.hpp): one row at
      // most, joined without a LIMIT, which would keep SQLite from
      // flattening the join.
      existing_where(b, n);
      b << ") n" << std::to_string(n) << " ON 1 = 1";
    }
  }

  // Appends one branch per list node reading its existing rows.
  void list_rows(builder& b, const check_sql& out) const {
    for (size_t n = 0; n < r_.nodes.size(); ++n) {
      if (out_.scalar[n])
        continue;
      b << " UNION ALL SELECT CAST(" << std::to_string(n) << " AS BIGINT), id";
      for (size_t i = 0; i < out.checks.size(); ++i)
        b << ", CAST(NULL AS BIGINT)";
      for (size_t m = 0; m < r_.nodes.size(); ++m) {
        if (out_.scalar[m])
          b << ", CAST(NULL AS BIGINT)";
        for (auto c : table(m).keyed_columns)
          b << ", "
            << (m == n ? keyed_value(m, c, "")
                       : null_of(table(m).columns[c].type));
      }
      b << " FROM " << table_name(n) << " WHERE ";
      existing_where(b, n);
    }
  }

  check_sql checks(operation op) const {
    check_sql out;
    out.checks = check_list(op);
    const auto nodes = r_.nodes.size();
    out.id_column.assign(nodes, 1);
    out.keyed_column.assign(nodes, 0);
    if (reads_rows(op)) {
      // In node order, as `check_row` and `list_rows` select them: a
      // scalar node's id and keyed columns, a list node's keyed columns.
      size_t column = 2 + out.checks.size();
      for (size_t n = 0; n < nodes; ++n) {
        if (out_.scalar[n]) {
          out.id_column[n] = column++;
          out.slot_types.push_back(column_type::integer);
        }
        out.keyed_column[n] = column;
        for (auto c : table(n).keyed_columns) {
          out.slot_types.push_back(table(n).columns[c].type);
          ++column;
        }
      }
    }
    for (auto& check : out.checks) {
      if (check.kind == write_check::duplicate_value && check.list) {
        check.follow_up = static_cast<int>(out.follow_ups.size());
        out.follow_ups.push_back(
            duplicate_holder(op, check.node, check.column));
      } else if (check.kind == write_check::still_referenced) {
        check.follow_up = static_cast<int>(out.follow_ups.size());
        out.follow_ups.push_back(referencing_count(check.referencing_table,
                                                   check.referencing_column));
      }
    }
    bool all_scalar = true;
    for (bool scalar : out_.scalar)
      all_scalar = all_scalar && scalar;
    out.writes = op == operation::update && pg_ && all_scalar;
    if (out.writes) {
      out.statement = check_and_update(out);
    } else if (!out.checks.empty() || reads_rows(op)) {
      builder b{pg_};
      check_row(b, op, out);
      if (reads_rows(op))
        list_rows(b, out);
      out.statement = b.take();
    }
    return out;
  }

  // PostgreSQL, an update of a resource without owned arrays: the checks,
  // the existing rows and the writes in one statement (one round trip). Its
  // data-modifying WITH queries write only when every check passed and every
  // node's row exists; it answers the check row.
  write_statement check_and_update(const check_sql& out) const {
    const auto op = operation::update;
    builder b{pg_};
    b << "WITH chk AS (";
    check_row(b, op, out);
    b << "), passed AS (SELECT * FROM chk WHERE ";
    for (size_t n = 0; n < r_.nodes.size(); ++n)
      b << (n == 0 ? "i" : " AND i") << std::to_string(n) << " IS NOT NULL";
    for (size_t i = 0; i < out.checks.size(); ++i)
      b << " AND k" << std::to_string(i) << " IS NULL";
    b << ")";
    for (size_t n = 0; n < r_.nodes.size(); ++n) {
      bool any = false;
      for (size_t c = 0; c < table(n).columns.size(); ++c) {
        if (is_by(n, c))
          continue;
        b << (any ? ", "
                  : ", w" + std::to_string(n) + " AS (UPDATE " + table_name(n) +
                        " SET ")
          << column_name(n, c) << " = "
          << param(write_param::node_value, n, c, table(n).columns[c].type);
        any = true;
      }
      if (any)
        b << " WHERE id = (SELECT i" << std::to_string(n) << " FROM passed))";
    }
    b << " SELECT * FROM chk";
    return b.take();
  }

  // -- writes -----------------------------------------------------------------

  node_sql writes(size_t n) const {
    node_sql out;
    const auto& columns = table(n).columns;
    {
      builder b{pg_};
      b << "INSERT INTO " << table_name(n);
      if (columns.empty()) {
        b << " DEFAULT VALUES";
      } else {
        b << " (";
        for (size_t c = 0; c < columns.size(); ++c)
          b << (c == 0 ? "" : ", ") << column_name(n, c);
        b << ") VALUES (";
        for (size_t c = 0; c < columns.size(); ++c) {
          b << (c == 0 ? "" : ", ");
          if (is_by(n, c))
            b << param(write_param::parent_id);
          else
            b << param(write_param::row_value, n, c, columns[c].type);
        }
        b << ")";
      }
      if (pg_)
        b << " RETURNING id";
      out.insert_row = b.take();
      out.insert_returns_id = pg_;
    }
    if (pg_ && !out_.scalar[n]) {
      // A node below the root always has its `by` column.
      builder b{pg_};
      b << "INSERT INTO " << table_name(n) << " (";
      for (size_t c = 0; c < columns.size(); ++c)
        b << (c == 0 ? "" : ", ") << column_name(n, c);
      b << ") SELECT ";
      for (size_t c = 0; c < columns.size(); ++c)
        b << (c == 0 ? "" : ", ") << "r.c" << std::to_string(c);
      b << " FROM json_to_recordset(" << param(write_param::row_list, n)
        << ") AS r(";
      for (size_t c = 0; c < columns.size(); ++c)
        b << (c == 0 ? "" : ", ") << "c" << std::to_string(c) << " "
          << cast_type(columns[c].type);
      // The function scan yields the rows in list order, and the ids are
      // drawn in that order.
      b << ") RETURNING id";
      out.insert_rows = b.take();
    }
    {
      builder b{pg_};
      bool any = false;
      for (size_t c = 0; c < columns.size(); ++c) {
        if (is_by(n, c))
          continue;
        b << (any ? ", " : "UPDATE " + table_name(n) + " SET ")
          << column_name(n, c) << " = "
          << param(write_param::row_value, n, c, columns[c].type);
        any = true;
      }
      if (any) {
        b << " WHERE id = " << param(write_param::row_id);
        out.update_row = b.take();
      }
    }
    {
      builder b{pg_};
      b << "DELETE FROM " << table_name(n) << " WHERE ";
      existing_where(b, n);
      out.delete_rows = b.take();
    }
    return out;
  }

  const domain& d_;
  const resource_decl& r_;
  bool pg_;
  resource_sql& out_;
};

} // namespace

std::vector<resource_sql> generate_write_sql(const domain& d,
                                             database_backend backend) {
  std::vector<resource_sql> result(d.resources.size());
  for (size_t i = 0; i < d.resources.size(); ++i)
    resource_generator{d, d.resources[i],
                       backend == database_backend::postgresql, result[i]}
        .run();
  return result;
}

} // namespace cqrs::detail
