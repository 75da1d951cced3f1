// The DB reader pool.
#include "actors/db_reader.hpp"

#include <caf/actor_system.hpp>
#include <caf/spawn_options.hpp>

#include "common/error.hpp"
#include "common/logging.hpp"

namespace cqrs {

namespace {

/// The most commit_log rows one catch-up reads.
constexpr size_t max_commits_per_read = 100000;

} // namespace

caf::error db_reader_state::open() {
  if (store)
    return caf::none;
  auto opened = read_store::open(cfg, dom);
  if (!opened)
    return std::move(opened.error());
  store = std::move(*opened);
  CQRS_LOG(info, "db_reader", "read session open");
  return caf::none;
}

caf::expected<fill_result> db_reader_state::fill(const query& q) {
  if (auto err = open())
    return err;
  auto snap = store->read(q);
  if (!snap)
    return std::move(snap.error());
  fill_result r;
  r.found = snap->found;
  if (r.found)
    r.body = std::make_shared<const std::string>(std::move(snap->body));
  r.read_seq = snap->read_seq;
  r.dependencies = std::move(snap->dependencies);
  return r;
}

reader_actor::behavior_type db_reader_impl(db_reader_ptr self,
                                           database_settings cfg,
                                           std::shared_ptr<const domain> d) {
  // The node opened the database before spawning the pool, so a failure
  // here is the database going away meanwhile: dying would take every read
  // down with the pool, so the reader tries again on its next request.
  self->state.cfg = std::move(cfg);
  self->state.dom = std::move(d);
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
                                             database_settings cfg,
                                             std::shared_ptr<const domain> d) {
  auto& st = self->state;
  for (uint32_t i = 0; i < cfg.read_connections; ++i)
    st.readers.push_back(
        self->spawn<caf::detached + caf::linked>(db_reader_impl, cfg, d));
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
