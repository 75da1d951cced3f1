// Private to db/: what the database holds under a domain's table names, as
// SQLite's and PostgreSQL's catalogs describe it, for ensure_domain_schema.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace soci {
class session;
} // namespace soci

namespace cqrs::detail {

/// A column as the database has it.
struct db_column {
  /// Lower case on SQLite, whose names ignore case; as stored on PostgreSQL.
  std::string name;
  /// As declared: SQLite's declared type (any case, maybe empty),
  /// PostgreSQL's `format_type` ("bigint", "character varying(20)").
  std::string type;
  bool not_null = false;
  /// A default, an identity or a generated value: inserts may leave it out.
  bool has_default = false;
  /// Part of the primary key.
  bool primary_key = false;
  /// The database fills it in on insert: on SQLite, an INTEGER PRIMARY KEY
  /// (the rowid); on PostgreSQL, a sequence default or an identity.
  bool assigned = false;
};

/// What holds a table's name in the database.
struct db_table {
  /// "" when nothing does, "table", or what else holds the name: "view",
  /// "index", "sequence", ...
  std::string kind;
  /// A table's columns, in their order.
  std::vector<db_column> columns;
  /// SQLite: the table was declared with AUTOINCREMENT.
  bool autoincrement = false;

  /// Returns the column `name` (lower case on SQLite), or null.
  const db_column* column(std::string_view name) const;
};

/// An index that can serve lookups on its first column: a valid, non-partial
/// btree index without expressions.
struct db_index {
  /// Named as in `db_column::name`.
  std::string first_column;
  size_t key_columns = 0;
  bool unique = false;
};

/// Reads what holds the name `table` (in the current schema on PostgreSQL;
/// ignoring case on SQLite, as SQLite does). Throws what SOCI throws.
db_table read_table(soci::session& sql, database_backend backend,
                    const std::string& table);

/// Reads the indexes of `table` that can serve lookups. Throws what SOCI
/// throws.
std::vector<db_index> read_indexes(soci::session& sql, database_backend backend,
                                   const std::string& table);

/// Runs `query` and returns its rows, `n` columns each, as text ("" for
/// NULL); `table`, when given, is bound to the parameter `:t`. Throws what
/// SOCI throws.
std::vector<std::vector<std::string>> select_texts(soci::session& sql,
                                                   const std::string& query,
                                                   size_t n,
                                                   const std::string* table);

} // namespace cqrs::detail
