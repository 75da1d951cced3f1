// Values as the API spells them outside write bodies: ids and filter values
// in paths and query strings, and the JSON of acknowledgements and errors.
// Write bodies have their own header, model/body.hpp, included here so that
// the API layer finds every request parser in one include.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/body.hpp"
#include "model/command.hpp"
#include "model/domain.hpp"
#include "model/value.hpp"

namespace cqrs {

/// Parses a positive row id from a path segment or query parameter: decimal
/// digits without sign, leading zero or anything else, up to INT64_MAX.
std::optional<row_id> parse_row_id(std::string_view text);

/// Parses the query-string value `text` of a list filter on `column`
/// (DOMAIN.md "Values in the query string"):
/// - integer: an optional `-` and decimal digits without leading zeros, in
///   the int64 range (`-0` is accepted as 0, as JSON reads it);
/// - reference: a positive id, as `parse_row_id` reads it;
/// - boolean: `true` or `false`;
/// - number: a JSON number whose value is a finite double;
/// - text: valid UTF-8 within the column's length limits, without U+0000,
///   and within `one_of` when given.
/// The column's `min` and `max` are not checked: a value outside them
/// matches no row. On failure, returns nothing and fills `why` with a
/// sentence naming the parameter `name`, e.g. "category_id must be a
/// positive integer id".
std::optional<field_value> parse_filter_value(const column_decl& column,
                                              std::string_view name,
                                              std::string_view text,
                                              std::string& why);

/// Serializes a write acknowledgement: `{"id":..,"seq":..}`.
std::string to_json(const write_result& x);

/// Serializes an API error: `{"error":{"code":..,"message":..}}`. Invalid
/// UTF-8 in either becomes U+FFFD, so the answer is always JSON.
std::string error_json(std::string_view code, std::string_view message);

} // namespace cqrs
