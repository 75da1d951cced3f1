// Reads views, their snapshot seq and dependencies, and the commit log, each
// in one snapshot on a read-only session.
#include "db/read_store.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

#include <soci/soci.h>

#include "common/error.hpp"
#include "db/schema.hpp"
#include "db/soci_mapping.hpp"
#include "db/statement_cache.hpp"
#include "db/view_reader.hpp"
#include "db/view_sql.hpp"

namespace cqrs {

namespace {

// -- transactions -------------------------------------------------------------

// Runs `body`, which reads with one statement on `sql` (or through `q`, its
// kept statements), and turns every failure into an error.
template <class T, class F>
caf::expected<T> read_statement(soci::session& sql, statement_cache& q,
                                const std::string& what, F&& body) {
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
    return fail(make_cqrs_error(ec::internal, what + ": unknown exception"));
  }
}

// Runs `body` inside BEGIN ... COMMIT. On SQLite in WAL mode, the deferred
// transaction reads one snapshot from its first SELECT on; on PostgreSQL, the
// session runs REPEATABLE READ. Every failure becomes an error.
template <class T, class F>
caf::expected<T> read_transaction(soci::session& sql, statement_cache& q,
                                  const std::string& what, F&& body) {
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

} // namespace

// -- plans --------------------------------------------------------------------

/// The statements of every view, made at `open`, and those of each list,
/// made on first use per filter mask (a list with n filters has 2^n).
struct read_store::plans {
  std::vector<view_sql> views;
  std::vector<std::unordered_map<filter_mask, list_sql>> lists;
};

// -- construction -------------------------------------------------------------

read_store::read_store(std::unique_ptr<soci::session> sql,
                       database_backend backend,
                       std::shared_ptr<const domain> d)
    : sql_(std::move(sql)),
      statements_(std::make_unique<statement_cache>(*sql_, backend)),
      backend_(backend), domain_(std::move(d)),
      plans_(std::make_unique<plans>()) {
  for (const auto& v : domain_->views)
    plans_->views.push_back(make_view_sql(*domain_, v, backend_));
  plans_->lists.resize(domain_->views.size());
}

read_store::~read_store() = default;

caf::expected<std::unique_ptr<read_store>>
read_store::open(const database_settings& cfg,
                 std::shared_ptr<const domain> d) {
  if (d == nullptr)
    return make_cqrs_error(ec::internal, "read store opened without a domain");
  auto sql = open_session(cfg, session_mode::read);
  if (!sql)
    return std::move(sql.error());
  return std::unique_ptr<read_store>{
      new read_store(std::move(*sql), cfg.backend, std::move(d))};
}

// -- views --------------------------------------------------------------------

caf::expected<view_snapshot> read_store::read(const query& q) {
  if (q.view >= plans_->views.size())
    return make_cqrs_error(ec::internal, "no view #" + std::to_string(q.view) +
                                             " in domain '" + domain_->name +
                                             "'");
  if (q.kind == query_kind::list)
    return read_list(q);
  const auto& v = plans_->views[q.view];
  view_reader reader{*domain_, *statements_};
  auto what = "cannot read view '" + v.decl->segment + "'";
  auto body = [&] { return reader.item(v, q.id); };
  if (v.collections.empty())
    return read_statement<view_snapshot>(*sql_, *statements_, what, body);
  return read_transaction<view_snapshot>(*sql_, *statements_, what, body);
}

caf::expected<view_snapshot> read_store::read_list(const query& q) {
  const auto& v = plans_->views[q.view];
  if (!v.decl->list)
    return make_cqrs_error(ec::internal,
                           "view '" + v.decl->segment + "' has no list");
  const auto& filters = v.decl->list->filters;
  if (q.filters.size() > filters.size())
    return make_cqrs_error(ec::internal, "list '" + v.decl->segment + "' has " +
                                             std::to_string(filters.size()) +
                                             " filters, the query gives " +
                                             std::to_string(q.filters.size()));
  filter_mask mask(filters.size(), '0');
  for (size_t i = 0; i < q.filters.size(); ++i)
    if (!q.filters[i].is_null())
      mask[i] = '1';
  auto& lists = plans_->lists[q.view];
  auto l = lists.find(mask);
  if (l == lists.end())
    l = lists.emplace(mask, make_list_sql(*domain_, *v.decl, mask, backend_))
            .first;
  auto limit = static_cast<uint32_t>(std::clamp<int64_t>(
      q.limit, 1, static_cast<int64_t>(v.decl->list->max_limit)));
  view_reader reader{*domain_, *statements_};
  auto what = "cannot read list '" + v.decl->segment + "'";
  auto body = [&] { return reader.list(v, l->second, q, limit); };
  if (v.collections.empty())
    return read_statement<view_snapshot>(*sql_, *statements_, what, body);
  return read_transaction<view_snapshot>(*sql_, *statements_, what, body);
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
