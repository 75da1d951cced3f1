// Commands: the only way to change the write model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/entities.hpp"

namespace cqrs {

/// What a command does to its target.
enum class operation : uint8_t { create, update, remove };

/// Which aggregate a command addresses.
enum class entity : uint8_t { category, related_object, object };

/// Returns "create", "update" or "remove".
const char* to_string(operation x);

/// Returns "category", "related_object" or "object".
const char* to_string(entity x);

/// One write. `id` addresses the row for update and remove; the field group
/// matching `target` carries the new values for create and update.
struct command {
  operation op = operation::create;
  entity target = entity::category;
  row_id id = 0;
  /// Values when `target == entity::category`.
  category category_fields;
  /// Values when `target == entity::related_object`.
  related_object related_fields;
  /// Values when `target == entity::object`; `child.top_level_object_id` and
  /// `child.id` are assigned by the store.
  top_level_object object_fields;
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
  /// The row keys the commit touched, e.g. "category:7". Empty for a replay.
  std::vector<std::string> changed;
  /// True when the command carried an idempotency key that an earlier,
  /// successful command already used for the same request: nothing was
  /// applied, and `id` and `seq` are those of that first commit.
  bool replayed = false;
};

} // namespace cqrs
