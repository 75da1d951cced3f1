// The DB reader pool.
#include "actors/db_reader.hpp"

#include <caf/actor_system.hpp>
#include <caf/spawn_options.hpp>

#include "config/logging.hpp"
#include "db/error.hpp"
#include "model/json.hpp"

namespace cqrs {

namespace {

// Turns a snapshot of a typed view into a fill result with a JSON body.
template <class T> fill_result to_fill(snapshot<T>&& snap) {
  fill_result r;
  r.found = snap.value.has_value();
  if (r.found)
    r.body = std::make_shared<const std::string>(to_json(*snap.value));
  r.read_seq = snap.read_seq;
  r.dependencies = std::move(snap.dependencies);
  return r;
}

template <class T>
caf::expected<fill_result> to_fill(caf::expected<snapshot<T>>&& snap) {
  if (!snap)
    return std::move(snap.error());
  return to_fill(std::move(*snap));
}

/// The most commit_log rows one catch-up reads.
constexpr size_t max_commits_per_read = 100000;

} // namespace

caf::error db_reader_state::open() {
  if (store)
    return caf::none;
  auto opened = read_store::open(cfg);
  if (!opened)
    return std::move(opened.error());
  store = std::move(*opened);
  CQRS_LOG(info, "db_reader", "read session open");
  return caf::none;
}

caf::expected<fill_result> db_reader_state::fill(const query& q) {
  if (auto err = open())
    return err;
  switch (q.kind) {
  case query_kind::object:
    return to_fill(store->object(q.id));
  case query_kind::object_list: {
    // An empty page is still an answer: lists are never "not found".
    auto r = to_fill(store->objects(q));
    if (r)
      r->found = true;
    return r;
  }
  case query_kind::category:
    return to_fill(store->category_by_id(q.id));
  case query_kind::related_object:
    return to_fill(store->related_object_by_id(q.id));
  }
  return make_cqrs_error(ec::internal, "unknown query kind");
}

reader_actor::behavior_type db_reader_impl(db_reader_ptr self,
                                           database_settings cfg) {
  // The node opened the database before spawning the pool, so a failure
  // here is the database going away meanwhile: dying would take every read
  // down with the pool, so the reader tries again on its next request.
  self->state.cfg = std::move(cfg);
  if (auto err = self->state.open())
    CQRS_LOG(warning, "db_reader",
             "cannot open read session, trying again on the next request: "
                 << error_message(err));
  return {
      [self](atom::fill, const query& q) -> caf::result<fill_result> {
        return self->state.fill(q);
      },
      [self](atom::commits, seq_t after,
             seq_t up_to) -> caf::result<std::vector<commit_entry>> {
        if (auto err = self->state.open())
          return err;
        return self->state.store->commits(after, up_to, max_commits_per_read);
      },
  };
}

reader_actor::behavior_type reader_pool_impl(reader_pool_ptr self,
                                             database_settings cfg) {
  auto& st = self->state;
  for (uint32_t i = 0; i < cfg.read_connections; ++i)
    st.readers.push_back(
        self->spawn<caf::detached + caf::linked>(db_reader_impl, cfg));
  auto next = [self]() -> reader_actor& {
    auto& st = self->state;
    auto& r = st.readers[st.next];
    st.next = (st.next + 1) % st.readers.size();
    return r;
  };
  return {
      [self, next](atom::fill f, query& q) -> caf::delegated<fill_result> {
        return self->delegate(next(), f, std::move(q));
      },
      [self, next](atom::commits c, seq_t after,
                   seq_t up_to) -> caf::delegated<std::vector<commit_entry>> {
        return self->delegate(next(), c, after, up_to);
      },
  };
}

} // namespace cqrs
