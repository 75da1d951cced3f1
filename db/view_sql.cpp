// Generates the SQL text of views, collections and lists from a domain.
#include "db/view_sql.hpp"

#include <algorithm>

namespace cqrs {

namespace {

// -- names --------------------------------------------------------------------

std::string alias(size_t source) {
  return "s" + std::to_string(source);
}

// `sN."column"`.
std::string qualified(size_t source, const std::string& column) {
  return alias(source) + "." + quote_identifier(column);
}

const table_decl& table_of(const domain& d, const view_scope& s, size_t i) {
  return d.tables[s.sources[i].table];
}

// The name of the `references` column that joins source `i` (> 0).
const std::string& join_column(const domain& d, const view_scope& s, size_t i) {
  const auto& src = s.sources[i];
  const auto& owner = src.backward
                          ? d.tables[src.table]
                          : table_of(d, s, static_cast<size_t>(src.parent));
  return owner.columns[src.column].name;
}

// -- select list --------------------------------------------------------------

sql_value value_of(column_type t) {
  switch (t) {
  case column_type::number:
    return sql_value::number;
  case column_type::text:
    return sql_value::text;
  case column_type::boolean:
    return sql_value::boolean;
  case column_type::integer:
  case column_type::reference:
    break;
  }
  return sql_value::integer;
}

// The expression of resolved field `f`, as compared and ordered: the plain
// column (or the source's id).
std::string field_expression(const domain& d, const view_scope& s,
                             const view_field& f) {
  if (!f.column)
    return qualified(f.source, "id");
  return qualified(f.source, table_of(d, s, f.source).columns[*f.column].name);
}

// Fills `columns` for scope `s` and returns its select list, without
// SELECT.
std::string select_list(const domain& d, const view_scope& s,
                        database_backend backend, scope_columns& columns) {
  std::string result;
  columns.types.clear();
  columns.field_column.clear();
  auto add = [&](const std::string& expression, sql_value type) {
    if (!columns.types.empty())
      result += ", ";
    result += expression;
    result += " AS c" + std::to_string(columns.types.size());
    columns.types.push_back(type);
    return columns.types.size() - 1;
  };
  for (size_t i = 0; i < s.sources.size(); ++i)
    add(qualified(i, "id"), sql_value::integer);
  for (const auto& f : s.resolved) {
    if (!f.column) {
      columns.field_column.push_back(f.source);
      continue;
    }
    auto type = value_of(table_of(d, s, f.source).columns[*f.column].type);
    auto expression = field_expression(d, s, f);
    if (type == sql_value::boolean && backend == database_backend::postgresql)
      expression = "CAST(" + expression + " AS INTEGER)";
    columns.field_column.push_back(add(expression, type));
  }
  return result;
}

// -- from ---------------------------------------------------------------------

// `FROM "root" s0 ... JOIN "t" sN ON ...` for scope `s`. With `real_joins`,
// inner sources are joined with JOIN, else every join is a LEFT JOIN.
std::string from_clause(const domain& d, const view_scope& s, bool real_joins) {
  std::string result =
      " FROM " + quote_identifier(table_of(d, s, 0).name) + " " + alias(0);
  for (size_t i = 1; i < s.sources.size(); ++i) {
    const auto& src = s.sources[i];
    auto parent = static_cast<size_t>(src.parent);
    result += real_joins && src.inner ? " JOIN " : " LEFT JOIN ";
    result += quote_identifier(table_of(d, s, i).name) + " " + alias(i);
    result += " ON ";
    if (src.backward)
      result +=
          qualified(i, join_column(d, s, i)) + " = " + qualified(parent, "id");
    else
      result +=
          qualified(i, "id") + " = " + qualified(parent, join_column(d, s, i));
  }
  return result;
}

// Turns `view`, a query that selects columns c0... and returns at most one
// row (or, with `order_by`, a page ordered by it), into one statement that
// also reads `max(commit_log.seq)`: the seq LEFT JOINed with the view, so the
// seq comes back even when the view finds no row (its columns are NULL
// then). One statement reads one snapshot on both backends, so the seq is
// exactly the one the view reflects, without BEGIN and COMMIT around two
// statements: on PostgreSQL one round trip instead of four.
std::string with_seq(const std::string& view, const char* order_by = "") {
  return "SELECT q.seq, v.* FROM (SELECT coalesce(max(seq), 0) AS seq"
         " FROM commit_log) q LEFT JOIN (" +
         view + ") v ON 1 = 1" + order_by;
}

// -- collections --------------------------------------------------------------

// The sources on the path from the root to source `i`, root excluded, in
// source order.
std::vector<size_t> path_to(const view_scope& s, size_t i) {
  std::vector<size_t> result;
  for (auto at = i; at != 0; at = static_cast<size_t>(s.sources[at].parent))
    result.push_back(at);
  std::reverse(result.begin(), result.end());
  return result;
}

// The window order of collection `c`: its `order_by` field ascending, NULL
// first, text by code point, then id.
std::string collection_order(const domain& d, const collection_decl& c,
                             database_backend backend) {
  const auto& s = c.scope;
  auto id = qualified(0, "id");
  if (!c.order_field)
    return id;
  const auto& f = s.resolved[*c.order_field];
  auto result = field_expression(d, s, f);
  if (f.column &&
      table_of(d, s, f.source).columns[*f.column].type == column_type::text)
    result += backend == database_backend::postgresql ? " COLLATE \"C\""
                                                      : " COLLATE BINARY";
  return result + " NULLS FIRST, " + id;
}

collection_sql make_collection_sql(const domain& d, const collection_decl& c,
                                   database_backend backend) {
  collection_sql result;
  result.decl = &c;
  const auto& s = c.scope;
  result.table = s.sources[0].table;
  auto columns = select_list(d, s, backend, result.columns);
  auto by = qualified(0, d.tables[result.table].columns[c.by_column].name);
  // Rows are numbered per parent in the collection's order; the outer
  // query keeps the first `:fetch` of each.
  auto head = "SELECT w.p";
  std::string outer_columns;
  for (size_t i = 0; i < result.columns.types.size(); ++i)
    outer_columns += ", w.c" + std::to_string(i);
  auto inner = "SELECT " + by + " AS p, " + columns +
               ", ROW_NUMBER() OVER (PARTITION BY " + by + " ORDER BY " +
               collection_order(d, c, backend) + ") AS n" +
               from_clause(d, s, true) + " WHERE " + by + " IN (";
  for (size_t count = 1; count <= max_collection_batch; count *= 2) {
    std::string parents;
    for (size_t i = 0; i < count; ++i)
      parents += (i == 0 ? ":p" : ", :p") + std::to_string(i);
    result.batch.push_back(head + outer_columns + " FROM (" + inner + parents +
                           ")) w WHERE w.n <= :fetch ORDER BY w.p, w.n");
  }
  if (c.order_field)
    result.order_sources = path_to(s, s.resolved[*c.order_field].source);
  for (const auto& nested : s.collections)
    result.nested.push_back(make_collection_sql(d, nested, backend));
  return result;
}

} // namespace

std::string quote_identifier(const std::string& name) {
  std::string result = "\"";
  for (auto c : name) {
    if (c == '"')
      result += '"';
    result += c;
  }
  result += '"';
  return result;
}

// -- views --------------------------------------------------------------------

view_sql make_view_sql(const domain& d, const view_decl& v,
                       database_backend backend) {
  view_sql result;
  result.decl = &v;
  const auto& s = v.scope;
  result.table = s.sources[0].table;
  auto columns = select_list(d, s, backend, result.columns);
  result.item = with_seq("SELECT " + columns + from_clause(d, s, false) +
                         " WHERE " + qualified(0, "id") + " = :id");
  for (const auto& c : s.collections)
    result.collections.push_back(make_collection_sql(d, c, backend));
  return result;
}

// -- lists --------------------------------------------------------------------

list_sql make_list_sql(const domain& d, const view_decl& v,
                       const filter_mask& mask, database_backend backend) {
  list_sql result;
  const auto& s = v.scope;
  const auto& filters = v.list->filters;
  scope_columns columns;
  auto text = "SELECT " + select_list(d, s, backend, columns) +
              from_clause(d, s, true) + " WHERE " + qualified(0, "id") +
              " > :after";
  // Which sources decide membership: the root, and the paths to each
  // filtered source and to each backward inner join.
  std::vector<bool> member(s.sources.size(), false);
  std::vector<std::vector<size_t>> given(s.sources.size());
  member[0] = true;
  auto mark_path = [&](size_t i) {
    for (auto at : path_to(s, i))
      member[at] = true;
  };
  for (size_t i = 0; i < filters.size() && i < mask.size(); ++i) {
    if (mask[i] != '1')
      continue;
    const auto& f = filters[i];
    text += " AND " +
            qualified(f.source,
                      table_of(d, s, f.source).columns[f.column_index].name) +
            " = :f" + std::to_string(i);
    given[f.source].push_back(i);
    mark_path(f.source);
  }
  for (size_t i = 1; i < s.sources.size(); ++i)
    if (s.sources[i].backward && s.sources[i].inner)
      mark_path(i);
  text += " ORDER BY " + qualified(0, "id") + " LIMIT :fetch";
  result.text = with_seq(text, " ORDER BY v.c0");
  for (size_t i = 0; i < s.sources.size(); ++i)
    if (member[i])
      result.membership.push_back(membership_source{i, std::move(given[i])});
  return result;
}

} // namespace cqrs
