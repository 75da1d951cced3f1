// Internal to the domain file loader (config/domain_*.cpp): a YAML walker
// that names every node by its path, and what the loader's files share.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "model/domain.hpp"

namespace cqrs::domain_reading {

/// The path of key `name` under `path`: "tables" and "book" give
/// "tables.book".
std::string child(const std::string& path, const std::string& name);

/// The path of item `index` of the sequence at `path`: "join[1]".
std::string item(const std::string& path, size_t index);

/// `text` in single quotes, as error messages show values.
std::string quote(const std::string& text);

/// Reads YAML nodes, naming each by its YAML path, and keeps the first error
/// in the `path` and `message` it was made with. Every `read_*` returns
/// false once something failed; the caller stops there.
class yaml_walker {
public:
  yaml_walker(std::string& path, std::string& message)
      : path_(path), message_(message) {}

  /// Records an error at `path`; returns false.
  bool fail(std::string path, std::string message);

  /// Calls `f(key, key_path, value)` for each entry of the mapping `node`,
  /// in file order. Null counts as an empty mapping. Fails on a key that is
  /// not a scalar and on a key given twice.
  template <class F>
  bool each_entry(const YAML::Node& node, const std::string& path, F f) {
    if (node.IsNull())
      return true;
    if (!node.IsMap())
      return fail(path, "expected a mapping, got " + describe(node));
    std::set<std::string> seen;
    for (const auto& entry : node) {
      if (!count(path))
        return false;
      if (entry.first.IsNull())
        return fail(path, "expected a name as key, got null (write 'null' "
                          "in quotes to use it as a name)");
      if (!entry.first.IsScalar())
        return fail(path, "expected only plain keys, got a key that is " +
                              describe(entry.first));
      const auto& key = entry.first.Scalar();
      auto key_path = child(path, key);
      if (!seen.insert(key).second)
        return fail(key_path, "duplicate key " + quote(key));
      if (!f(key, key_path, entry.second))
        return false;
    }
    return true;
  }

  /// Fails naming an unknown `key` at `path`.
  bool unknown(const std::string& path, const std::string& key);

  /// Counts one visited node. A file can repeat a node many times through
  /// aliases; past a bound no real domain comes close to, it fails.
  bool count(const std::string& path);

  /// Names a node for an error message (see describe_yaml_node).
  static std::string describe(const YAML::Node& node);

  // -- scalars ----------------------------------------------------------------

  /// Any scalar, quoted or not.
  bool read_string(const std::string& path, const YAML::Node& node,
                   const std::string& expected, std::string& out);
  /// true or false (YAML 1.2 core schema), not quoted.
  bool read_bool(const std::string& path, const YAML::Node& node, bool& out);
  /// A decimal integer in lo..hi, not quoted.
  bool read_uint(const std::string& path, const YAML::Node& node, uint64_t lo,
                 uint64_t hi, uint64_t& out);
  /// A signed 64-bit decimal integer, not quoted.
  bool read_value(const std::string& path, const YAML::Node& node,
                  int64_t& out);
  /// A finite decimal number, not quoted; -0 reads as 0.
  bool read_value(const std::string& path, const YAML::Node& node, double& out);

  // -- names ------------------------------------------------------------------

  /// A scalar matching [a-z][a-z0-9_]{0,62}; `what` names it ("a domain
  /// name").
  bool read_name(const std::string& path, const YAML::Node& node,
                 const char* what, std::string& out);
  /// A map key matching [a-z][a-z0-9_]{0,62}; `what` names it ("a table").
  bool read_name_key(const std::string& path, const std::string& key,
                     const char* what, std::string& out);
  /// A map key that is a URL segment, [a-z][a-z0-9-]{0,62}, not reserved.
  bool read_segment_key(const std::string& path, const std::string& key,
                        const char* what, std::string& out);
  /// A scalar `table.column`.
  bool read_column_ref(const std::string& path, const YAML::Node& node,
                       std::string& table, std::string& column);

private:
  bool plain_scalar(const std::string& path, const YAML::Node& node,
                    const char* core_tag, const std::string& expected);

  std::string& path_;
  std::string& message_;
  size_t nodes_ = 0;
};

/// Reads the `tables` mapping at `path`: table and column names, column
/// types and options (domain_tables.cpp). Names in `references` are
/// checked later, by `check_domain`.
bool read_tables(yaml_walker& w, const std::string& path,
                 const YAML::Node& node, std::vector<table_decl>& out);

/// Checks a domain as read from its file (before `derive`): every table,
/// column and field that a node names exists; no cycle of required
/// references; ownership (one root or one owner per table, `by` columns);
/// joins, fields, collections, `order_by` and list filters of every view
/// (domain_checks.cpp). Returns false at the first broken rule, with `path`
/// set to the YAML path of the offending node and `message` to what is
/// wrong. Once it returns true, every name that `derive` looks up resolves.
bool check_domain(const domain& d, std::string& path, std::string& message);

} // namespace cqrs::domain_reading
