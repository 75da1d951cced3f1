// Reads items, pages and collections of views, their JSON answers and the
// keys they depend on.
#include "db/view_reader.hpp"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "db/statement_cache.hpp"
#include "model/row_key.hpp"

namespace cqrs {

namespace {

using json = nlohmann::ordered_json;

// -- rows ---------------------------------------------------------------------

/// One fetched row: a value per selected column.
using row = std::vector<field_value>;

/// Where SOCI puts one column of the current row.
struct cell {
  long long integer = 0;
  double number = 0;
  std::string text;
  soci::indicator ind = soci::i_null;
};

field_value value_of(const cell& c, sql_value type) {
  if (c.ind != soci::i_ok)
    return {};
  switch (type) {
  case sql_value::integer:
    return field_value::of_integer(c.integer);
  case sql_value::boolean:
    return field_value::of_boolean(c.integer != 0);
  case sql_value::number:
    return field_value::of_number(c.number);
  case sql_value::text:
    break;
  }
  return field_value::of_text(c.text);
}

// Runs `text`, whose columns are read as `types` say, with the `use`
// elements that `uses(st)` exchanges, and returns every row.
template <class Uses>
std::vector<row> fetch_all(statement_cache& statements, const std::string& text,
                           const std::vector<sql_value>& types, Uses&& uses) {
  // Bound by address: never resized while the statement runs.
  std::vector<cell> cells(types.size());
  std::vector<row> rows;
  auto bind = [&](soci::statement& st) {
    for (size_t i = 0; i < types.size(); ++i) {
      auto& c = cells[i];
      switch (types[i]) {
      case sql_value::integer:
      case sql_value::boolean:
        st.exchange(soci::into(c.integer, c.ind));
        break;
      case sql_value::number:
        st.exchange(soci::into(c.number, c.ind));
        break;
      case sql_value::text:
        st.exchange(soci::into(c.text, c.ind));
        break;
      }
    }
    uses(st);
  };
  auto take_rows = [&](soci::statement& st) {
    do {
      row r;
      r.reserve(types.size());
      for (size_t i = 0; i < types.size(); ++i)
        r.push_back(value_of(cells[i], types[i]));
      rows.push_back(std::move(r));
    } while (st.fetch());
  };
  statements.exec_with(text, bind, take_rows);
  return rows;
}

// `types` after one leading integer column (the seq or the parent id).
std::vector<sql_value> after_integer(const std::vector<sql_value>& types) {
  std::vector<sql_value> result;
  result.reserve(types.size() + 1);
  result.push_back(sql_value::integer);
  result.insert(result.end(), types.begin(), types.end());
  return result;
}

// -- dependencies -------------------------------------------------------------

// Adds the keys that the row `r` of scope `s` (its columns from `offset`
// on) depends on: the row key of each source that found a row, and for each
// backward join from a found row, the key of the rows that may join it.
// Returns whether every inner join found a row.
bool add_row_dependencies(const domain& d, const view_scope& s, const row& r,
                          size_t offset, std::vector<std::string>& deps) {
  bool found = true;
  for (size_t i = 0; i < s.sources.size(); ++i) {
    const auto& src = s.sources[i];
    const auto& table = d.tables[src.table];
    const auto& id = r[offset + i];
    if (!id.is_null())
      deps.push_back(row_key(table.name, id.integer));
    else if (src.inner)
      found = false;
    if (src.backward) {
      const auto& parent = r[offset + static_cast<size_t>(src.parent)];
      if (!parent.is_null())
        deps.push_back(
            column_key(table.name, table.columns[src.column].name, parent));
    }
  }
  return found;
}

void deduplicate(std::vector<std::string>& keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
}

// -- JSON ---------------------------------------------------------------------

json to_json(const field_value& x) {
  switch (x.kind) {
  case value_kind::null:
    break;
  case value_kind::integer:
    return x.integer;
  case value_kind::boolean:
    return x.integer != 0;
  case value_kind::number:
    return x.number;
  case value_kind::text:
    return x.text;
  }
  return nullptr;
}

// The fields of row `r` of scope `s` (its columns from `offset` on), in
// declared order.
json object_of(const view_scope& s, const scope_columns& columns, const row& r,
               size_t offset) {
  auto result = json::object();
  for (size_t i = 0; i < s.resolved.size(); ++i)
    result[s.resolved[i].name] = to_json(r[offset + columns.field_column[i]]);
  return result;
}

// Serializes `doc`; invalid UTF-8 (only possible in rows written around the
// API, as requests are validated) becomes U+FFFD instead of an exception.
std::string dump(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

// -- collections --------------------------------------------------------------

// Reads collection `c` of every row whose id is in `parents` (distinct
// ids), adds the keys it depends on to `deps`, and returns one JSON array
// per parent, in the order of `parents`.
std::vector<json> read_collection(const domain& d, statement_cache& statements,
                                  const collection_sql& c,
                                  const std::vector<long long>& parents,
                                  std::vector<std::string>& deps) {
  const auto& decl = *c.decl;
  const auto& from = d.tables[c.table];
  const auto& by = from.columns[decl.by_column].name;
  std::unordered_map<long long, size_t> index;
  for (size_t i = 0; i < parents.size(); ++i) {
    index.emplace(parents[i], i);
    // Rows joining or leaving the collection name this key.
    deps.push_back(
        column_key(from.name, by, field_value::of_integer(parents[i])));
  }
  // Columns: the parent id, then the collection's columns.
  auto types = after_integer(c.columns.types);
  std::vector<std::vector<row>> rows_of(parents.size());
  bool truncated = false;
  // One row more than the limit tells whether a parent has more rows.
  long long fetch = static_cast<long long>(decl.limit) + 1;
  for (size_t begin = 0; begin < parents.size();
       begin += max_collection_batch) {
    auto count = std::min(max_collection_batch, parents.size() - begin);
    size_t k = 0;
    while ((size_t{1} << k) < count)
      ++k;
    std::vector<long long> params(size_t{1} << k, 0);
    std::copy_n(parents.begin() + static_cast<std::ptrdiff_t>(begin), count,
                params.begin());
    auto rows = fetch_all(statements, c.batch[k], types, [&](auto& st) {
      for (size_t i = 0; i < params.size(); ++i)
        st.exchange(soci::use(params[i], "p" + std::to_string(i)));
      st.exchange(soci::use(fetch, "fetch"));
    });
    for (auto& r : rows) {
      auto& kept = rows_of[index.at(r[0].integer)];
      if (kept.size() < decl.limit)
        kept.push_back(std::move(r));
      else
        truncated = true;
    }
  }
  if (truncated)
    for (auto i : c.order_sources)
      deps.push_back(table_key(d.tables[decl.scope.sources[i].table].name));
  // Content: the rows' own keys, then the nested collections of every row.
  std::vector<long long> ids;
  for (const auto& kept : rows_of)
    for (const auto& r : kept) {
      add_row_dependencies(d, decl.scope, r, 1, deps);
      ids.push_back(r[1].integer);
    }
  std::vector<std::vector<json>> nested;
  for (const auto& n : c.nested)
    nested.push_back(read_collection(d, statements, n, ids, deps));
  std::vector<json> result(parents.size(), json::array());
  size_t at = 0;
  for (size_t p = 0; p < parents.size(); ++p)
    for (const auto& r : rows_of[p]) {
      auto obj = object_of(decl.scope, c.columns, r, 1);
      for (size_t n = 0; n < c.nested.size(); ++n)
        obj[c.nested[n].decl->name] = std::move(nested[n][at]);
      result[p].push_back(std::move(obj));
      ++at;
    }
  return result;
}

// Adds the collections of `collections` of the rows with ids `ids` to
// `objects` (one per id).
void add_collections(const domain& d, statement_cache& statements,
                     const std::vector<collection_sql>& collections,
                     const std::vector<long long>& ids,
                     std::vector<json>& objects,
                     std::vector<std::string>& deps) {
  for (const auto& c : collections) {
    auto arrays = read_collection(d, statements, c, ids, deps);
    for (size_t i = 0; i < ids.size(); ++i)
      objects[i][c.decl->name] = std::move(arrays[i]);
  }
}

// The seq of a `with_seq` statement's answer.
seq_t seq_of(const std::vector<row>& rows) {
  if (rows.empty() || rows.front()[0].is_null())
    return 0;
  return static_cast<seq_t>(rows.front()[0].integer);
}

} // namespace

// -- items --------------------------------------------------------------------

view_snapshot view_reader::item(const view_sql& v, row_id id) {
  view_snapshot result;
  const auto& d = domain_;
  const auto& s = v.decl->scope;
  long long key = id;
  auto rows = fetch_all(statements_, v.item, after_integer(v.columns.types),
                        [&](auto& st) { st.exchange(soci::use(key, "id")); });
  result.read_seq = seq_of(rows);
  auto& deps = result.dependencies;
  if (rows.empty() || rows.front()[1].is_null()) {
    // Its insert names this key.
    deps.push_back(row_key(d.tables[v.table].name, id));
    return result;
  }
  const auto& r = rows.front();
  // Found only when every inner join found a row; the keys say what was
  // looked for either way.
  result.found = add_row_dependencies(d, s, r, 1, deps);
  if (result.found) {
    std::vector<json> objects{object_of(s, v.columns, r, 1)};
    add_collections(d, statements_, v.collections, {r[1].integer}, objects,
                    deps);
    result.body = dump(objects.front());
  }
  deduplicate(deps);
  return result;
}

// -- lists --------------------------------------------------------------------

view_snapshot view_reader::list(const view_sql& v, const list_sql& l,
                                const query& q, uint32_t limit) {
  view_snapshot result;
  result.found = true;
  const auto& d = domain_;
  const auto& s = v.decl->scope;
  const auto& filters = v.decl->list->filters;
  auto& deps = result.dependencies;
  // Membership: the filtered rows of each filtered source, and every row of
  // the other sources on the paths to them.
  for (const auto& m : l.membership) {
    const auto& table = d.tables[s.sources[m.source].table];
    if (m.filters.empty())
      deps.push_back(table_key(table.name));
    for (auto i : m.filters)
      deps.push_back(column_key(table.name,
                                table.columns[filters[i].column_index].name,
                                q.filters[i]));
  }
  // The bound values, by address: the filters' in `cells`.
  long long after = q.after;
  long long fetch = static_cast<long long>(limit) + 1;
  std::vector<cell> cells(filters.size());
  auto uses = [&](soci::statement& st) {
    st.exchange(soci::use(after, "after"));
    for (size_t i = 0; i < filters.size() && i < q.filters.size(); ++i) {
      const auto& x = q.filters[i];
      auto& c = cells[i];
      auto name = "f" + std::to_string(i);
      switch (x.kind) {
      case value_kind::null:
        break;
      case value_kind::integer:
      case value_kind::boolean:
        c.integer = x.integer;
        st.exchange(soci::use(c.integer, name));
        break;
      case value_kind::number:
        c.number = x.number;
        st.exchange(soci::use(c.number, name));
        break;
      case value_kind::text:
        c.text = x.text;
        st.exchange(soci::use(c.text, name));
        break;
      }
    }
    st.exchange(soci::use(fetch, "fetch"));
  };
  auto rows =
      fetch_all(statements_, l.text, after_integer(v.columns.types), uses);
  result.read_seq = seq_of(rows);
  // No matching row gives one row of NULLs besides the seq.
  if (!rows.empty() && rows.front()[1].is_null())
    rows.clear();
  json next_after = nullptr;
  if (rows.size() > limit) {
    rows.resize(limit);
    next_after = rows.back()[1].integer;
  }
  std::vector<json> objects;
  std::vector<long long> ids;
  for (const auto& r : rows) {
    add_row_dependencies(d, s, r, 1, deps);
    objects.push_back(object_of(s, v.columns, r, 1));
    ids.push_back(r[1].integer);
  }
  add_collections(d, statements_, v.collections, ids, objects, deps);
  auto items = json::array();
  for (auto& obj : objects)
    items.push_back(std::move(obj));
  json page = json::object();
  page["items"] = std::move(items);
  page["next_after"] = std::move(next_after);
  result.body = dump(page);
  deduplicate(deps);
  return result;
}

} // namespace cqrs
