// The schemas of the OpenAPI document that the declaration gives: request
// bodies of resources, views, pages and filter parameters.
#include "model/openapi_parts.hpp"

namespace cqrs::openapi {

namespace {

// A positive row id; `nullable` when it may be null.
json id_schema(bool nullable) {
  json s{{"type", "integer"}, {"format", "int64"}, {"minimum", 1}};
  if (nullable)
    s["nullable"] = true;
  return s;
}

// The type of column `c` and, when `bounds`, its declared bounds and
// values.
json typed_schema(const column_decl& c, bool bounds) {
  json s;
  switch (c.type) {
  case column_type::text:
    s["type"] = "string";
    if (bounds) {
      s["minLength"] = c.min_length;
      s["maxLength"] = c.max_length;
      if (!c.one_of.empty())
        s["enum"] = c.one_of;
    }
    break;
  case column_type::integer:
    s["type"] = "integer";
    s["format"] = "int64";
    if (bounds && c.min_integer)
      s["minimum"] = *c.min_integer;
    if (bounds && c.max_integer)
      s["maximum"] = *c.max_integer;
    break;
  case column_type::number:
    s["type"] = "number";
    s["format"] = "double";
    if (bounds && c.min_number)
      s["minimum"] = *c.min_number;
    if (bounds && c.max_number)
      s["maximum"] = *c.max_number;
    break;
  case column_type::boolean:
    s["type"] = "boolean";
    break;
  case column_type::reference:
    s = id_schema(false);
    break;
  }
  return s;
}

// A column of a request body: its type, bounds and whether it may be null,
// and what a write may answer because of it.
json body_column_schema(const table_decl& t, const column_decl& c) {
  std::string text;
  if (c.type == column_type::reference)
    text = "The id of " + a_code(c.references) +
           " row; an id that names no row answers 422 "
           "(`missing_reference`).";
  if (c.unique) {
    if (!text.empty())
      text += ' ';
    text += "No two " + code(t.name) +
            " rows hold the same value; a value that another row holds "
            "answers 409 (`duplicate_value`).";
  }
  if (c.optional) {
    if (!text.empty())
      text += ' ';
    text += "May be null or left out.";
  }
  json s;
  if (!text.empty())
    s["description"] = text;
  s.update(typed_schema(c, true));
  if (c.optional)
    s["nullable"] = true;
  return s;
}

// The object of node `n` of resource `r`: its table's columns (less the
// `by` that points at its parent), then its owned fields.
json node_schema(const domain& d, const resource_decl& r, size_t n) {
  const auto& node = r.nodes[n];
  const auto& t = d.tables[node.table];
  auto required = json::array();
  json properties = json::object();
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (node.parent >= 0 && i == node.by)
      continue;
    const auto& c = t.columns[i];
    if (!c.optional)
      required.push_back(c.name);
    properties[c.name] = body_column_schema(t, c);
  }
  for (auto child : r.nodes[n].children) {
    const auto& cn = r.nodes[child];
    const auto& ct = d.tables[cn.table];
    const auto& by = ct.columns[cn.by].name;
    required.push_back(cn.field);
    json s;
    if (cn.many) {
      s["description"] =
          "The owned " + code(ct.name) + " rows, 0 to " +
          std::to_string(cn.max_items) +
          ". A PUT deletes the rows it held and inserts these, in this "
          "order; cqrsd sets their " +
          code(by) + ".";
      s["type"] = "array";
      s["maxItems"] = cn.max_items;
      s["items"] = node_schema(d, r, child);
    } else {
      s["description"] = "The owned " + code(ct.name) +
                         " row; a PUT keeps its id. cqrsd sets its " +
                         code(by) + ".";
      s.update(node_schema(d, r, child));
    }
    properties[cn.field] = std::move(s);
  }
  json result{{"type", "object"}, {"additionalProperties", false}};
  if (!required.empty())
    result["required"] = std::move(required);
  result["properties"] = std::move(properties);
  return result;
}

// The objects of a view or a collection: fields in declared order, then
// collections.
json scope_schema(const domain& d, const view_scope& s) {
  auto required = json::array();
  json properties = json::object();
  for (size_t i = 0; i < s.fields.size(); ++i) {
    const auto& f = s.fields[i];
    const auto& r = s.resolved[i];
    const auto& src = s.sources[r.source];
    const auto& t = d.tables[src.table];
    required.push_back(f.name);
    json p{{"description",
            "From " + code(f.table + "." + f.column) +
                (src.may_be_missing ? "; null when the join found no row."
                                    : ".")}};
    if (r.column) {
      const auto& c = t.columns[*r.column];
      p.update(typed_schema(c, false));
      if (c.optional || src.may_be_missing)
        p["nullable"] = true;
    } else {
      p.update(id_schema(src.may_be_missing));
    }
    properties[f.name] = std::move(p);
  }
  for (const auto& c : s.collections) {
    required.push_back(c.name);
    auto order = c.order_by == "id" && !c.order_field
                     ? std::string{"id"}
                     : code(c.order_by) + ", then by id";
    json p{{"description", "The " + code(c.from) + " rows whose " + code(c.by) +
                               " is this row's id, by " + order + " (at most " +
                               std::to_string(c.limit) + ")."},
           {"type", "array"},
           {"maxItems", c.limit},
           {"items", scope_schema(d, c.scope)}};
    properties[c.name] = std::move(p);
  }
  json result{{"type", "object"}, {"additionalProperties", false}};
  if (!required.empty())
    result["required"] = std::move(required);
  result["properties"] = std::move(properties);
  return result;
}

} // namespace

std::string input_name(const resource_decl& r) {
  return pascal_case(r.segment) + "Input";
}

std::string view_name(const view_decl& v) {
  return pascal_case(v.segment) + "View";
}

std::string page_name(const view_decl& v) {
  return pascal_case(v.segment) + "Page";
}

json input_schema(const domain& d, const resource_decl& r) {
  const auto& root = d.tables[r.nodes[0].table];
  std::string text = "The body of POST and PUT " + code("/" + r.segment) +
                     ": " + a_code(root.name) + " row";
  if (!r.owns.empty()) {
    text += " with its owned ";
    for (size_t i = 0; i < r.owns.size(); ++i)
      text += (i == 0                   ? ""
               : i + 1 == r.owns.size() ? " and "
                                        : ", ") +
              code(r.owns[i].field);
  }
  text += '.';
  json s{{"description", std::move(text)}};
  s.update(node_schema(d, r, 0));
  return s;
}

json view_schema(const domain& d, const view_decl& v) {
  json s{{"description", "The " + code(v.segment) + " view of one " +
                             code(v.from) +
                             " row; its keys come in this order."}};
  s.update(scope_schema(d, v.scope));
  return s;
}

json page_schema(const view_decl& v) {
  json items{{"type", "array"},
             {"maxItems", v.list ? v.list->max_limit : max_list_limit},
             {"items", ref("schemas", view_name(v))}};
  json next{{"description", "The `after` value that fetches the next page, "
                            "or null when there is none."}};
  next.update(id_schema(true));
  return {{"description",
           "One page of " + code(v.segment) + " views, by ascending id."},
          {"type", "object"},
          {"additionalProperties", false},
          {"required", {"items", "next_after"}},
          {"properties", {{"items", items}, {"next_after", next}}}};
}

json filter_schema(const column_decl& c) {
  // Text is checked against the column's bounds and values; an integer or
  // a number outside the column's bounds is valid and matches no row.
  return typed_schema(c, c.type == column_type::text);
}

} // namespace cqrs::openapi
