// The canonical text of a domain: what two nodes compare (by its SHA-256) to
// know that they serve the same domain.
#include "model/domain.hpp"

#include <nlohmann/json.hpp>

namespace cqrs {

namespace {

using json = nlohmann::json;

// JSON objects (std::map) sort their keys, so the order of keys in the file
// does not count. Maps whose order is visible to clients (columns, owns,
// fields, collections, filters) are arrays of [name, value] pairs in
// declared order. Every option is spelled out, defaults included.

json column_json(const column_decl& c) {
  json out = {{"type", to_string(c.type)},
              {"optional", c.optional},
              {"unique", c.unique}};
  switch (c.type) {
  case column_type::text:
    out["min_length"] = c.min_length;
    out["max_length"] = c.max_length;
    out["one_of"] = c.one_of;
    break;
  case column_type::integer:
    out["min"] = c.min_integer ? json(*c.min_integer) : json(nullptr);
    out["max"] = c.max_integer ? json(*c.max_integer) : json(nullptr);
    break;
  case column_type::number:
    // -0 was read as 0; doubles print in their shortest round-trip form.
    out["min"] = c.min_number ? json(*c.min_number) : json(nullptr);
    out["max"] = c.max_number ? json(*c.max_number) : json(nullptr);
    break;
  case column_type::reference:
    out["references"] = c.references;
    break;
  case column_type::boolean:
    break;
  }
  return out;
}

json owns_json(const std::vector<owned_decl>& owns) {
  json out = json::array();
  for (const auto& o : owns)
    out.push_back(json::array({o.field,
                               {{"table", o.table},
                                {"by", o.by},
                                {"many", o.many},
                                {"max_items", o.max_items},
                                {"owns", owns_json(o.owns)}}}));
  return out;
}

std::string column_ref(const std::string& table, const std::string& column) {
  return table + "." + column;
}

void scope_json(const view_scope& s, json& out) {
  out["join"] = json::array();
  for (const auto& j : s.joins)
    out["join"].push_back(column_ref(j.table, j.column));
  out["fields"] = json::array();
  for (const auto& f : s.fields)
    out["fields"].push_back(
        json::array({f.name, column_ref(f.table, f.column)}));
  out["collections"] = json::array();
  for (const auto& c : s.collections) {
    json x = {{"from", c.from},
              {"by", c.by},
              {"order_by", c.order_by},
              {"limit", c.limit}};
    scope_json(c.scope, x);
    out["collections"].push_back(json::array({c.name, std::move(x)}));
  }
}

} // namespace

std::string canonical_text(const domain& d) {
  json tables = json::object();
  for (const auto& t : d.tables) {
    json columns = json::array();
    for (const auto& c : t.columns)
      columns.push_back(json::array({c.name, column_json(c)}));
    tables[t.name] = {{"columns", std::move(columns)}};
  }
  json resources = json::object();
  for (const auto& r : d.resources)
    resources[r.segment] = {{"table", r.table}, {"owns", owns_json(r.owns)}};
  json views = json::object();
  for (const auto& v : d.views) {
    json x = {{"from", v.from}};
    scope_json(v.scope, x);
    if (v.list) {
      json filters = json::array();
      for (const auto& f : v.list->filters)
        filters.push_back(json::array({f.name, column_ref(f.table, f.column)}));
      x["list"] = {{"filters", std::move(filters)},
                   {"default_limit", v.list->default_limit},
                   {"max_limit", v.list->max_limit}};
    } else {
      x["list"] = nullptr;
    }
    views[v.segment] = std::move(x);
  }
  json out = {{"name", d.name},
              {"tables", std::move(tables)},
              {"resources", std::move(resources)},
              {"views", std::move(views)}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace cqrs
