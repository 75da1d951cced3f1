// Lookups in a domain and what cqrsd derives from its declaration.
#include "model/domain.hpp"

#include <algorithm>
#include <array>

namespace cqrs {

const char* to_string(column_type x) {
  switch (x) {
  case column_type::text:
    return "text";
  case column_type::integer:
    return "integer";
  case column_type::number:
    return "number";
  case column_type::boolean:
    return "boolean";
  case column_type::reference:
    return "reference";
  }
  return "?";
}

std::optional<size_t> table_decl::column_index(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i].name == name)
      return i;
  return std::nullopt;
}

std::optional<size_t> domain::table_index(std::string_view name) const {
  for (size_t i = 0; i < tables.size(); ++i)
    if (tables[i].name == name)
      return i;
  return std::nullopt;
}

std::optional<size_t> domain::resource_index(std::string_view segment) const {
  for (size_t i = 0; i < resources.size(); ++i)
    if (resources[i].segment == segment)
      return i;
  return std::nullopt;
}

std::optional<size_t> domain::view_index(std::string_view segment) const {
  for (size_t i = 0; i < views.size(); ++i)
    if (views[i].segment == segment)
      return i;
  return std::nullopt;
}

// -- reserved names -----------------------------------------------------------

namespace {

bool starts_with(std::string_view x, std::string_view prefix) {
  return x.substr(0, prefix.size()) == prefix;
}

template <size_t N>
bool is_one_of(std::string_view x, const std::array<std::string_view, N>& xs) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

} // namespace

bool is_reserved_table_name(std::string_view name) {
  static constexpr std::array<std::string_view, 3> own{
      "commit_log", "idempotency_key", "schema_version"};
  return is_one_of(name, own) || starts_with(name, "cqrsd_") ||
         starts_with(name, "sqlite_") || starts_with(name, "pg_");
}

bool is_reserved_column_name(std::string_view name) {
  static constexpr std::array<std::string_view, 9> system{
      "id", "xmin", "xmax", "cmin", "cmax", "ctid", "tableoid", "oid", "rowid"};
  return is_one_of(name, system);
}

bool is_reserved_segment(std::string_view segment) {
  static constexpr std::array<std::string_view, 8> own{
      "healthz",      "readyz", "metrics", "status",
      "openapi.json", "docs",   "console", "commits"};
  return is_one_of(segment, own);
}

// -- derivation ---------------------------------------------------------------

namespace {

// Whether `table`'s column `column` is the `by` of an owned single child.
bool is_single_child_by(const domain& d, size_t table, size_t column) {
  for (const auto& r : d.resources)
    for (const auto& n : r.nodes)
      if (n.parent >= 0 && !n.many && n.table == table && n.by == column)
        return true;
  return false;
}

// Appends the nodes of `owns` under node `parent` in pre-order.
void flatten(const domain& d, resource_decl& r,
             const std::vector<owned_decl>& owns, size_t parent) {
  for (const auto& o : owns) {
    resource_node n;
    n.table = *d.table_index(o.table);
    n.parent = static_cast<int>(parent);
    n.field = o.field;
    n.by = *d.tables[n.table].column_index(o.by);
    n.many = o.many;
    n.max_items = o.many ? o.max_items : 1;
    auto index = r.nodes.size();
    r.nodes.push_back(std::move(n));
    r.nodes[parent].children.push_back(index);
    flatten(d, r, o.owns, index);
  }
}

std::optional<size_t> source_of(const domain& d, const view_scope& s,
                                std::string_view table) {
  for (size_t i = 0; i < s.sources.size(); ++i)
    if (d.tables[s.sources[i].table].name == table)
      return i;
  return std::nullopt;
}

void derive_scope(const domain& d, view_scope& s, size_t root) {
  s.sources.clear();
  s.resolved.clear();
  view_source from;
  from.table = root;
  s.sources.push_back(from);
  for (const auto& j : s.joins) {
    auto t = *d.table_index(j.table);
    auto c = *d.tables[t].column_index(j.column);
    const auto& col = d.tables[t].columns[c];
    view_source src;
    src.column = c;
    if (auto parent = source_of(d, s, j.table)) {
      // Forward: t is in the view; add the table that c references.
      const auto& p = s.sources[*parent];
      src.table = *d.table_index(col.references);
      src.parent = static_cast<int>(*parent);
      src.inner = !col.optional && p.inner;
    } else {
      // Backward: c references a table in the view; add t.
      auto referenced = *source_of(d, s, col.references);
      const auto& p = s.sources[referenced];
      src.table = t;
      src.parent = static_cast<int>(referenced);
      src.backward = true;
      src.inner = p.inner && is_single_child_by(d, t, c);
    }
    src.may_be_missing = !src.inner;
    s.sources.push_back(src);
  }
  for (const auto& f : s.fields) {
    view_field r;
    r.name = f.name;
    r.source = *source_of(d, s, f.table);
    if (f.column != "id")
      r.column = d.tables[s.sources[r.source].table].column_index(f.column);
    s.resolved.push_back(std::move(r));
  }
  for (auto& c : s.collections) {
    auto from_table = *d.table_index(c.from);
    c.by_column = *d.tables[from_table].column_index(c.by);
    derive_scope(d, c.scope, from_table);
    c.order_field.reset();
    for (size_t i = 0; i < c.scope.resolved.size(); ++i)
      if (c.scope.resolved[i].name == c.order_by)
        c.order_field = i;
  }
}

} // namespace

void derive(domain& d) {
  for (auto& r : d.resources) {
    r.nodes.clear();
    resource_node root;
    root.table = *d.table_index(r.table);
    r.nodes.push_back(std::move(root));
    flatten(d, r, r.owns, 0);
  }
  for (auto& v : d.views) {
    derive_scope(d, v.scope, *d.table_index(v.from));
    if (v.list)
      for (auto& f : v.list->filters) {
        f.source = *source_of(d, v.scope, f.table);
        f.column_index =
            *d.tables[v.scope.sources[f.source].table].column_index(f.column);
      }
  }
  // Keyed columns: every references column and every filtered column.
  for (size_t t = 0; t < d.tables.size(); ++t) {
    auto& table = d.tables[t];
    std::vector<bool> keyed(table.columns.size(), false);
    for (size_t c = 0; c < table.columns.size(); ++c)
      keyed[c] = table.columns[c].type == column_type::reference;
    for (const auto& v : d.views)
      if (v.list)
        for (const auto& f : v.list->filters)
          if (v.scope.sources[f.source].table == t)
            keyed[f.column_index] = true;
    table.keyed_columns.clear();
    for (size_t c = 0; c < keyed.size(); ++c)
      if (keyed[c])
        table.keyed_columns.push_back(c);
  }
}

} // namespace cqrs
