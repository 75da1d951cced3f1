// Commands: the only way to change the write model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/value.hpp"

namespace cqrs {

/// What a command does to its target: POST, PUT or DELETE.
enum class operation : uint8_t { create, update, remove };

/// Returns "create", "update" or "remove".
const char* to_string(operation x);

/// The new values of one row of an aggregate.
struct row_write {
  /// Index into the resource's `nodes`: which table and field the row is for.
  uint16_t node = 0;
  /// Index into `command::rows` of the parent row; -1 for the root.
  int32_t parent = -1;
  /// One value per column of the node's table, in declared order. The slot
  /// of a child's `by` column is null: the store sets it to the parent's id.
  std::vector<field_value> values;
};

/// One write to a resource (domain.hpp). `id` addresses the root row for
/// update and remove; `rows` carry the new values for create and update.
struct command {
  operation op = operation::create;
  /// Index into `domain::resources`.
  uint16_t resource = 0;
  row_id id = 0;
  /// The root row first, then its owned rows in pre-order: each owned field
  /// in declared order, array items by index, each row followed by its own
  /// children. Empty for remove.
  std::vector<row_write> rows;
  /// The client's `Idempotency-Key`; empty when the request had none.
  std::string idempotency_key;
  /// Identifies the request the key was first used for (a digest of method,
  /// path and canonical body); set whenever `idempotency_key` is.
  std::string request_hash;
};

/// The acknowledgement of one durable commit.
struct write_result {
  /// The id of the created, updated or removed aggregate root.
  row_id id = 0;
  /// The commit's sequence number.
  seq_t seq = 0;
  /// The keys the commit changed (model/row_key.hpp). Empty for a replay.
  std::vector<std::string> changed;
  /// True when the command carried an idempotency key that an earlier,
  /// successful command already used for the same request: nothing was
  /// applied, and `id` and `seq` are those of that first commit.
  bool replayed = false;
};

} // namespace cqrs
