// Row keys: the names of rows that cache entries depend on.
#pragma once

#include <string>
#include <string_view>

#include "model/entities.hpp"

namespace cqrs {

/// Tables whose rows appear in row keys.
namespace table {
inline constexpr std::string_view category = "category";
inline constexpr std::string_view related_object = "related_object";
inline constexpr std::string_view top_level_object = "top_level_object";
inline constexpr std::string_view child_object = "child_object";
} // namespace table

/// Returns the key of one row, e.g. `row_key("category", 7) == "category:7"`.
std::string row_key(std::string_view table_name, row_id id);

/// Returns the key that stands for every row of a table, e.g. "category:*".
/// A cache entry depending on it is evicted by a change to any row.
std::string table_key(std::string_view table_name);

/// Returns the table-wide key for the table of `key` ("category:7" gives
/// "category:*"), or an empty string when `key` has no table part.
std::string table_key_of(std::string_view key);

} // namespace cqrs
