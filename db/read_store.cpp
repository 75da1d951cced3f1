// Reads views, their snapshot seq and dependencies, and the commit log, each
// in one read transaction on a read-only session.
#include "db/read_store.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <utility>

#include <soci/soci.h>

#include "db/error.hpp"
#include "db/schema.hpp"
#include "db/soci_mapping.hpp"
#include "db/statement_cache.hpp"
#include "model/row_key.hpp"

namespace cqrs {

namespace {

// -- statements ---------------------------------------------------------------

// The object view: one join over the four tables of the write model. The
// columns have distinct names, so that `with_seq` can select them all.
constexpr const char* object_view_select =
    "SELECT t.id AS id, t.name AS name, c.access_code AS access_code,"
    " r.content_description AS content_description,"
    " r.content_type AS content_type, g.description AS category_description,"
    " c.id AS child_id, r.id AS related_id, g.id AS category_id"
    " FROM top_level_object t"
    " JOIN child_object c ON c.top_level_object_id = t.id"
    " JOIN related_object r ON r.id = c.related_object_id"
    " JOIN category g ON g.id = c.category_id";

// Turns the query `view` for at most one row into one statement that also
// reads `max(commit_log.seq)`: the seq LEFT JOINed with the view, so the seq
// comes back even when the view finds no row (its columns are NULL then).
// One statement reads one snapshot on both backends, so the seq is exactly
// the one the view reflects, without BEGIN and COMMIT around two statements:
// on PostgreSQL one round trip instead of four.
std::string with_seq(const std::string& view) {
  return "SELECT s.seq, v.* FROM (SELECT coalesce(max(seq), 0) AS seq"
         " FROM commit_log) s LEFT JOIN (" +
         view + ") v ON 1 = 1";
}

// -- transactions -------------------------------------------------------------

// Runs `body`, which reads with one statement on `sql` (or through `q`, its
// kept statements), and turns every failure into an error.
template <class T, class F>
caf::expected<T> read_statement(soci::session& sql, statement_cache& q,
                                const char* what, F&& body) {
  auto fail = [&](caf::error err) {
    detail::execute_quietly(sql, "ROLLBACK");
    // Kept statements belong to this connection, which may be replaced
    // next: drop them while it still exists.
    q.forget();
    recover_lost_connection(sql, session_mode::read);
    return err;
  };
  try {
    return body();
  } catch (const std::exception& e) {
    return fail(detail::database_error(what, e));
  } catch (...) {
    return fail(make_cqrs_error(ec::internal,
                                std::string{what} + ": unknown exception"));
  }
}

// Runs `body` inside BEGIN ... COMMIT. On SQLite in WAL mode, the deferred
// transaction reads one snapshot from its first SELECT on; on PostgreSQL, the
// session runs REPEATABLE READ. Every failure becomes an error.
template <class T, class F>
caf::expected<T> read_transaction(soci::session& sql, statement_cache& q,
                                  const char* what, F&& body) {
  return read_statement<T>(sql, q, what, [&] {
    sql << "BEGIN";
    T result = body();
    sql << "COMMIT";
    return result;
  });
}

seq_t max_seq(soci::session& sql) {
  long long seq = 0;
  sql << "SELECT coalesce(max(seq), 0) FROM commit_log", soci::into(seq);
  return static_cast<seq_t>(seq);
}

long long clamp_to_int64(uint64_t x) {
  constexpr auto max =
      static_cast<uint64_t>(std::numeric_limits<long long>::max());
  return static_cast<long long>(std::min(x, max));
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> result;
  size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find(' ', pos);
    if (end == std::string::npos)
      end = text.size();
    if (end > pos)
      result.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return result;
}

// One row of the object view join. Its columns are NULL when `with_seq`
// found no row, hence an indicator for each.
struct object_row {
  long long id = 0;
  std::string name;
  std::string access_code;
  std::string content_description;
  std::string content_type;
  std::string category_description;
  long long child_id = 0;
  long long related_id = 0;
  long long category_id = 0;
  std::array<soci::indicator, 9> ind{};

  /// Calls `f` with one SOCI `into` element per column, in column order.
  template <class F> decltype(auto) bind(F&& f) {
    return f(soci::into(id, ind[0]), soci::into(name, ind[1]),
             soci::into(access_code, ind[2]),
             soci::into(content_description, ind[3]),
             soci::into(content_type, ind[4]),
             soci::into(category_description, ind[5]),
             soci::into(child_id, ind[6]), soci::into(related_id, ind[7]),
             soci::into(category_id, ind[8]));
  }

  bool found() const noexcept { return ind[0] == soci::i_ok; }

  object_view view() const {
    return {id,           name,
            access_code,  content_description,
            content_type, category_description};
  }
};

} // namespace

// -- construction -------------------------------------------------------------

read_store::read_store(std::unique_ptr<soci::session> sql,
                       database_backend backend)
    : sql_(std::move(sql)),
      statements_(std::make_unique<statement_cache>(*sql_, backend)),
      backend_(backend) {
  // nop
}

read_store::~read_store() = default;

caf::expected<std::unique_ptr<read_store>>
read_store::open(const database_settings& cfg) {
  auto sql = open_session(cfg, session_mode::read);
  if (!sql)
    return std::move(sql.error());
  return std::unique_ptr<read_store>{
      new read_store(std::move(*sql), cfg.backend)};
}

// -- views --------------------------------------------------------------------

caf::expected<snapshot<object_view>> read_store::object(row_id id) {
  return read_statement<snapshot<object_view>>(
      *sql_, *statements_, "cannot read object view", [&] {
        snapshot<object_view> result;
        long long seq = 0;
        long long key = id;
        object_row row;
        static const auto text =
            with_seq(std::string{object_view_select} + " WHERE t.id = :id");
        row.bind([&](auto&&... columns) {
          statements_->exec(text, soci::into(seq),
                            std::forward<decltype(columns)>(columns)...,
                            soci::use(key, "id"));
        });
        result.read_seq = static_cast<seq_t>(seq);
        if (row.found()) {
          result.value = row.view();
          result.dependencies = {
              row_key(table::top_level_object, row.id),
              row_key(table::child_object, row.child_id),
              row_key(table::related_object, row.related_id),
              row_key(table::category, row.category_id),
          };
        } else {
          result.dependencies = {row_key(table::top_level_object, id)};
        }
        return result;
      });
}

caf::expected<snapshot<object_page>> read_store::objects(const query& q) {
  auto& sql = *sql_;
  return read_transaction<snapshot<object_page>>(
      sql, *statements_, "cannot read object list", [&] {
        snapshot<object_page> result;
        result.read_seq = max_seq(sql);
        result.dependencies = {
            table_key(table::top_level_object),
            table_key(table::child_object),
            table_key(table::related_object),
            table_key(table::category),
        };
        auto limit = std::clamp(q.limit, int32_t{1}, max_page_size);
        // One row more than asked tells whether another page follows.
        long long fetch = limit + 1;
        long long after = q.after;
        long long category_id = q.category_id;
        std::string text = object_view_select;
        text += " WHERE t.id > :after";
        if (category_id != 0)
          text += " AND c.category_id = :category_id";
        text += " ORDER BY t.id LIMIT :fetch";
        object_row row;
        soci::statement st(sql);
        row.bind([&](auto&&... columns) { (st.exchange(columns), ...); });
        st.exchange(soci::use(after, "after"));
        if (category_id != 0)
          st.exchange(soci::use(category_id, "category_id"));
        st.exchange(soci::use(fetch, "fetch"));
        st.alloc();
        st.prepare(text);
        st.define_and_bind();
        st.execute();
        auto& items = result.value.emplace().items;
        while (st.fetch())
          items.emplace_back(row.view());
        if (items.size() > static_cast<size_t>(limit)) {
          items.resize(static_cast<size_t>(limit));
          result.value->next_after = items.back().id;
        }
        return result;
      });
}

caf::expected<snapshot<category>> read_store::category_by_id(row_id id) {
  return read_statement<snapshot<category>>(
      *sql_, *statements_, "cannot read category", [&] {
        snapshot<category> result;
        result.dependencies = {row_key(table::category, id)};
        long long seq = 0;
        long long key = id;
        category row;
        long long row_id = 0;
        soci::indicator found = soci::i_null;
        soci::indicator description = soci::i_null;
        static const auto text =
            with_seq("SELECT id, description FROM category WHERE id = :id");
        statements_->exec(text, soci::into(seq), soci::into(row_id, found),
                          soci::into(row.description, description),
                          soci::use(key, "id"));
        result.read_seq = static_cast<seq_t>(seq);
        if (found == soci::i_ok) {
          row.id = row_id;
          result.value = std::move(row);
        }
        return result;
      });
}

caf::expected<snapshot<related_object>>
read_store::related_object_by_id(row_id id) {
  return read_statement<snapshot<related_object>>(
      *sql_, *statements_, "cannot read related object", [&] {
        snapshot<related_object> result;
        result.dependencies = {row_key(table::related_object, id)};
        long long seq = 0;
        long long key = id;
        related_object row;
        long long row_id = 0;
        std::array<soci::indicator, 3> ind{};
        static const auto text =
            with_seq("SELECT id, content_description, content_type"
                     " FROM related_object WHERE id = :id");
        statements_->exec(text, soci::into(seq), soci::into(row_id, ind[0]),
                          soci::into(row.content_description, ind[1]),
                          soci::into(row.content_type, ind[2]),
                          soci::use(key, "id"));
        result.read_seq = static_cast<seq_t>(seq);
        if (ind[0] == soci::i_ok) {
          row.id = row_id;
          result.value = std::move(row);
        }
        return result;
      });
}

// -- commit log ---------------------------------------------------------------

caf::expected<std::vector<commit_entry>>
read_store::commits(seq_t after, seq_t up_to, size_t limit) {
  auto& sql = *sql_;
  return read_transaction<std::vector<
      commit_entry>>(sql, *statements_, "cannot read the commit log", [&] {
    std::vector<commit_entry> result;
    if (limit == 0 || up_to <= after)
      return result;
    long long from = clamp_to_int64(after);
    long long to = clamp_to_int64(up_to);
    long long count = clamp_to_int64(limit);
    long long seq = 0;
    std::string changed;
    soci::statement st =
        (sql.prepare << "SELECT seq, changed FROM commit_log"
                        " WHERE seq > :after AND seq <= :up_to"
                        " ORDER BY seq LIMIT :count",
         soci::use(from, "after"), soci::use(to, "up_to"),
         soci::use(count, "count"), soci::into(seq), soci::into(changed));
    st.execute();
    while (st.fetch())
      result.push_back(commit_entry{static_cast<seq_t>(seq), split(changed)});
    return result;
  });
}

caf::expected<seq_t> read_store::current_seq() {
  auto& sql = *sql_;
  return read_transaction<seq_t>(sql, *statements_,
                                 "cannot read the current seq",
                                 [&] { return max_seq(sql); });
}

} // namespace cqrs
