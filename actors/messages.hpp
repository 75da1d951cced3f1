// Message types exchanged by cqrsd's actors and how CAF inspects them (their
// type IDs are in actors/fwd.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "actors/fwd.hpp"
#include "db/read_store.hpp"
#include "model/command.hpp"
#include "model/query.hpp"
#include "model/value.hpp"

namespace cqrs {

/// A serialized JSON body, shared between the cache and every answer.
using body_ptr = std::shared_ptr<const std::string>;

/// A read as routed by the gateway: the query, its precomputed cache key and
/// the lowest commit the answer must reflect (`X-Min-Seq`, 0 for none).
struct read_request {
  query q;
  std::string key;
  seq_t min_seq = 0;
};

/// The answer to a read. Local only: the body is shared, never copied.
struct read_answer {
  /// False for a 404; the body then is empty.
  bool found = false;
  body_ptr body;
  /// The commit the answer is consistent with (the `X-Seq` header).
  seq_t seq = 0;
};

/// A view read by the DB reader pool for a cache fill. Local only.
struct fill_result {
  bool found = false;
  body_ptr body;
  /// `max(commit_log.seq)` in the same read transaction as the view.
  seq_t read_seq = 0;
  /// Row keys the view was built from.
  std::vector<std::string> dependencies;
};

/// Commits `from_seq..to_seq` (inclusive) touched `keys`.
struct invalidation {
  seq_t from_seq = 0;
  seq_t to_seq = 0;
  std::vector<std::string> keys;
  /// When the command actor committed the batch: nanoseconds since the Unix
  /// epoch on its wall clock, comparable across nodes. 0 for ranges a hub
  /// read back from commit_log.
  int64_t committed_at_ns = 0;
};

/// Now on the wall clock, as `invalidation::committed_at_ns` counts time.
inline int64_t wall_clock_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// -- inspection (serialization and printing) ----------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, field_value& x) {
  return f(caf::meta::type_name("field_value"), x.kind, x.integer, x.number,
           x.text);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, row_write& x) {
  return f(caf::meta::type_name("row_write"), x.node, x.parent, x.values);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, command& x) {
  return f(caf::meta::type_name("command"), x.op, x.resource, x.id, x.rows,
           x.idempotency_key, x.request_hash);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_result& x) {
  return f(caf::meta::type_name("write_result"), x.id, x.seq, x.changed,
           x.replayed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, query& x) {
  return f(caf::meta::type_name("query"), x.kind, x.view, x.id, x.filters,
           x.after, x.limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_request& x) {
  return f(caf::meta::type_name("read_request"), x.q, x.key, x.min_seq);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, invalidation& x) {
  return f(caf::meta::type_name("invalidation"), x.from_seq, x.to_seq, x.keys,
           x.committed_at_ns);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, commit_entry& x) {
  return f(caf::meta::type_name("commit_entry"), x.seq, x.changed);
}

} // namespace cqrs
