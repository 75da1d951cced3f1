// JSON mapping of commands and views, with the validation rules of the API.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/command.hpp"
#include "model/entities.hpp"
#include "model/views.hpp"

namespace cqrs {

/// The longest string a command may carry, in characters (code points).
inline constexpr size_t max_string_length = 1000;

/// A rejected request body: what was wrong and where.
struct validation_error {
  std::string message;
};

/// Parses and validates a command body for `op` on `target`; `id` is the path
/// id for update and remove. On success, returns the command; otherwise
/// fills `err` and returns nothing. Unknown fields, missing fields, wrong
/// types, empty strings, strings over `max_string_length` and non-positive
/// reference ids are all rejected.
std::optional<command> parse_command(operation op, entity target, row_id id,
                                     std::string_view body,
                                     validation_error& err);

/// Parses a positive row id from a path segment or query parameter.
std::optional<row_id> parse_row_id(std::string_view text);

/// Serializes a view as the JSON body the API returns.
std::string to_json(const object_view& x);
std::string to_json(const object_page& x);
std::string to_json(const category& x);
std::string to_json(const related_object& x);

/// Serializes a write acknowledgement: `{"id":..,"seq":..}`.
std::string to_json(const write_result& x);

/// Serializes an API error: `{"error":{"code":..,"message":..}}`.
std::string error_json(std::string_view code, std::string_view message);

} // namespace cqrs
