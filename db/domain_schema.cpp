// Creating and checking the tables and indexes of a declared domain, on
// SQLite and PostgreSQL.
#include "db/domain_schema.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>
#include <soci/soci.h>

#include "common/error.hpp"
#include "db/domain_catalog.hpp"
#include "db/schema.hpp"
#include "db/soci_mapping.hpp"

namespace cqrs {

namespace {

using detail::db_column;
using detail::db_index;
using detail::db_table;
using detail::select_texts;

// -- names and types ----------------------------------------------------------

std::string sql_name(std::string_view name) {
  std::string result = "\"";
  for (char c : name) {
    if (c == '"')
      result += '"';
    result += c;
  }
  result += '"';
  return result;
}

std::string upper(std::string_view x) {
  std::string result{x};
  for (auto& c : result)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

bool starts_with(std::string_view x, std::string_view prefix) {
  return x.substr(0, prefix.size()) == prefix;
}

// The SQL type that columns of type `x` get.
const char* sql_type(column_type x, database_backend backend) {
  bool sqlite = backend == database_backend::sqlite;
  switch (x) {
  case column_type::text:
    return "TEXT";
  case column_type::integer:
  case column_type::reference:
    return sqlite ? "INTEGER" : "BIGINT";
  case column_type::number:
    return sqlite ? "REAL" : "DOUBLE PRECISION";
  case column_type::boolean:
    return sqlite ? "INTEGER" : "BOOLEAN";
  }
  return "?";
}

// What the domain declares for `c`, as messages say it, e.g. "number (DOUBLE
// PRECISION)" or "a reference to \"author\" (INTEGER affinity)".
std::string declared(const column_decl& c, database_backend backend) {
  std::string result = c.type == column_type::reference
                           ? "a reference to " + sql_name(c.references)
                           : std::string{to_string(c.type)};
  result += " (";
  result += sql_type(c.type, backend);
  if (backend == database_backend::sqlite) {
    result += " affinity";
    if (c.type == column_type::boolean)
      result += ", 0 or 1";
  }
  result += ")";
  return result;
}

// SQLite's affinity of a declared column type (SQLite docs, "Determination
// of Column Affinity").
std::string sqlite_affinity(std::string_view declared_type) {
  auto t = upper(declared_type);
  auto has = [&](const char* part) {
    return t.find(part) != std::string::npos;
  };
  if (has("INT"))
    return "INTEGER";
  if (has("CHAR") || has("CLOB") || has("TEXT"))
    return "TEXT";
  if (has("BLOB") || t.empty())
    return "BLOB";
  if (has("REAL") || has("FLOA") || has("DOUB"))
    return "REAL";
  return "NUMERIC";
}

// The name of cqrsd's index on `table`(`column`): `cqrsd_` and 24 hex digits
// of a SHA-256 of the table, the column and the uniqueness.
std::string index_name(std::string_view table, std::string_view column,
                       bool unique) {
  std::string input{table};
  input += '\n';
  input += column;
  input += unique ? "\nunique" : "\nindex";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(input.data(), input.size(), md, &size, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string result = "cqrsd_";
  for (unsigned int i = 0; i < 12 && i < size; ++i) {
    result += hex[md[i] >> 4];
    result += hex[md[i] & 0xf];
  }
  return result;
}

// -- checking an existing table -----------------------------------------------

bool type_matches(const column_decl& c, const db_column& col,
                  database_backend backend) {
  if (backend == database_backend::sqlite) {
    auto affinity = sqlite_affinity(col.type);
    switch (c.type) {
    case column_type::text:
      return affinity == "TEXT";
    case column_type::integer:
    case column_type::reference:
      return affinity == "INTEGER";
    case column_type::number:
      return affinity == "REAL";
    case column_type::boolean:
      // `BOOLEAN` (NUMERIC affinity) stores 0 and 1 as integers too.
      return affinity == "INTEGER" || starts_with(upper(col.type), "BOOL");
    }
    return false;
  }
  switch (c.type) {
  case column_type::text: {
    // varchar without a limit is text; with one, it must hold max_length.
    std::string_view varchar = "character varying";
    if (col.type == "text" || col.type == varchar)
      return true;
    if (!starts_with(col.type, varchar) || col.type.size() < varchar.size() + 3)
      return false;
    auto limit =
        std::strtoul(col.type.c_str() + varchar.size() + 1, nullptr, 10);
    return limit >= c.max_length;
  }
  case column_type::integer:
  case column_type::reference:
    return col.type == "bigint";
  case column_type::number:
    return col.type == "double precision";
  case column_type::boolean:
    return col.type == "boolean";
  }
  return false;
}

// The database's type of `col` as messages show it.
std::string shown_type(const db_column& col, database_backend backend) {
  if (backend == database_backend::postgresql)
    return upper(col.type);
  if (col.type.empty())
    return "no declared type (BLOB affinity)";
  auto affinity = sqlite_affinity(col.type);
  if (upper(col.type) == affinity)
    return col.type;
  return col.type + " (" + affinity + " affinity)";
}

// Why `id` is not a 64-bit primary key the database assigns, or "".
std::string id_problem(const db_table& found, database_backend backend) {
  bool sqlite = backend == database_backend::sqlite;
  const auto* id = found.column("id");
  if (id == nullptr)
    return "the database has no such column";
  auto key_columns = std::count_if(found.columns.begin(), found.columns.end(),
                                   [](const auto& c) { return c.primary_key; });
  if (sqlite ? upper(id->type) != "INTEGER" : id->type != "bigint")
    return "the database has type " + shown_type(*id, backend);
  if (key_columns == 0)
    return "the table has no primary key";
  if (!id->primary_key)
    return "the table's primary key is on other columns";
  if (key_columns > 1)
    return "the table's primary key spans " + std::to_string(key_columns) +
           " columns";
  if (!id->assigned)
    return "the database does not assign it (no sequence default and no "
           "identity)";
  if (sqlite && !found.autoincrement)
    return "the database has INTEGER PRIMARY KEY without AUTOINCREMENT, so "
           "SQLite may reuse the ids of deleted rows";
  return {};
}

// Appends what differs between `t` and the existing table `found`.
void check_table(const table_decl& t, const db_table& found,
                 database_backend backend, std::vector<std::string>& out) {
  bool sqlite = backend == database_backend::sqlite;
  auto where = [&](std::string_view column) {
    return "table " + sql_name(t.name) + ", column " + sql_name(column) + ": ";
  };
  if (auto problem = id_problem(found, backend); !problem.empty())
    out.push_back(where("id") + problem + "; the domain needs " +
                  (sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                          : "a 64-bit primary key that the database assigns "
                            "(BIGSERIAL PRIMARY KEY or a BIGINT identity)"));
  for (const auto& c : t.columns) {
    const auto* col = found.column(c.name);
    if (col == nullptr) {
      out.push_back(where(c.name) +
                    "the database has no such column, the domain declares " +
                    declared(c, backend));
      continue;
    }
    if (!type_matches(c, *col, backend))
      out.push_back(where(c.name) + "the database has type " +
                    shown_type(*col, backend) + ", the domain declares " +
                    declared(c, backend));
    if (c.optional && col->not_null)
      out.push_back(where(c.name) +
                    "the database has it NOT NULL, the domain declares it "
                    "optional");
    if (!c.optional && !col->not_null)
      out.push_back(where(c.name) +
                    "the database allows NULL, the domain declares it "
                    "required (NOT NULL)");
  }
  for (const auto& col : found.columns)
    if (col.name != "id" && !t.column_index(col.name) && col.not_null &&
        !col.has_default)
      out.push_back(where(col.name) +
                    "the database has it NOT NULL without a default, and the "
                    "domain does not declare it, so cqrsd could not insert "
                    "rows");
}

// -- creating -----------------------------------------------------------------

// The FOREIGN KEY clause of reference `c`. The write store checks every
// reference before it writes (404, missing_reference, still_referenced), so
// the constraint is a safety net: a bug there, or a row changed by hand,
// fails the commit instead of leaving an id that points nowhere, which no
// read could show consistently. It costs one index probe per written
// reference (and the referencing column is indexed anyway). DEFERRABLE
// INITIALLY DEFERRED checks it at COMMIT, so the write store may order the
// statements of an aggregate freely: a parent deleted before its children,
// a row inserted before the row it references, rows of one aggregate that
// reference each other. Tables made by earlier releases keep their
// immediate constraints (the built-in domain's owned child), which the
// write store honours by deleting children first.
std::string references_clause(const column_decl& c) {
  return " REFERENCES " + sql_name(c.references) +
         " (\"id\") DEFERRABLE INITIALLY DEFERRED";
}

std::string create_table(const table_decl& t, database_backend backend) {
  bool sqlite = backend == database_backend::sqlite;
  std::string result = "CREATE TABLE IF NOT EXISTS " + sql_name(t.name) + " (";
  result += sqlite ? "\"id\" INTEGER PRIMARY KEY AUTOINCREMENT"
                   : "\"id\" BIGSERIAL PRIMARY KEY";
  for (const auto& c : t.columns) {
    result += ", " + sql_name(c.name) + " " + sql_type(c.type, backend);
    if (!c.optional)
      result += " NOT NULL";
    if (sqlite && c.type == column_type::boolean)
      result += " CHECK (" + sql_name(c.name) + " IN (0, 1))";
    // SQLite resolves a reference when a row is written, so it may name a
    // table created later; PostgreSQL gets them once every table exists.
    if (sqlite && c.type == column_type::reference)
      result += references_clause(c);
  }
  result += ")";
  return result;
}

// One index that the domain asks for.
struct wanted_index {
  size_t column = 0;
  bool unique = false;
  /// Why it is unique, for messages.
  std::string why;
};

// The indexes of table `t` (an index into `d.tables`): one per references,
// list filter, `unique` or single-child `by` column, in column order.
std::vector<wanted_index> wanted_indexes(const domain& d, size_t t) {
  const auto& table = d.tables[t];
  std::vector<wanted_index> wanted;
  std::vector<bool> indexed(table.columns.size(), false);
  std::vector<std::string> unique_why(table.columns.size());
  for (size_t c = 0; c < table.columns.size(); ++c) {
    indexed[c] = table.columns[c].type == column_type::reference;
    if (table.columns[c].unique)
      unique_why[c] = "declared unique";
  }
  for (auto c : table.keyed_columns)
    indexed[c] = true;
  for (const auto& r : d.resources)
    for (const auto& n : r.nodes)
      if (n.parent >= 0 && !n.many && n.table == t && unique_why[n.by].empty())
        unique_why[n.by] = "the by column of the owned single child " +
                           sql_name(n.field) + " of resource " +
                           sql_name(r.segment);
  for (size_t c = 0; c < table.columns.size(); ++c)
    if (indexed[c] || !unique_why[c].empty())
      wanted.push_back({c, !unique_why[c].empty(), unique_why[c]});
  return wanted;
}

bool is_served(const wanted_index& w, const std::string& column,
               const std::vector<db_index>& existing) {
  return std::any_of(existing.begin(), existing.end(), [&](const auto& x) {
    return x.first_column == column &&
           (!w.unique || (x.unique && x.key_columns == 1));
  });
}

// Why a UNIQUE index on `table`(`column`) cannot be built, or "".
std::string duplicates(soci::session& sql, const std::string& table,
                       const std::string& column) {
  auto rows =
      select_texts(sql,
                   "SELECT CAST(count(*) AS TEXT), CAST(min(\"id\") AS TEXT),"
                   " CAST(max(\"id\") AS TEXT) FROM " +
                       sql_name(table) + " WHERE " + sql_name(column) +
                       " IS NOT NULL GROUP BY " + sql_name(column) +
                       " HAVING count(*) > 1 ORDER BY min(\"id\") LIMIT 1",
                   3, nullptr);
  if (rows.empty())
    return {};
  const auto& row = rows[0];
  return row[0] + " rows hold the same value (ids " + row[1] +
         (row[0] == "2" ? " and " : " to ") + row[2] + ")";
}

caf::error mismatch(const domain& d, const std::vector<std::string>& what) {
  std::string message =
      "the database does not match domain " + sql_name(d.name) + ": ";
  for (size_t i = 0; i < what.size(); ++i)
    message += (i == 0 ? "" : "; ") + what[i];
  return make_cqrs_error(ec::schema_mismatch, std::move(message));
}

} // namespace

caf::error ensure_domain_schema(soci::session& sql, database_backend backend,
                                const domain& d) {
  bool sqlite = backend == database_backend::sqlite;
  auto fail = [&](caf::error err) {
    detail::execute_quietly(sql, "ROLLBACK");
    return err;
  };
  try {
    if (sqlite) {
      sql << "BEGIN IMMEDIATE";
    } else {
      sql << "BEGIN";
      sql << "SELECT pg_advisory_xact_lock(" + std::to_string(schema_lock_key) +
                 ")";
      sql << "SET LOCAL client_min_messages = warning";
    }
    // Check every existing table before changing anything.
    std::vector<db_table> found;
    std::vector<std::string> problems;
    for (const auto& t : d.tables) {
      found.push_back(detail::read_table(sql, backend, t.name));
      const auto& f = found.back();
      if (f.kind.empty())
        continue;
      if (f.kind != "table")
        problems.push_back("table " + sql_name(t.name) +
                           ": the database has a " + f.kind +
                           " of that name, not a table");
      else
        check_table(t, f, backend, problems);
    }
    if (!problems.empty())
      return fail(mismatch(d, problems));
    for (size_t i = 0; i < d.tables.size(); ++i)
      if (found[i].kind.empty())
        sql << create_table(d.tables[i], backend);
    if (!sqlite)
      for (size_t i = 0; i < d.tables.size(); ++i)
        if (found[i].kind.empty())
          for (const auto& c : d.tables[i].columns)
            if (c.type == column_type::reference)
              sql << "ALTER TABLE " + sql_name(d.tables[i].name) +
                         " ADD FOREIGN KEY (" + sql_name(c.name) + ")" +
                         references_clause(c);
    for (size_t i = 0; i < d.tables.size(); ++i) {
      const auto& t = d.tables[i];
      bool existed = !found[i].kind.empty();
      std::vector<db_index> existing;
      if (existed)
        existing = detail::read_indexes(sql, backend, t.name);
      for (const auto& w : wanted_indexes(d, i)) {
        const auto& column = t.columns[w.column].name;
        if (is_served(w, column, existing))
          continue;
        if (w.unique && existed)
          if (auto why = duplicates(sql, t.name, column); !why.empty())
            problems.push_back("table " + sql_name(t.name) + ", column " +
                               sql_name(column) + ": " + w.why +
                               ", but in the database " + why);
        if (problems.empty())
          sql << std::string{w.unique ? "CREATE UNIQUE INDEX"
                                      : "CREATE INDEX"} +
                     " IF NOT EXISTS " +
                     sql_name(index_name(t.name, column, w.unique)) + " ON " +
                     sql_name(t.name) + " (" + sql_name(column) + ")";
      }
    }
    if (!problems.empty())
      return fail(mismatch(d, problems));
    sql << "COMMIT";
    return caf::none;
  } catch (const std::exception& e) {
    return fail(detail::database_error(
        "cannot create or check the tables of domain " + sql_name(d.name), e));
  } catch (...) {
    return fail(make_cqrs_error(
        ec::internal, "unknown exception while creating the domain's tables"));
  }
}

} // namespace cqrs
