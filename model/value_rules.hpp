// The rules a value of a declared column must meet (DOMAIN.md "Tables"),
// shared by write bodies and query strings, and the words for each failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "model/domain.hpp"

namespace cqrs {

/// How a value fails the rules of its column; `none` when it meets them.
enum class value_fault : uint8_t {
  none,
  /// A JSON type the column does not take, or null where it is required.
  wrong_type,
  /// An integer literal outside the signed 64-bit range.
  not_int64,
  /// Below the column's `min` or above its `max`.
  below_min,
  above_max,
  /// A reference id that is not positive.
  not_positive,
  /// Text: empty where `min_length` is 1, fewer code points than
  /// `min_length`, more than `max_length`.
  empty,
  too_short,
  too_long,
  /// Text holding U+0000.
  has_nul,
  /// Text not among the column's `one_of`.
  not_one_of,
  /// Text that is not valid UTF-8 (only possible outside JSON).
  not_utf8,
};

/// Checks an integer for an `integer` column (its `min` and `max`) or a
/// `reference` column (a positive id).
value_fault check_integer(const column_decl& column, int64_t x);

/// Checks a finite double for a `number` column: its `min` and `max`.
value_fault check_number(const column_decl& column, double x);

/// Checks text for a `text` column: valid UTF-8, the length limits counted
/// in code points, no U+0000, and `one_of`; in that order.
value_fault check_text(const column_decl& column, std::string_view x);

/// Returns what is wrong with a value of `column`, as the end of a sentence
/// whose subject names the value: "must be a string", "is longer than 1000
/// characters", "must be one of 'a', 'b'". Empty for `none`.
std::string fault_text(const column_decl& column, value_fault fault);

/// Returns the number of code points of valid UTF-8 text.
size_t code_points(std::string_view text);

/// Returns the shortest text that reads back as `x`, e.g. "0.1", "1e+300".
std::string number_text(double x);

} // namespace cqrs
