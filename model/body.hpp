// Write bodies: the JSON of a POST or PUT, checked against the declaration
// of its resource (DOMAIN.md "Resources: the write API", "Errors") and
// turned into a command.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "model/command.hpp"
#include "model/domain.hpp"

namespace cqrs {

/// A rejected request body: what was wrong and where. Every rejection is a
/// 400 `bad_request`.
struct validation_error {
  std::string message;
};

/// Parses and validates the body of `op` on resource `resource` (an index
/// into `d.resources`, whose `nodes` `derive` has filled); `id` is the path
/// id for update and remove, and becomes the command's `id`.
///
/// On success, returns the command: `rows[0]` is the root row, then the
/// owned rows in pre-order (owned fields in declared order, array items by
/// index, each row followed by its own children), each with one value per
/// column of its node's table in declared order. The slot of a child's `by`
/// column is null, as is an optional column left out. A remove ignores the
/// body and has no rows.
///
/// Otherwise fills `err` with a sentence naming the field by its path, as in
/// `field 'body.copies[2].barcode' must be a string`, and returns nothing.
/// The first failure wins, in this order:
/// 1. the body is not JSON (a raw NUL byte anywhere counts as such);
/// 2. it is not an object;
/// 3. a key is repeated in one object, at any depth;
/// 4. then for each object, depth first from the body: the first unknown
///    field in the order of the body (`id` and a child's `by` are always
///    unknown), the first missing field in declared order (columns, then
///    owned fields), then each value in declared order, where an owned
///    field's objects are checked in full, item by item, before the next
///    field.
///
/// Runs in one pass over the body, without building a JSON document, and is
/// safe to call from many threads at once.
std::optional<command> parse_command(const domain& d, operation op,
                                     size_t resource, row_id id,
                                     std::string_view body,
                                     validation_error& err);

} // namespace cqrs
