// Runs the statements of a store's session, prepared once where that pays.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include <soci/soci.h>

#include "config/settings.hpp"

namespace cqrs {

/// Runs SQL statements on one session with SOCI `use` and `into` elements.
///
/// Each distinct text is prepared once and kept: parsing and planning a
/// statement costs more than running a one-row statement, and the single
/// writer's thread pays it for every statement of every write, a reader for
/// every fill. On PostgreSQL a kept statement is a server-side prepared
/// statement, which dies with its connection: after a failed transaction,
/// whose connection may have been replaced, the owner calls `forget`.
/// Statements without bound values (transaction control) run as one-time
/// statements there, since "BEGIN; SELECT ..." cannot be prepared.
class statement_cache {
public:
  statement_cache(soci::session& sql, database_backend backend)
      : sql_(sql), sqlite_(backend == database_backend::sqlite) {
    // nop
  }

  statement_cache(const statement_cache&) = delete;
  statement_cache& operator=(const statement_cache&) = delete;

  /// Runs `text` with `elements` and returns whether it produced a row
  /// (fetched into the `into` elements). Throws what SOCI throws.
  template <class... Elements>
  bool exec(const std::string& text, Elements&&... elements) {
    if (!sqlite_ && sizeof...(Elements) == 0) {
      sql_ << text;
      return false;
    }
    auto& st = prepared(text);
    (st.exchange(std::forward<Elements>(elements)), ...);
    // The elements refer to the caller's variables: unbind them (and end
    // the statement, so it holds no read snapshot) however this returns.
    struct unbind {
      statement_cache* self;
      soci::statement* st;
      ~unbind() { self->finish(*st); }
    } guard{this, &st};
    st.define_and_bind();
    st.execute(true);
    return st.got_data();
  }

  /// Runs `text` like `exec`, for statements whose number of elements is
  /// known only at run time: `bind(st)` calls `st.exchange(...)` for each
  /// element, in the order of the text's placeholders. Returns whether a
  /// row was fetched. `fetch_rest(st)`, when given, runs while the first
  /// row is in the elements (and only if there is one): it uses that row,
  /// then may call `st.fetch()` for each next one, before the elements are
  /// unbound.
  template <class Bind> bool exec_with(const std::string& text, Bind&& bind) {
    return exec_with(text, std::forward<Bind>(bind), [](soci::statement&) {});
  }

  template <class Bind, class FetchRest>
  bool exec_with(const std::string& text, Bind&& bind, FetchRest&& fetch_rest) {
    auto& st = prepared(text);
    struct unbind {
      statement_cache* self;
      soci::statement* st;
      ~unbind() { self->finish(*st); }
    } guard{this, &st};
    bind(st);
    st.define_and_bind();
    st.execute(true);
    if (!st.got_data())
      return false;
    fetch_rest(st);
    return true;
  }

  /// Drops every kept statement; the next run of each prepares it anew.
  void forget() noexcept { kept_.clear(); }

private:
  soci::statement& prepared(const std::string& text);

  // Unbinds the elements of `st` and resets it for its next run.
  void finish(soci::statement& st) noexcept;

  /// SOCI 4.0's `bind_clean_up` never empties the list of indicators that
  /// object-relational (`values`) bindings add, so each run of a kept
  /// statement would walk and grow it. Preparing a statement anew after
  /// this many runs bounds both; later SOCI versions clear the list.
  static constexpr uint32_t runs_per_prepare = 256;

  struct kept_statement {
    std::unique_ptr<soci::statement> statement;
    uint32_t runs = 0;
  };

  soci::session& sql_;
  bool sqlite_;
  std::unordered_map<std::string, kept_statement> kept_;
};

} // namespace cqrs
