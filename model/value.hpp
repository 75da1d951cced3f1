// Values of declared columns as they travel in commands, filters and keys.
#pragma once

#include <cstdint>
#include <string>

namespace cqrs {

/// A row id. Valid ids are positive.
using row_id = int64_t;

/// A commit sequence number. Commits are numbered 1, 2, 3... without gaps;
/// 0 means "before the first commit".
using seq_t = uint64_t;

/// What a `field_value` holds.
enum class value_kind : uint8_t { null, integer, number, boolean, text };

/// The value of one column: null, or a value of the column's type. A
/// `reference` column holds an `integer` (the referenced row's id).
struct field_value {
  value_kind kind = value_kind::null;
  /// `integer` and `boolean` (0 or 1).
  int64_t integer = 0;
  /// `number`; always finite.
  double number = 0;
  /// `text`: valid UTF-8 without U+0000.
  std::string text;

  bool is_null() const noexcept { return kind == value_kind::null; }

  static field_value of_integer(int64_t x) {
    field_value v;
    v.kind = value_kind::integer;
    v.integer = x;
    return v;
  }

  static field_value of_number(double x) {
    field_value v;
    v.kind = value_kind::number;
    v.number = x;
    return v;
  }

  static field_value of_boolean(bool x) {
    field_value v;
    v.kind = value_kind::boolean;
    v.integer = x ? 1 : 0;
    return v;
  }

  static field_value of_text(std::string x) {
    field_value v;
    v.kind = value_kind::text;
    v.text = std::move(x);
    return v;
  }

  friend bool operator==(const field_value& x, const field_value& y) {
    if (x.kind != y.kind)
      return false;
    switch (x.kind) {
    case value_kind::null:
      return true;
    case value_kind::integer:
    case value_kind::boolean:
      return x.integer == y.integer;
    case value_kind::number:
      return x.number == y.number;
    case value_kind::text:
      return x.text == y.text;
    }
    return false;
  }

  friend bool operator!=(const field_value& x, const field_value& y) {
    return !(x == y);
  }
};

} // namespace cqrs
