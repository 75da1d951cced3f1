// What the database holds under a domain's table names: SQLite's
// sqlite_master and table-valued pragmas, PostgreSQL's pg_catalog.
#include "db/domain_catalog.hpp"

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include <soci/soci.h>

namespace cqrs::detail {

namespace {

std::string upper(std::string_view x) {
  std::string result{x};
  for (auto& c : result)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

std::string lower(std::string_view x) {
  std::string result{x};
  for (auto& c : result)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

// -- SQLite -------------------------------------------------------------------

// Whether the CREATE TABLE text `sql` has the keyword AUTOINCREMENT (not as
// part of a quoted name).
bool has_autoincrement(const std::string& sql) {
  auto text = upper(sql);
  std::string_view word = "AUTOINCREMENT";
  auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ||
           c == '"' || c == '`' || c == '[' || c == ']' || c == '\'';
  };
  for (auto at = text.find(word); at != std::string::npos;
       at = text.find(word, at + 1)) {
    auto end = at + word.size();
    if ((at == 0 || !name_char(text[at - 1])) &&
        (end == text.size() || !name_char(text[end])))
      return true;
  }
  return false;
}

db_table read_sqlite_table(soci::session& sql, const std::string& name) {
  db_table result;
  auto found = select_texts(sql,
                            "SELECT type, sql FROM sqlite_master"
                            " WHERE name = :t COLLATE NOCASE"
                            " AND type IN ('table', 'view', 'index')"
                            " ORDER BY type = 'table' DESC",
                            2, &name);
  if (found.empty())
    return result;
  result.kind = found[0][0];
  if (result.kind != "table")
    return result;
  result.autoincrement = has_autoincrement(found[0][1]);
  for (auto& row : select_texts(sql,
                                "SELECT name, type, \"notnull\","
                                " dflt_value IS NOT NULL, pk"
                                " FROM pragma_table_info(:t)",
                                5, &name)) {
    db_column c;
    c.name = lower(row[0]);
    c.type = row[1];
    c.not_null = row[2] == "1";
    c.has_default = row[3] == "1";
    c.primary_key = row[4] != "0";
    // Only INTEGER PRIMARY KEY makes a column the rowid, which SQLite
    // assigns; the check of `id` also asks for it to be the only key column.
    c.assigned = c.primary_key && upper(c.type) == "INTEGER";
    result.columns.push_back(std::move(c));
  }
  return result;
}

std::vector<db_index> read_sqlite_indexes(soci::session& sql,
                                          const std::string& table) {
  std::vector<db_index> result;
  for (auto& row :
       select_texts(sql,
                    "SELECT ii.name, il.\"unique\","
                    " (SELECT count(*) FROM pragma_index_info(il.name))"
                    " FROM pragma_index_list(:t) AS il"
                    " JOIN pragma_index_info(il.name) AS ii ON ii.seqno = 0"
                    " WHERE il.partial = 0",
                    3, &table))
    result.push_back({lower(row[0]), std::stoul(row[2]), row[1] == "1"});
  return result;
}

// -- PostgreSQL ---------------------------------------------------------------

// The relation `:t` in the current schema.
constexpr const char* pg_relation =
    "(SELECT c.oid FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND c.relname = :t)";

std::string pg_kind(const std::string& relkind) {
  switch (relkind.empty() ? ' ' : relkind[0]) {
  case 'r':
  case 'p':
    return "table";
  case 'v':
    return "view";
  case 'm':
    return "materialized view";
  case 'i':
  case 'I':
    return "index";
  case 'S':
    return "sequence";
  case 'f':
    return "foreign table";
  case 'c':
    return "composite type";
  default:
    return "relation";
  }
}

db_table read_postgresql_table(soci::session& sql, const std::string& name) {
  db_table result;
  auto found = select_texts(sql,
                            "SELECT CAST(c.relkind AS text)"
                            " FROM pg_catalog.pg_class c"
                            " JOIN pg_catalog.pg_namespace n"
                            " ON n.oid = c.relnamespace"
                            " WHERE n.nspname = current_schema()"
                            " AND c.relname = :t",
                            1, &name);
  if (found.empty())
    return result;
  result.kind = pg_kind(found[0][0]);
  if (result.kind != "table")
    return result;
  auto query =
      std::string{"SELECT CAST(a.attname AS text),"
                  " pg_catalog.format_type(a.atttypid, a.atttypmod),"
                  " CAST(a.attnotnull AS integer),"
                  " CAST(a.atthasdef OR a.attidentity IN ('a', 'd')"
                  " AS integer),"
                  " CAST(EXISTS (SELECT 1 FROM pg_catalog.pg_index i"
                  " WHERE i.indrelid = a.attrelid AND i.indisprimary"
                  " AND a.attnum = ANY (i.indkey)) AS integer),"
                  " CAST(a.attidentity IN ('a', 'd')"
                  " OR coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid),"
                  " '') LIKE 'nextval(%' AS integer)"
                  " FROM pg_catalog.pg_attribute a"
                  " LEFT JOIN pg_catalog.pg_attrdef d"
                  " ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                  " WHERE a.attrelid = "} +
      pg_relation + " AND a.attnum > 0 AND NOT a.attisdropped" +
      " ORDER BY a.attnum";
  for (auto& row : select_texts(sql, query, 6, &name)) {
    db_column c;
    c.name = row[0];
    c.type = row[1];
    c.not_null = row[2] == "1";
    c.has_default = row[3] == "1";
    c.primary_key = row[4] == "1";
    c.assigned = row[5] == "1";
    result.columns.push_back(std::move(c));
  }
  return result;
}

std::vector<db_index> read_postgresql_indexes(soci::session& sql,
                                              const std::string& table) {
  auto query = std::string{"SELECT CAST(a.attname AS text),"
                           " CAST(i.indisunique AS integer),"
                           " CAST(i.indnkeyatts AS integer)"
                           " FROM pg_catalog.pg_index i"
                           " JOIN pg_catalog.pg_class ic"
                           " ON ic.oid = i.indexrelid"
                           " JOIN pg_catalog.pg_am am ON am.oid = ic.relam"
                           " JOIN pg_catalog.pg_attribute a"
                           " ON a.attrelid = i.indrelid"
                           " AND a.attnum = i.indkey[0]"
                           " WHERE i.indrelid = "} +
               pg_relation +
               " AND am.amname = 'btree' AND i.indisvalid"
               " AND i.indpred IS NULL AND i.indexprs IS NULL";
  std::vector<db_index> result;
  for (auto& row : select_texts(sql, query, 3, &table))
    result.push_back({row[0], std::stoul(row[2]), row[1] == "1"});
  return result;
}

} // namespace

const db_column* db_table::column(std::string_view name) const {
  for (const auto& c : columns)
    if (c.name == name)
      return &c;
  return nullptr;
}

db_table read_table(soci::session& sql, database_backend backend,
                    const std::string& table) {
  return backend == database_backend::sqlite
             ? read_sqlite_table(sql, table)
             : read_postgresql_table(sql, table);
}

std::vector<db_index> read_indexes(soci::session& sql, database_backend backend,
                                   const std::string& table) {
  return backend == database_backend::sqlite
             ? read_sqlite_indexes(sql, table)
             : read_postgresql_indexes(sql, table);
}

std::vector<std::vector<std::string>> select_texts(soci::session& sql,
                                                   const std::string& query,
                                                   size_t n,
                                                   const std::string* table) {
  std::vector<std::string> values(n);
  std::vector<soci::indicator> nulls(n, soci::i_ok);
  std::string bound = table != nullptr ? *table : std::string{};
  soci::statement st(sql);
  for (size_t i = 0; i < n; ++i)
    st.exchange(soci::into(values[i], nulls[i]));
  if (table != nullptr)
    st.exchange(soci::use(bound, "t"));
  st.alloc();
  st.prepare(query);
  st.define_and_bind();
  std::vector<std::vector<std::string>> rows;
  if (!st.execute(true))
    return rows;
  do {
    std::vector<std::string> row;
    for (size_t i = 0; i < n; ++i)
      row.push_back(nulls[i] == soci::i_null ? std::string{} : values[i]);
    rows.push_back(std::move(row));
  } while (st.fetch());
  return rows;
}

} // namespace cqrs::detail
