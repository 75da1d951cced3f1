// Loads a domain file: reads its YAML into a `domain`, checking the shape of
// every node (keys, kinds, names, values; tables in domain_tables.cpp), then
// the rules between nodes (domain_checks.cpp), and derives it.
#include "config/domain_file.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "common/sha256.hpp"
#include "config/domain_reading.hpp"
#include "config/yaml_document.hpp"

namespace cqrs {

namespace {

using namespace domain_reading;

const char* const builtin_file_name = "<built-in objects domain>";

/// Walks the YAML document into a `domain`, stopping at the first error.
/// Checks what each node can show on its own; references between nodes are
/// checked afterwards (`check_domain`).
class domain_reader : public yaml_walker {
public:
  explicit domain_reader(domain_error& err)
      : yaml_walker(err.path, err.message) {}

  bool read_root(const YAML::Node& root, domain& d) {
    if (root.IsNull())
      return fail("", "expected a mapping with name and tables, got an empty "
                      "document");
    if (!root.IsMap())
      return fail("", "expected a mapping of name, tables, resources and "
                      "views at the top level, got " +
                          describe_yaml_node(root));
    bool has_name = false;
    bool has_tables = false;
    auto ok =
        each_entry(root, "",
                   [&](const std::string& key, const std::string& path,
                       const YAML::Node& value) {
                     if (key == "name") {
                       has_name = true;
                       return read_name(path, value, "a domain name", d.name);
                     }
                     if (key == "tables") {
                       has_tables = true;
                       return read_tables(*this, path, value, d.tables);
                     }
                     if (key == "resources")
                       return read_resources(path, value, d.resources);
                     if (key == "views")
                       return read_views(path, value, d.views);
                     return unknown(path, key);
                   });
    if (!ok)
      return false;
    if (!has_name)
      return fail("", "missing key 'name' (the domain's name, shown in "
                      "/status)");
    if (!has_tables)
      return fail("", "missing key 'tables' (what is stored)");
    return true;
  }

private:
  // -- resources --------------------------------------------------------------

  bool read_resources(const std::string& path, const YAML::Node& node,
                      std::vector<resource_decl>& out) {
    return each_entry(
        node, path,
        [&](const std::string& key, const std::string& key_path,
            const YAML::Node& value) {
          resource_decl r;
          if (!read_segment_key(key_path, key, "resource", r.segment))
            return false;
          bool has_table = false;
          if (!value.IsMap())
            return fail(key_path, "expected a mapping with table (and owns), "
                                  "got " +
                                      describe(value));
          auto ok = each_entry(
              value, key_path,
              [&](const std::string& name, const std::string& name_path,
                  const YAML::Node& v) {
                if (name == "table") {
                  has_table = true;
                  return read_string(name_path, v, "a table name", r.table);
                }
                if (name == "owns")
                  return read_owns(name_path, v, 1, r.owns);
                return unknown(name_path, name);
              });
          if (!ok)
            return false;
          if (!has_table)
            return fail(key_path, "missing key 'table' (the root table of what "
                                  "the resource writes)");
          out.push_back(std::move(r));
          return true;
        });
  }

  bool read_owns(const std::string& path, const YAML::Node& node, size_t depth,
                 std::vector<owned_decl>& out) {
    if (depth > max_nesting && node.IsMap() && node.size() > 0)
      return fail(path, "owns nests at most " + std::to_string(max_nesting) +
                            " deep");
    return each_entry(
        node, path,
        [&](const std::string& key, const std::string& key_path,
            const YAML::Node& value) {
          owned_decl o;
          if (!read_name_key(key_path, key, "an owned field", o.field))
            return false;
          if (!value.IsMap())
            return fail(key_path, "expected a mapping with table and by, got " +
                                      describe(value));
          bool has_table = false;
          bool has_by = false;
          std::string max_items_path;
          auto ok = each_entry(
              value, key_path,
              [&](const std::string& name, const std::string& name_path,
                  const YAML::Node& v) {
                if (name == "table") {
                  has_table = true;
                  return read_string(name_path, v, "a table name", o.table);
                }
                if (name == "by") {
                  has_by = true;
                  return read_string(name_path, v, "a column name", o.by);
                }
                if (name == "many")
                  return read_bool(name_path, v, o.many);
                if (name == "max_items") {
                  max_items_path = name_path;
                  uint64_t n = 0;
                  if (!read_uint(name_path, v, 1, max_owned_items, n))
                    return false;
                  o.max_items = static_cast<uint32_t>(n);
                  return true;
                }
                if (name == "owns")
                  return read_owns(name_path, v, depth + 1, o.owns);
                return unknown(name_path, name);
              });
          if (!ok)
            return false;
          if (!has_table)
            return fail(key_path,
                        "missing key 'table' (the owned rows' table)");
          if (!has_by)
            return fail(key_path, "missing key 'by' (the child's references "
                                  "column that points at its parent row)");
          if (!max_items_path.empty() && !o.many)
            return fail(max_items_path, "max_items applies to many: true only; "
                                        "a single owned child is exactly one "
                                        "object");
          out.push_back(std::move(o));
          return true;
        });
  }

  // -- views ------------------------------------------------------------------

  bool read_views(const std::string& path, const YAML::Node& node,
                  std::vector<view_decl>& out) {
    return each_entry(
        node, path,
        [&](const std::string& key, const std::string& key_path,
            const YAML::Node& value) {
          view_decl v;
          if (!read_segment_key(key_path, key, "view", v.segment))
            return false;
          if (!value.IsMap())
            return fail(key_path,
                        "expected a mapping with from and fields, got " +
                            describe(value));
          bool has_from = false;
          bool has_fields = false;
          auto ok = each_entry(
              value, key_path,
              [&](const std::string& name, const std::string& name_path,
                  const YAML::Node& x) {
                if (name == "from") {
                  has_from = true;
                  return read_string(name_path, x, "a table name", v.from);
                }
                if (name == "fields")
                  has_fields = true;
                if (name == "list") {
                  v.list.emplace();
                  return read_list(name_path, x, *v.list);
                }
                bool known = false;
                return read_scope_key(name, name_path, x, 1, v.scope, known) &&
                       (known || unknown(name_path, name));
              });
          if (!ok)
            return false;
          if (!has_from)
            return fail(key_path, "missing key 'from' (the view's root table)");
          if (!has_fields)
            return fail(key_path, "missing key 'fields' (the view's JSON "
                                  "object)");
          out.push_back(std::move(v));
          return true;
        });
  }

  /// Reads `join`, `fields` or `collections` of a view or collection at
  /// nesting `depth`; sets `known` when `name` is one of them.
  bool read_scope_key(const std::string& name, const std::string& path,
                      const YAML::Node& node, size_t depth, view_scope& s,
                      bool& known) {
    known = true;
    if (name == "join")
      return read_joins(path, node, s.joins);
    if (name == "fields")
      return read_fields(path, node, s.fields);
    if (name == "collections")
      return read_collections(path, node, depth, s.collections);
    known = false;
    return true;
  }

  bool read_joins(const std::string& path, const YAML::Node& node,
                  std::vector<join_decl>& out) {
    if (node.IsNull())
      return true;
    if (!node.IsSequence())
      return fail(path, "expected a sequence of table.column joins, got " +
                            describe(node));
    for (size_t i = 0; i < node.size(); ++i) {
      auto item_path = item(path, i);
      if (!count(item_path))
        return false;
      if (i + 1 >= max_view_tables)
        return fail(item_path, "a view or collection holds at most " +
                                   std::to_string(max_view_tables) +
                                   " tables: its root and " +
                                   std::to_string(max_view_tables - 1) +
                                   " joins");
      join_decl j;
      if (!read_column_ref(item_path, node[i], j.table, j.column))
        return false;
      out.push_back(std::move(j));
    }
    return true;
  }

  bool read_fields(const std::string& path, const YAML::Node& node,
                   std::vector<field_decl>& out) {
    if (!node.IsMap() || node.size() == 0)
      return fail(path, "expected a mapping of at least one field "
                        "(name: table.column), got " +
                            describe(node));
    return each_entry(
        node, path,
        [&](const std::string& key, const std::string& key_path,
            const YAML::Node& value) {
          field_decl f;
          if (!read_name_key(key_path, key, "a field", f.name) ||
              !read_column_ref(key_path, value, f.table, f.column))
            return false;
          out.push_back(std::move(f));
          return true;
        });
  }

  bool read_collections(const std::string& path, const YAML::Node& node,
                        size_t depth, std::vector<collection_decl>& out) {
    if (depth > max_nesting && node.IsMap() && node.size() > 0)
      return fail(path, "collections nest at most " +
                            std::to_string(max_nesting) + " deep");
    return each_entry(
        node, path,
        [&](const std::string& key, const std::string& key_path,
            const YAML::Node& value) {
          collection_decl c;
          if (!read_name_key(key_path, key, "a collection", c.name))
            return false;
          if (!value.IsMap())
            return fail(key_path,
                        "expected a mapping with from, by and fields, "
                        "got " +
                            describe(value));
          bool has_from = false;
          bool has_by = false;
          bool has_fields = false;
          auto ok = each_entry(
              value, key_path,
              [&](const std::string& name, const std::string& name_path,
                  const YAML::Node& x) {
                if (name == "from") {
                  has_from = true;
                  return read_string(name_path, x, "a table name", c.from);
                }
                if (name == "by") {
                  has_by = true;
                  return read_string(name_path, x, "a column name", c.by);
                }
                if (name == "order_by")
                  return read_string(name_path, x, "a field name", c.order_by);
                if (name == "limit") {
                  uint64_t n = 0;
                  if (!read_uint(name_path, x, 1, max_collection_limit, n))
                    return false;
                  c.limit = static_cast<uint32_t>(n);
                  return true;
                }
                if (name == "fields")
                  has_fields = true;
                bool known = false;
                return read_scope_key(name, name_path, x, depth + 1, c.scope,
                                      known) &&
                       (known || unknown(name_path, name));
              });
          if (!ok)
            return false;
          if (!has_from)
            return fail(key_path, "missing key 'from' (the table of the "
                                  "collection's rows)");
          if (!has_by)
            return fail(key_path, "missing key 'by' (the column of from that "
                                  "references the enclosing row)");
          if (!has_fields)
            return fail(key_path,
                        "missing key 'fields' (the JSON object of each "
                        "row)");
          out.push_back(std::move(c));
          return true;
        });
  }

  bool read_list(const std::string& path, const YAML::Node& node,
                 list_decl& out) {
    std::string default_path;
    auto ok =
        each_entry(node, path,
                   [&](const std::string& key, const std::string& key_path,
                       const YAML::Node& value) {
                     uint64_t n = 0;
                     if (key == "filters")
                       return read_filters(key_path, value, out.filters);
                     if (key == "default_limit") {
                       default_path = key_path;
                       if (!read_uint(key_path, value, 1, max_list_limit, n))
                         return false;
                       out.default_limit = static_cast<uint32_t>(n);
                       return true;
                     }
                     if (key == "max_limit") {
                       if (!read_uint(key_path, value, 1, max_list_limit, n))
                         return false;
                       out.max_limit = static_cast<uint32_t>(n);
                       return true;
                     }
                     return unknown(key_path, key);
                   });
    if (!ok)
      return false;
    if (out.default_limit > out.max_limit)
      return fail(
          default_path.empty() ? child(path, "max_limit") : default_path,
          "expected default_limit (" + std::to_string(out.default_limit) +
              ") <= max_limit (" + std::to_string(out.max_limit) + ")");
    return true;
  }

  bool read_filters(const std::string& path, const YAML::Node& node,
                    std::vector<filter_decl>& out) {
    return each_entry(
        node, path,
        [&](const std::string& key, const std::string& key_path,
            const YAML::Node& value) {
          filter_decl f;
          if (!read_name_key(key_path, key, "a filter", f.name))
            return false;
          if (key == "limit" || key == "after")
            return fail(key_path, "a filter may not be named " + quote(key) +
                                      ": limit and after page the list");
          if (!read_column_ref(key_path, value, f.table, f.column))
            return false;
          out.push_back(std::move(f));
          return true;
        });
  }
};

} // namespace

// -- public API ---------------------------------------------------------------

std::string to_string(const domain_error& err) {
  auto line = "domain error: " + err.file + ": ";
  if (!err.path.empty())
    line += err.path + ": ";
  line += err.message;
  // Keys and values from the file may hold control characters: escape them
  // so that the error stays one line.
  std::string out;
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7F) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xF];
    }
  }
  return out;
}

std::optional<domain> parse_domain(const std::string& yaml_text,
                                   const std::string& file_name,
                                   domain_error& err) {
  err = domain_error{file_name, {}, {}};
  std::string message;
  auto root = load_yaml_document(yaml_text, "domain file", message);
  if (!root) {
    err.message = std::move(message);
    return std::nullopt;
  }
  domain_reader reader{err};
  try {
    domain d;
    if (!reader.read_root(*root, d) || !check_domain(d, err.path, err.message))
      return std::nullopt;
    // Commands name their resource by index across the nodes of a cluster,
    // which check only that their digests agree; the digest does not see
    // the order of resources in the file, so neither may the indexes.
    std::sort(d.resources.begin(), d.resources.end(),
              [](const resource_decl& x, const resource_decl& y) {
                return x.segment < y.segment;
              });
    derive(d);
    d.digest = sha256_hex({canonical_text(d)});
    return d;
  } catch (const std::exception& e) {
    reader.fail("", std::string{"cannot load the domain file: "} + e.what());
  }
  return std::nullopt;
}

std::optional<domain> load_domain(const std::string& path, domain_error& err) {
  int code = 0;
  auto text = read_text_file(path, code);
  if (!text) {
    err = domain_error{path,
                       {},
                       "cannot read domain file: " +
                           std::string{std::strerror(code)}};
    return std::nullopt;
  }
  return parse_domain(*text, path, err);
}

namespace {

struct builtin_state {
  std::shared_ptr<const domain> value;
  domain_error error;
};

const builtin_state& builtin() {
  static const builtin_state state = [] {
    builtin_state s;
    auto text = builtin_domain_text();
    if (auto d = parse_domain(std::string{text}, builtin_file_name, s.error))
      s.value = std::make_shared<const domain>(std::move(*d));
    return s;
  }();
  return state;
}

} // namespace

std::shared_ptr<const domain> builtin_domain() {
  return builtin().value;
}

std::shared_ptr<const domain> load_configured_domain(const settings& cfg,
                                                     domain_error& err) {
  if (cfg.domain.empty()) {
    const auto& b = builtin();
    if (!b.value)
      err = b.error;
    return b.value;
  }
  auto d = load_domain(cfg.domain, err);
  if (!d)
    return nullptr;
  return std::make_shared<const domain>(std::move(*d));
}

} // namespace cqrs