// The rules of a domain file that relate its nodes to each other: names that
// resolve, required reference cycles, ownership, joins, fields, collections
// and list filters (DOMAIN.md).
#include "config/domain_reading.hpp"

#include <map>
#include <utility>
#include <vector>

namespace cqrs::domain_reading {

namespace {

/// Walks a domain, stopping at the first broken rule.
class domain_checker {
public:
  domain_checker(const domain& d, std::string& path, std::string& message)
      : d_(d), path_(path), message_(message) {}

  bool check() {
    return check_references() && check_cycles() && check_resources() &&
           check_views();
  }

private:
  bool fail(std::string path, std::string message) {
    path_ = std::move(path);
    message_ = std::move(message);
    return false;
  }

  // -- tables -----------------------------------------------------------------

  static std::string column_path(const table_decl& t, const column_decl& c) {
    return "tables." + t.name + ".columns." + c.name;
  }

  /// Every `references` names a declared table.
  bool check_references() {
    for (const auto& t : d_.tables)
      for (const auto& c : t.columns)
        if (c.type == column_type::reference && !d_.table_index(c.references))
          return fail(column_path(t, c) + ".references",
                      "names no declared table " + quote(c.references));
    return true;
  }

  /// No cycle of required references: no row of it could be written first.
  bool check_cycles() {
    std::vector<int> state(d_.tables.size(), 0);  // 0 new, 1 open, 2 done
    std::vector<std::pair<size_t, size_t>> stack; // (table, column) edges
    for (size_t t = 0; t < d_.tables.size(); ++t)
      if (state[t] == 0 && !visit(t, state, stack))
        return false;
    return true;
  }

  bool visit(size_t t, std::vector<int>& state,
             std::vector<std::pair<size_t, size_t>>& stack) {
    state[t] = 1;
    const auto& table = d_.tables[t];
    for (size_t c = 0; c < table.columns.size(); ++c) {
      const auto& col = table.columns[c];
      if (col.type != column_type::reference || col.optional)
        continue;
      auto u = *d_.table_index(col.references);
      stack.emplace_back(t, c);
      if (state[u] == 1)
        return cycle_error(u, stack);
      if (state[u] == 0 && !visit(u, state, stack))
        return false;
      stack.pop_back();
    }
    state[t] = 2;
    return true;
  }

  bool cycle_error(size_t start,
                   const std::vector<std::pair<size_t, size_t>>& stack) {
    size_t first = stack.size() - 1;
    while (stack[first].first != start)
      --first;
    std::string cycle;
    for (size_t i = first; i < stack.size(); ++i) {
      const auto& t = d_.tables[stack[i].first];
      const auto& c = t.columns[stack[i].second];
      if (!cycle.empty())
        cycle += ", ";
      cycle += t.name + "." + c.name + " -> " + c.references;
    }
    const auto& t = d_.tables[stack[first].first];
    return fail(column_path(t, t.columns[stack[first].second]) + ".references",
                "a cycle of required references (" + cycle +
                    "): no row of it could be written first; make one of "
                    "these columns optional: true");
  }

  // -- resources --------------------------------------------------------------

  bool check_resources() {
    // Where each table already has its place: root of a resource or owned.
    std::map<size_t, std::string> placed;
    for (const auto& r : d_.resources) {
      auto path = "resources." + r.segment;
      auto table = d_.table_index(r.table);
      if (!table)
        return fail(path + ".table",
                    "names no declared table " + quote(r.table));
      if (!place(placed, *table, path + ".table",
                 "the root of resource " + quote(r.segment)))
        return false;
      if (!check_owns(path + ".owns", r.owns, *table, placed))
        return false;
    }
    return true;
  }

  /// Gives `table` its one place in the ownership forest.
  bool place(std::map<size_t, std::string>& placed, size_t table,
             const std::string& path, const std::string& where) {
    auto [it, fresh] = placed.emplace(table, where);
    if (fresh)
      return true;
    return fail(path, d_.tables[table].name + " is already " + it->second +
                          "; a table is the root of at most one resource, "
                          "or owned by exactly one parent");
  }

  bool check_owns(const std::string& path, const std::vector<owned_decl>& owns,
                  size_t parent, std::map<size_t, std::string>& placed) {
    const auto& parent_table = d_.tables[parent];
    for (const auto& o : owns) {
      auto o_path = child(path, o.field);
      if (o.field == "id")
        return fail(o_path, "an owned field may not be named id: no body "
                            "holds id");
      if (parent_table.column_index(o.field))
        return fail(o_path, "the owned field " + quote(o.field) +
                                " has the name of a column of " +
                                parent_table.name + ", and a body holds both");
      auto table = d_.table_index(o.table);
      if (!table)
        return fail(o_path + ".table",
                    "names no declared table " + quote(o.table));
      if (!place(placed, *table, o_path + ".table", "owned by " + o_path))
        return false;
      const auto& t = d_.tables[*table];
      auto by_path = o_path + ".by";
      auto by = references_column(by_path, t, o.by);
      if (!by)
        return false;
      const auto& c = t.columns[*by];
      if (c.references != parent_table.name)
        return fail(by_path, t.name + "." + c.name + " references " +
                                 c.references + ", not " + parent_table.name +
                                 " (the parent's table)");
      if (c.optional)
        return fail(by_path, t.name + "." + c.name +
                                 " is optional; the by column of an owned "
                                 "child must be required");
      if (o.many && c.unique)
        return fail(by_path, t.name + "." + c.name +
                                 " is unique, so an owned array could hold "
                                 "at most one row; use many: false");
      if (!check_owns(o_path + ".owns", o.owns, *table, placed))
        return false;
    }
    return true;
  }

  /// Finds the `references` column `name` of `t`, or fails at `path`.
  std::optional<size_t> references_column(const std::string& path,
                                          const table_decl& t,
                                          const std::string& name) {
    if (name == "id") {
      fail(path, "expected a references column of " + t.name + ", got its id");
      return std::nullopt;
    }
    auto c = t.column_index(name);
    if (!c) {
      fail(path, t.name + " has no column " + quote(name));
      return std::nullopt;
    }
    const auto& col = t.columns[*c];
    if (col.type != column_type::reference) {
      fail(path, t.name + "." + name + " is a " + to_string(col.type) +
                     " column, not a references column");
      return std::nullopt;
    }
    return c;
  }

  /// Whether `t.c` is the `by` of an owned single (many: false) child.
  bool is_single_child_by(const std::string& t, const std::string& c) const {
    for (const auto& r : d_.resources)
      if (single_child_by_in(r.owns, t, c))
        return true;
    return false;
  }

  static bool single_child_by_in(const std::vector<owned_decl>& owns,
                                 const std::string& t, const std::string& c) {
    for (const auto& o : owns)
      if ((!o.many && o.table == t && o.by == c) ||
          single_child_by_in(o.owns, t, c))
        return true;
    return false;
  }

  // -- views ------------------------------------------------------------------

  bool check_views() {
    for (const auto& v : d_.views) {
      auto path = "views." + v.segment;
      auto from = d_.table_index(v.from);
      if (!from)
        return fail(path + ".from", "names no declared table " + quote(v.from));
      if (auto r = d_.resource_index(v.segment);
          r && d_.resources[*r].table != v.from)
        return fail(path + ".from",
                    "the view shares its segment with the resource " +
                        quote(v.segment) + ", so from must be " +
                        d_.resources[*r].table +
                        " (the resource's table), got " + quote(v.from));
      std::vector<size_t> tables;
      if (!check_scope(path, v.scope, *from, "view", tables))
        return false;
      if (v.list && !check_filters(path + ".list.filters", *v.list, tables))
        return false;
    }
    return true;
  }

  /// Checks the joins, fields and collections of a view or collection whose
  /// root is `root`; `tables` receives the scope's tables in join order.
  bool check_scope(const std::string& path, const view_scope& s, size_t root,
                   const char* what, std::vector<size_t>& tables) {
    tables = {root};
    for (size_t i = 0; i < s.joins.size(); ++i)
      if (!check_join(path + ".join[" + std::to_string(i) + "]", s.joins[i],
                      what, tables))
        return false;
    for (const auto& f : s.fields) {
      auto f_path = path + ".fields." + f.name;
      auto t = scope_table(f_path, f.table, what, tables);
      if (!t)
        return false;
      if (f.column != "id" && !d_.tables[*t].column_index(f.column))
        return fail(f_path, f.table + " has no column " + quote(f.column));
    }
    for (const auto& c : s.collections)
      if (!check_collection(path + ".collections." + c.name, c, s, root))
        return false;
    return true;
  }

  bool check_join(const std::string& path, const join_decl& j, const char* what,
                  std::vector<size_t>& tables) {
    auto t = d_.table_index(j.table);
    if (!t)
      return fail(path, "names no declared table " + quote(j.table));
    auto c = references_column(path, d_.tables[*t], j.column);
    if (!c)
      return false;
    const auto& col = d_.tables[*t].columns[*c];
    auto target = *d_.table_index(col.references);
    auto name = j.table + "." + j.column;
    if (in(tables, *t)) {
      // Forward: adds the referenced table.
      if (in(tables, target))
        return fail(path, "the join adds " + col.references +
                              ", which is in the " + what +
                              " already; a table appears at most once in a "
                              "view, and once in each collection");
      tables.push_back(target);
      return true;
    }
    // Backward: adds t, whose column references a table of the scope.
    if (!in(tables, target))
      return fail(path, "neither is " + j.table + " in the " + what +
                            " yet nor does " + name +
                            " reference a table in it (" + names(tables) +
                            "); each join starts from a table joined before");
    if (!col.unique && !is_single_child_by(j.table, j.column))
      return fail(path, name +
                            " is neither unique nor the by of an owned "
                            "single child, so it may match many rows of " +
                            j.table + "; read those with a collection");
    tables.push_back(*t);
    return true;
  }

  bool check_collection(const std::string& path, const collection_decl& c,
                        const view_scope& enclosing, size_t enclosing_root) {
    for (const auto& f : enclosing.fields)
      if (f.name == c.name)
        return fail(path, "the collection " + quote(c.name) +
                              " has the name of a field beside it; both "
                              "would be keys of one JSON object");
    auto from = d_.table_index(c.from);
    if (!from)
      return fail(path + ".from", "names no declared table " + quote(c.from));
    auto by_path = path + ".by";
    auto by = references_column(by_path, d_.tables[*from], c.by);
    if (!by)
      return false;
    const auto& col = d_.tables[*from].columns[*by];
    const auto& root_name = d_.tables[enclosing_root].name;
    if (col.references != root_name)
      return fail(by_path, c.from + "." + c.by + " references " +
                               col.references + ", not " + root_name +
                               " (the table of the row it is nested in)");
    std::vector<size_t> tables;
    if (!check_scope(path, c.scope, *from, "collection", tables))
      return false;
    if (c.order_by == "id")
      return true;
    for (const auto& f : c.scope.fields)
      if (f.name == c.order_by)
        return true;
    for (const auto& nested : c.scope.collections)
      if (nested.name == c.order_by)
        return fail(path + ".order_by",
                    quote(c.order_by) +
                        " is a nested collection; order_by takes a field "
                        "of the collection, or id");
    std::string fields;
    for (const auto& f : c.scope.fields)
      fields += (fields.empty() ? "" : ", ") + f.name;
    return fail(path + ".order_by", "expected a field of the collection (" +
                                        fields + ") or id, got " +
                                        quote(c.order_by));
  }

  bool check_filters(const std::string& path, const list_decl& l,
                     const std::vector<size_t>& tables) {
    for (const auto& f : l.filters) {
      auto f_path = child(path, f.name);
      auto t = scope_table(f_path, f.table, "view", tables);
      if (!t)
        return false;
      if (f.column == "id")
        return fail(f_path, "a filter takes a declared column, not id: "
                            "filter on the references column that holds "
                            "it, or read one row with GET /<view>/{id}");
      if (!d_.tables[*t].column_index(f.column))
        return fail(f_path, f.table + " has no column " + quote(f.column));
    }
    return true;
  }

  /// Finds table `name` among the scope's `tables`, or fails at `path`.
  std::optional<size_t> scope_table(const std::string& path,
                                    const std::string& name, const char* what,
                                    const std::vector<size_t>& tables) {
    auto t = d_.table_index(name);
    if (!t) {
      fail(path, "names no declared table " + quote(name));
      return std::nullopt;
    }
    if (!in(tables, *t)) {
      fail(path, "names " + name + ", which is not in the " + what + " (" +
                     names(tables) + "); join it first");
      return std::nullopt;
    }
    return t;
  }

  static bool in(const std::vector<size_t>& tables, size_t t) {
    for (auto x : tables)
      if (x == t)
        return true;
    return false;
  }

  std::string names(const std::vector<size_t>& tables) const {
    std::string out;
    for (auto t : tables)
      out += (out.empty() ? "" : ", ") + d_.tables[t].name;
    return out;
  }

  const domain& d_;
  std::string& path_;
  std::string& message_;
};

} // namespace

bool check_domain(const domain& d, std::string& path, std::string& message) {
  return domain_checker{d, path, message}.check();
}

} // namespace cqrs::domain_reading
