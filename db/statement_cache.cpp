// Runs the statements of a store's session, prepared once where that pays.
#include "db/statement_cache.hpp"

#include <soci/sqlite3/soci-sqlite3.h>

namespace cqrs {

soci::statement& statement_cache::prepared(const std::string& text) {
  auto& kept = kept_[text];
  if (kept.statement == nullptr || ++kept.runs >= runs_per_prepare) {
    kept.statement.reset();
    auto st = std::make_unique<soci::statement>(sql_);
    st->alloc();
    st->prepare(text);
    kept.statement = std::move(st);
    kept.runs = 0;
  }
  return *kept.statement;
}

void statement_cache::finish(soci::statement& st) noexcept {
  try {
    st.bind_clean_up();
  } catch (...) {
    // Nothing is left bound that a later run would use: it binds anew.
  }
  // On SQLite, a SELECT stepped to its first row stays active, and an
  // active statement keeps its read transaction (and WAL snapshot) open
  // after COMMIT.
  if (!sqlite_)
    return;
  auto backend =
      static_cast<soci::sqlite3_statement_backend*>(st.get_backend());
  if (backend->stmt_ != nullptr)
    sqlite_api::sqlite3_reset(backend->stmt_);
}

} // namespace cqrs
