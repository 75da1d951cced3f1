// The OpenAPI document of a domain: its routes, with the answers that the
// declaration makes possible, and the components they use.
#include "model/openapi.hpp"

#include <set>

#include "model/command.hpp"
#include "model/openapi_parts.hpp"

namespace cqrs {

namespace openapi {

std::string pascal_case(std::string_view segment) {
  std::string result;
  bool upper = true;
  for (size_t i = 0; i < segment.size(); ++i) {
    char c = segment[i];
    if (c == '-') {
      bool letter_follows = i + 1 < segment.size() && segment[i + 1] >= 'a' &&
                            segment[i + 1] <= 'z';
      if (letter_follows)
        upper = true;
      else
        result += '_';
      continue;
    }
    result +=
        upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return result;
}

json ref(std::string_view kind, std::string_view name) {
  return {
      {"$ref", "#/components/" + std::string{kind} + "/" + std::string{name}}};
}

std::string code(std::string_view x) {
  return "`" + std::string{x} + "`";
}

std::string a_code(std::string_view x) {
  bool vowel = !x.empty() &&
               std::string_view{"aeiou"}.find(x[0]) != std::string_view::npos;
  return (vowel ? "an " : "a ") + code(x);
}

namespace {

constexpr size_t prose_width = 72;

// Whether a line that starts with `word` would start a Markdown block (a
// list item, a heading, a quote, an underline) inside a paragraph.
bool starts_block(std::string_view word) {
  return word == "-" || word == "+" || word == "*" || word[0] == '#' ||
         word[0] == '>' || word.find_first_not_of('=') == word.npos ||
         word.find_first_not_of('-') == word.npos;
}

} // namespace

std::string prose(std::string_view text) {
  std::string result;
  size_t line = 0;
  bool first_word = true;
  size_t pos = 0;
  while (pos < text.size()) {
    // One paragraph: up to a blank line.
    auto end = text.find("\n\n", pos);
    if (end == text.npos)
      end = text.size();
    auto paragraph = text.substr(pos, end - pos);
    pos = text.find_first_not_of('\n', end);
    if (pos == text.npos)
      pos = text.size();
    if (!result.empty()) {
      result += "\n\n";
      line = 0;
      first_word = true;
    }
    size_t i = 0;
    while (i < paragraph.size()) {
      i = paragraph.find_first_not_of(" \n", i);
      if (i == paragraph.npos)
        break;
      auto j = paragraph.find_first_of(" \n", i);
      if (j == paragraph.npos)
        j = paragraph.size();
      auto word = paragraph.substr(i, j - i);
      i = j;
      if (first_word) {
        first_word = false;
      } else if (line + 1 + word.size() > prose_width && !starts_block(word)) {
        result += '\n';
        line = 0;
      } else {
        result += ' ';
        ++line;
      }
      result += word;
      line += word.size();
    }
  }
  if (result.find('\n') != result.npos)
    result += '\n';
  return result;
}

} // namespace openapi

namespace {

using openapi::a_code;
using openapi::code;
using openapi::json;
using openapi::ref;

// -- what a write may answer --------------------------------------------------

// Whether a body of `r` holds a column that `pick` picks. The `by` of a
// child is not in the body: cqrsd sets it to the parent row's id, which
// exists, and which no other row holds when the child is single.
bool has_column(const domain& d, const resource_decl& r,
                bool (*pick)(const column_decl&), bool many_by_counts) {
  for (size_t n = 0; n < r.nodes.size(); ++n) {
    const auto& node = r.nodes[n];
    const auto& columns = d.tables[node.table].columns;
    for (size_t c = 0; c < columns.size(); ++c) {
      bool by = node.parent >= 0 && node.by == c;
      if ((!by || (node.many && many_by_counts)) && pick(columns[c]))
        return true;
    }
  }
  return false;
}

// Whether a row of a node in `removed` may be referenced by a row outside
// its aggregate: by any `references` column but the `by` of its own owned
// children.
bool referenced_from_outside(const domain& d, const resource_decl& r,
                             const std::vector<size_t>& removed) {
  for (auto n : removed) {
    const auto& target = d.tables[r.nodes[n].table].name;
    for (size_t t = 0; t < d.tables.size(); ++t) {
      const auto& columns = d.tables[t].columns;
      for (size_t c = 0; c < columns.size(); ++c) {
        if (columns[c].type != column_type::reference ||
            columns[c].references != target)
          continue;
        bool own_child = false;
        for (auto child : r.nodes[n].children)
          own_child |= r.nodes[child].table == t && r.nodes[child].by == c;
        if (!own_child)
          return true;
      }
    }
  }
  return false;
}

// What the writes of a resource may answer beyond every write's answers.
struct write_answers {
  bool missing_reference = false;
  bool duplicate_value = false;
  bool put_still_referenced = false;
  bool delete_still_referenced = false;
};

write_answers answers_of(const domain& d, const resource_decl& r) {
  write_answers a;
  a.missing_reference = has_column(
      d, r,
      [](const column_decl& c) { return c.type == column_type::reference; },
      false);
  // Two items of an array hold the same `by`.
  a.duplicate_value = has_column(
      d, r, [](const column_decl& c) { return c.unique; }, true);
  // DELETE removes every row of the aggregate; PUT keeps the root and
  // single children and replaces the rows of owned arrays, at any depth.
  std::vector<size_t> all, replaced;
  for (size_t n = 0; n < r.nodes.size(); ++n) {
    all.push_back(n);
    for (int m = static_cast<int>(n); m > 0; m = r.nodes[m].parent)
      if (r.nodes[m].many) {
        replaced.push_back(n);
        break;
      }
  }
  a.delete_still_referenced = referenced_from_outside(d, r, all);
  a.put_still_referenced = referenced_from_outside(d, r, replaced);
  return a;
}

json response_ref(std::string_view name) {
  return ref("responses", name);
}

// The 409 answer of a write that may find a duplicate value and may find a
// row still referenced; null when it can do neither.
json conflict(bool duplicate, bool referenced) {
  if (duplicate && referenced)
    return response_ref("DuplicateValueOrStillReferenced");
  if (duplicate)
    return response_ref("DuplicateValue");
  if (referenced)
    return response_ref("StillReferenced");
  return nullptr;
}

// -- operations ---------------------------------------------------------------

json any_or_bearer() {
  return json::array({json::object(), {{"bearerAuth", json::array()}}});
}

// The words for what a write of `r` changes: "a `t` row and its owned
// `x` and `y`".
std::string aggregate_words(const domain& d, const resource_decl& r) {
  auto words = a_code(d.tables[r.nodes[0].table].name) + " row";
  if (r.owns.empty())
    return words;
  words += " and its owned ";
  for (size_t i = 0; i < r.owns.size(); ++i)
    words += (i == 0                   ? ""
              : i + 1 == r.owns.size() ? " and "
                                       : ", ") +
             code(r.owns[i].field);
  return words;
}

json write_operation(const domain& d, const resource_decl& r, operation op) {
  auto a = answers_of(d, r);
  auto name = openapi::pascal_case(r.segment);
  auto what = aggregate_words(d, r);
  json o{{"tags", {"commands"}}};
  json responses;
  switch (op) {
  case operation::create:
    o["operationId"] = "create" + name;
    o["summary"] = "Create " + what;
    responses["201"] = response_ref("Created");
    break;
  case operation::update:
    o["operationId"] = "replace" + name;
    o["summary"] = "Replace " + what;
    responses["200"] = response_ref("Written");
    break;
  case operation::remove:
    o["operationId"] = "delete" + name;
    o["summary"] =
        "Delete " + what + (r.nodes.size() > 1 ? ", at every depth" : "");
    responses["200"] = response_ref("Written");
    break;
  }
  o["security"] = any_or_bearer();
  o["parameters"] = {ref("parameters", "IdempotencyKey")};
  if (op != operation::remove)
    o["requestBody"] = {
        {"required", true},
        {"content",
         {{"application/json",
           {{"schema", ref("schemas", openapi::input_name(r))}}}}}};
  responses["400"] = response_ref("BadRequest");
  responses["401"] = response_ref("Unauthorized");
  if (op != operation::create)
    responses["404"] = response_ref("NotFound");
  auto conflicts = op == operation::create ? conflict(a.duplicate_value, false)
                   : op == operation::update
                       ? conflict(a.duplicate_value, a.put_still_referenced)
                       : conflict(false, a.delete_still_referenced);
  if (!conflicts.is_null())
    responses["409"] = conflicts;
  if (op != operation::remove) {
    responses["413"] = response_ref("PayloadTooLarge");
    responses["415"] = response_ref("UnsupportedMediaType");
  }
  responses["422"] = response_ref(op != operation::remove && a.missing_reference
                                      ? "MissingReferenceOrKeyReused"
                                      : "IdempotencyKeyReused");
  responses["503"] = response_ref("Unavailable");
  o["responses"] = std::move(responses);
  return o;
}

// The 200 answer of a read: JSON of `schema`, with `X-Seq`.
json read_answer(std::string description, json schema) {
  return {{"description", std::move(description)},
          {"headers", {{"X-Seq", ref("headers", "X-Seq")}}},
          {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
}

json get_operation(const view_decl& v) {
  auto name = openapi::pascal_case(v.segment);
  return {{"tags", {"queries"}},
          {"operationId", "get" + name},
          {"summary", "Read the " + code(v.segment) + " view of a " +
                          code(v.from) + " row"},
          {"security", any_or_bearer()},
          {"parameters", {ref("parameters", "MinSeq")}},
          {"responses",
           {{"200",
             read_answer("The view.", ref("schemas", openapi::view_name(v)))},
            {"400", response_ref("BadRequest")},
            {"401", response_ref("Unauthorized")},
            {"404", response_ref("ReadNotFound")},
            {"503", response_ref("Unavailable")},
            {"504", response_ref("MinSeqTimeout")}}}};
}

json list_operation(const domain& d, const view_decl& v) {
  const auto& list = *v.list;
  auto parameters = json::array();
  for (const auto& f : list.filters) {
    const auto& source = v.scope.sources[f.source];
    const auto& c = d.tables[source.table].columns[f.column_index];
    parameters.push_back(
        {{"name", f.name},
         {"in", "query"},
         {"description", "Only views whose " + code(f.table + "." + f.column) +
                             " equals this value (never null)."},
         {"required", false},
         {"schema", openapi::filter_schema(c)}});
  }
  parameters.push_back(
      {{"name", "limit"},
       {"in", "query"},
       {"description", "Page size; outside 1.." +
                           std::to_string(list.max_limit) + " answers 400."},
       {"required", false},
       {"schema",
        {{"type", "integer"},
         {"minimum", 1},
         {"maximum", list.max_limit},
         {"default", list.default_limit}}}});
  parameters.push_back(ref("parameters", "After"));
  parameters.push_back(ref("parameters", "MinSeq"));
  return {{"tags", {"queries"}},
          {"operationId", "list" + openapi::pascal_case(v.segment)},
          {"summary", "List " + code(v.segment) +
                          " views by ascending id, one page at a time"},
          {"description", "An unknown or repeated parameter, or a value "
                          "of the wrong type, answers 400.\n"},
          {"security", any_or_bearer()},
          {"parameters", std::move(parameters)},
          {"responses",
           {{"200", read_answer("One page of views.",
                                ref("schemas", openapi::page_name(v)))},
            {"400", response_ref("BadRequest")},
            {"401", response_ref("Unauthorized")},
            {"503", response_ref("Unavailable")},
            {"504", response_ref("MinSeqTimeout")}}}};
}

// -- components in use --------------------------------------------------------

// Adds the (kind, name) of every component that `x` refers to.
void collect_refs(const json& x,
                  std::set<std::pair<std::string, std::string>>& out) {
  if (x.is_object()) {
    auto it = x.find("$ref");
    if (it != x.end() && it->is_string()) {
      constexpr std::string_view prefix = "#/components/";
      std::string_view target = it->get_ref<const std::string&>();
      if (target.substr(0, prefix.size()) == prefix) {
        target.remove_prefix(prefix.size());
        auto slash = target.find('/');
        auto kind = target.substr(0, slash);
        auto rest = target.substr(slash + 1);
        out.emplace(std::string{kind},
                    std::string{rest.substr(0, rest.find('/'))});
      }
    }
    for (const auto& [key, value] : x.items())
      collect_refs(value, out);
  } else if (x.is_array()) {
    for (const auto& value : x)
      collect_refs(value, out);
  }
}

// The shared components that `used` refers to, and those they refer to, in
// the order of `shared_components`.
json used_components(const json& used) {
  auto shared = openapi::shared_components();
  std::set<std::pair<std::string, std::string>> refs;
  collect_refs(used, refs);
  for (size_t seen = 0; seen != refs.size();) {
    seen = refs.size();
    for (const auto& [kind, name] : std::set{refs})
      if (shared.contains(kind) && shared[kind].contains(name))
        collect_refs(shared[kind][name], refs);
  }
  json result = json::object();
  for (const auto& [kind, components] : shared.items())
    for (const auto& [name, component] : components.items())
      if (kind == "securitySchemes" || refs.count({kind, name}) != 0)
        result[kind][name] = component;
  return result;
}

// Wraps every description (see `prose`).
void wrap_descriptions(json& x) {
  if (x.is_object()) {
    for (auto& [key, value] : x.items()) {
      if (key == "description" && value.is_string())
        value = openapi::prose(value.get_ref<const std::string&>());
      else
        wrap_descriptions(value);
    }
  } else if (x.is_array()) {
    for (auto& value : x)
      wrap_descriptions(value);
  }
}

} // namespace

json openapi_document(const domain& d) {
  // Segments in the order of the file: resources, then views without a
  // resource of the same segment.
  std::vector<std::string> segments;
  for (const auto& r : d.resources)
    segments.push_back(r.segment);
  for (const auto& v : d.views)
    if (!d.resource_index(v.segment))
      segments.push_back(v.segment);
  json paths = json::object();
  json schemas = json::object();
  for (const auto& segment : segments) {
    const resource_decl* r = nullptr;
    const view_decl* v = nullptr;
    if (auto i = d.resource_index(segment))
      r = &d.resources[*i];
    if (auto i = d.view_index(segment))
      v = &d.views[*i];
    json all = json::object();
    json one = json::object();
    if (v != nullptr && v->list)
      all["get"] = list_operation(d, *v);
    if (r != nullptr)
      all["post"] = write_operation(d, *r, operation::create);
    one["parameters"] = {ref("parameters", "Id")};
    if (v != nullptr)
      one["get"] = get_operation(*v);
    if (r != nullptr) {
      one["put"] = write_operation(d, *r, operation::update);
      one["delete"] = write_operation(d, *r, operation::remove);
    }
    if (!all.empty())
      paths["/" + segment] = std::move(all);
    paths["/" + segment + "/{id}"] = std::move(one);
    if (r != nullptr)
      schemas[openapi::input_name(*r)] = openapi::input_schema(d, *r);
    if (v != nullptr) {
      schemas[openapi::view_name(*v)] = openapi::view_schema(d, *v);
      if (v->list)
        schemas[openapi::page_name(*v)] = openapi::page_schema(*v);
    }
  }
  auto common = openapi::common_paths();
  for (auto& [path, item] : common.items())
    paths[path] = item;
  auto components = used_components({paths, schemas});
  // The domain's schemas first: they are what a reader looks for.
  for (auto& [name, schema] : components["schemas"].items())
    schemas[name] = schema;
  components["schemas"] = std::move(schemas);
  json doc{{"openapi", "3.0.3"},
           {"info", openapi::info(d)},
           {"servers", openapi::servers()},
           {"tags", openapi::tags()},
           {"paths", std::move(paths)},
           {"components", std::move(components)}};
  wrap_descriptions(doc);
  return doc;
}

} // namespace cqrs
