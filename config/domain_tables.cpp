// Reading the tables of a domain file: table and column names, column types
// and the options each type takes (DOMAIN.md, "Tables").
#include "config/domain_reading.hpp"

#include <charconv>
#include <limits>
#include <optional>
#include <utility>

namespace cqrs::domain_reading {

namespace {

class table_reader {
public:
  explicit table_reader(yaml_walker& w) : w_(w) {}

  bool read_tables(const std::string& path, const YAML::Node& node,
                   std::vector<table_decl>& out) {
    if (!node.IsMap() || node.size() == 0)
      return w_.fail(path, "expected a mapping of at least one table, got " +
                               w_.describe(node));
    if (node.size() > max_tables)
      return w_.fail(path, "expected at most " + std::to_string(max_tables) +
                               " tables, got " + std::to_string(node.size()));
    return w_.each_entry(
        node, path,
        [&](const std::string& key, const std::string& key_path,
            const YAML::Node& value) {
          table_decl t;
          if (!w_.read_name_key(key_path, key, "a table", t.name))
            return false;
          if (is_reserved_table_name(key))
            return w_.fail(
                key_path,
                "the table name " + quote(key) +
                    " is reserved: cqrsd's own tables are commit_log, "
                    "idempotency_key and schema_version, and names "
                    "starting with cqrsd_, sqlite_ or pg_ are taken");
          if (!read_table(key_path, value, t))
            return false;
          out.push_back(std::move(t));
          return true;
        });
  }

  bool read_table(const std::string& path, const YAML::Node& node,
                  table_decl& t) {
    if (!node.IsMap())
      return w_.fail(path, "expected a mapping with columns, got " +
                               w_.describe(node));
    bool has_columns = false;
    auto ok = w_.each_entry(
        node, path,
        [&](const std::string& key, const std::string& key_path,
            const YAML::Node& value) {
          if (key != "columns")
            return w_.unknown(key_path, key);
          has_columns = true;
          if (!value.IsNull() && !value.IsMap())
            return w_.fail(key_path, "expected a mapping of columns, got " +
                                         w_.describe(value));
          if (value.size() > max_columns)
            return w_.fail(key_path,
                           "expected at most " + std::to_string(max_columns) +
                               " columns, got " + std::to_string(value.size()));
          return w_.each_entry(
              value, key_path,
              [&](const std::string& name, const std::string& column_path,
                  const YAML::Node& column) {
                column_decl c;
                if (!w_.read_name_key(column_path, name, "a column", c.name))
                  return false;
                if (is_reserved_column_name(name))
                  return w_.fail(
                      column_path,
                      "the column name " + quote(name) +
                          " is reserved: every table has an implicit id, "
                          "and xmin, xmax, cmin, cmax, ctid, tableoid, oid "
                          "and rowid are system columns");
                if (!read_column(column_path, column, c))
                  return false;
                t.columns.push_back(std::move(c));
                return true;
              });
        });
    if (!ok)
      return false;
    if (!has_columns)
      return w_.fail(path, "missing key 'columns' (write 'columns: {}' for a "
                           "table holding only its id)");
    return true;
  }

  bool read_column(const std::string& path, const YAML::Node& node,
                   column_decl& c) {
    const std::string expected_type = "text, integer, number or boolean";
    if (node.IsScalar())
      return read_type(path, node, c);
    if (!node.IsMap())
      return w_.fail(path, "expected a type (" + expected_type +
                               ") or a mapping of column options, got " +
                               w_.describe(node));
    // Gather the options first: which apply depends on the type.
    struct option {
      option(const char* k) : key(k) {}
      const char* key;
      YAML::Node node;
      bool given = false;
    };
    option options[] = {{"type"},   {"references"}, {"optional"},
                        {"unique"}, {"min_length"}, {"max_length"},
                        {"one_of"}, {"min"},        {"max"}};
    auto ok =
        w_.each_entry(node, path,
                      [&](const std::string& key, const std::string& key_path,
                          const YAML::Node& value) {
                        for (auto& o : options)
                          if (key == o.key) {
                            o.node = value;
                            o.given = true;
                            return true;
                          }
                        return w_.unknown(key_path, key);
                      });
    if (!ok)
      return false;
    auto& [type, references, optional, unique, min_length, max_length, one_of,
           min, max] = options;
    auto at = [&](const option& o) { return child(path, o.key); };
    if (type.given && references.given)
      return w_.fail(at(references),
                     "expected either type or references, not both (a "
                     "references column holds ids)");
    if (type.given && !read_type(at(type), type.node, c))
      return false;
    if (references.given) {
      c.type = column_type::reference;
      if (!w_.read_string(at(references), references.node, "a table name",
                          c.references))
        return false;
    }
    if (!type.given && !references.given)
      return w_.fail(path, "missing key 'type' (" + expected_type +
                               ") or 'references' (a table name)");
    if (optional.given &&
        !w_.read_bool(at(optional), optional.node, c.optional))
      return false;
    if (unique.given && !w_.read_bool(at(unique), unique.node, c.unique))
      return false;
    // Options that only some types take.
    auto only_for = [&](const option& o, const char* types) {
      return w_.fail(at(o), std::string{o.key} + " applies to " + types +
                                " columns only, and this column is " +
                                describe_type(c));
    };
    bool text = c.type == column_type::text;
    bool bounded =
        c.type == column_type::integer || c.type == column_type::number;
    for (const auto* o : {&min_length, &max_length, &one_of})
      if (o->given && !text)
        return only_for(*o, "text");
    for (const auto* o : {&min, &max})
      if (o->given && !bounded)
        return only_for(*o, "integer and number");
    if (min_length.given &&
        !read_length(at(min_length), min_length.node, c.min_length))
      return false;
    if (max_length.given &&
        !read_length(at(max_length), max_length.node, c.max_length))
      return false;
    if (c.min_length > c.max_length) {
      if (max_length.given)
        return w_.fail(at(max_length), "expected an integer >= min_length (" +
                                           std::to_string(c.min_length) +
                                           "), got " +
                                           std::to_string(c.max_length));
      return w_.fail(at(min_length), "expected an integer <= max_length (" +
                                         std::to_string(c.max_length) +
                                         " by default), got " +
                                         std::to_string(c.min_length));
    }
    if (one_of.given && !read_one_of(at(one_of), one_of.node, c))
      return false;
    if (c.type == column_type::integer)
      return read_bounds(at(min), min, at(max), max, c.min_integer,
                         c.max_integer);
    if (c.type == column_type::number)
      return read_bounds(at(min), min, at(max), max, c.min_number,
                         c.max_number);
    return true;
  }

  bool read_type(const std::string& path, const YAML::Node& node,
                 column_decl& c) {
    const std::string expected = "a type (text, integer, number or boolean)";
    if (!node.IsScalar())
      return w_.fail(path,
                     "expected " + expected + ", got " + w_.describe(node));
    const auto& text = node.Scalar();
    for (auto t : {column_type::text, column_type::integer, column_type::number,
                   column_type::boolean})
      if (text == to_string(t)) {
        c.type = t;
        return true;
      }
    if (text == "reference" || text == "references")
      return w_.fail(path, "expected " + expected + ", got " + quote(text) +
                               "; a column holding ids is written "
                               "{references: TABLE}");
    return w_.fail(path, "expected " + expected + ", got " + quote(text));
  }

  static std::string describe_type(const column_decl& c) {
    if (c.type == column_type::reference)
      return "a references column";
    return to_string(c.type);
  }

  bool read_length(const std::string& path, const YAML::Node& node,
                   uint32_t& out) {
    uint64_t value = 0;
    if (!w_.read_uint(path, node, 0, std::numeric_limits<uint32_t>::max(),
                      value))
      return false;
    out = static_cast<uint32_t>(value);
    return true;
  }

  bool read_one_of(const std::string& path, const YAML::Node& node,
                   column_decl& c) {
    if (!node.IsSequence() || node.size() == 0)
      return w_.fail(path, "expected a sequence of at least one allowed value, "
                           "got " +
                               w_.describe(node));
    for (size_t i = 0; i < node.size(); ++i) {
      auto item_path = item(path, i);
      if (!w_.count(item_path))
        return false;
      std::string value;
      if (!w_.read_string(item_path, node[i], "a text value", value))
        return false;
      auto length = code_points(value);
      if (!length)
        return w_.fail(item_path, "expected valid UTF-8, got " + quote(value));
      if (value.find('\0') != std::string::npos)
        return w_.fail(item_path, "expected text without U+0000, which no "
                                  "write may hold");
      if (*length < c.min_length || *length > c.max_length)
        return w_.fail(item_path,
                       quote(value) + " has " + std::to_string(*length) +
                           " characters, outside the column's length limits " +
                           std::to_string(c.min_length) + ".." +
                           std::to_string(c.max_length));
      for (const auto& earlier : c.one_of)
        if (earlier == value)
          return w_.fail(item_path, quote(value) + " is listed twice");
      c.one_of.push_back(std::move(value));
    }
    return true;
  }

  /// Counts the code points of UTF-8 text, or nothing for invalid UTF-8.
  static std::optional<size_t> code_points(const std::string& text) {
    size_t n = 0;
    for (size_t i = 0; i < text.size(); ++n) {
      auto c = static_cast<unsigned char>(text[i]);
      size_t len = c < 0x80           ? 1
                   : (c >> 5) == 0x6  ? 2
                   : (c >> 4) == 0xE  ? 3
                   : (c >> 3) == 0x1E ? 4
                                      : 0;
      if (len == 0 || i + len > text.size())
        return std::nullopt;
      uint32_t cp = len == 1 ? c : c & (0x7F >> len);
      for (size_t k = 1; k < len; ++k) {
        auto cc = static_cast<unsigned char>(text[i + k]);
        if ((cc & 0xC0) != 0x80)
          return std::nullopt;
        cp = (cp << 6) | (cc & 0x3F);
      }
      static constexpr uint32_t min_of_len[] = {0, 0, 0x80, 0x800, 0x10000};
      if (cp < min_of_len[len] || cp > 0x10FFFF ||
          (cp >= 0xD800 && cp <= 0xDFFF))
        return std::nullopt;
      i += len;
    }
    return n;
  }

  template <class T, class O>
  bool read_bounds(const std::string& min_path, const O& min,
                   const std::string& max_path, const O& max,
                   std::optional<T>& lo, std::optional<T>& hi) {
    T value{};
    if (min.given) {
      if (!w_.read_value(min_path, min.node, value))
        return false;
      lo = value;
    }
    if (max.given) {
      if (!w_.read_value(max_path, max.node, value))
        return false;
      hi = value;
    }
    if (lo && hi && *lo > *hi)
      return w_.fail(max_path, "expected a value >= min (" + number_text(*lo) +
                                   "), got " + number_text(*hi));
    return true;
  }

  static std::string number_text(int64_t x) { return std::to_string(x); }
  static std::string number_text(double x) {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), x);
    return std::string(buffer, ec == std::errc{} ? end : buffer);
  }

private:
  yaml_walker& w_;
};

} // namespace

bool read_tables(yaml_walker& w, const std::string& path,
                 const YAML::Node& node, std::vector<table_decl>& out) {
  return table_reader{w}.read_tables(path, node, out);
}

} // namespace cqrs::domain_reading
