// Row keys: the names of what cache entries depend on and commits change.
// This file owns their format; nothing else spells it.
#pragma once

#include <string>
#include <string_view>

#include "model/value.hpp"

namespace cqrs {

/// Returns the key of one row, e.g. `row_key("category", 7) == "category:7"`.
/// A commit names every row it inserts, updates or deletes.
std::string row_key(std::string_view table_name, row_id id);

/// Returns the key that stands for every row of a table, e.g. "category:*".
/// A cache entry depending on it is evicted by a change to any row.
std::string table_key(std::string_view table_name);

/// Returns the table-wide key for the row key `key` ("category:7" gives
/// "category:*"), or an empty string when `key` is no row key.
std::string table_key_of(std::string_view key);

/// Returns the key of "the rows of `table_name` whose `column` holds
/// `value`", e.g. "copy.book_id=12", or an empty string for a null value
/// (which no join or filter matches). A commit names it for the old and the
/// new value of every references and filter column of each row it writes;
/// a fill depends on it for each backward join, collection and list filter
/// it read, so that rows entering or leaving that set evict it.
std::string column_key(std::string_view table_name,
                       std::string_view column_name, const field_value& value);

/// The canonical text of a non-null value, as keys and cache keys hold it:
/// integers in decimal, booleans as true/false, numbers in their shortest
/// round-trip form (-0 as 0), text percent-encoded (or, past 64 bytes, as
/// '#' and a 64-bit hash). Values that compare equal in SQL give equal
/// texts. Empty for null.
std::string value_text(const field_value& value);

} // namespace cqrs
