// The rules a value of a declared column must meet, and their words.
#include "model/value_rules.hpp"

#include <algorithm>
#include <charconv>

namespace cqrs {

namespace {

// Counts the code points of `text`, or returns nothing when it is not valid
// UTF-8 (overlong forms, surrogates and code points past U+10FFFF are not).
std::optional<size_t> checked_code_points(std::string_view text) {
  size_t n = 0;
  auto at = reinterpret_cast<const unsigned char*>(text.data());
  auto end = at + text.size();
  while (at < end) {
    unsigned char c = *at;
    size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0)
        lo = 0xA0; // no overlong forms
      else if (c == 0xED)
        hi = 0x9F; // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0)
        lo = 0x90; // no overlong forms
      else if (c == 0xF4)
        hi = 0x8F; // nothing past U+10FFFF
    } else {
      return std::nullopt;
    }
    if (static_cast<size_t>(end - at) < len)
      return std::nullopt;
    for (size_t i = 1; i < len; ++i) {
      unsigned char next = at[i];
      if (next < (i == 1 ? lo : 0x80) || next > (i == 1 ? hi : 0xBF))
        return std::nullopt;
    }
    at += len;
    ++n;
  }
  return n;
}

} // namespace

size_t code_points(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

std::string number_text(double x) {
  char buf[32];
  auto [end, errc] = std::to_chars(buf, buf + sizeof(buf), x);
  return errc == std::errc{} ? std::string{buf, end} : std::string{"?"};
}

value_fault check_integer(const column_decl& column, int64_t x) {
  if (column.type == column_type::reference)
    return x > 0 ? value_fault::none : value_fault::not_positive;
  if (column.min_integer && x < *column.min_integer)
    return value_fault::below_min;
  if (column.max_integer && x > *column.max_integer)
    return value_fault::above_max;
  return value_fault::none;
}

value_fault check_number(const column_decl& column, double x) {
  if (column.min_number && x < *column.min_number)
    return value_fault::below_min;
  if (column.max_number && x > *column.max_number)
    return value_fault::above_max;
  return value_fault::none;
}

value_fault check_text(const column_decl& column, std::string_view x) {
  auto n = checked_code_points(x);
  if (!n)
    return value_fault::not_utf8;
  if (*n < column.min_length)
    return x.empty() && column.min_length == 1 ? value_fault::empty
                                               : value_fault::too_short;
  if (*n > column.max_length)
    return value_fault::too_long;
  if (x.find('\0') != std::string_view::npos)
    return value_fault::has_nul;
  if (!column.one_of.empty() &&
      std::find(column.one_of.begin(), column.one_of.end(), x) ==
          column.one_of.end())
    return value_fault::not_one_of;
  return value_fault::none;
}

std::string fault_text(const column_decl& column, value_fault fault) {
  auto integer = column.type == column_type::integer;
  switch (fault) {
  case value_fault::none:
    return {};
  case value_fault::wrong_type:
    switch (column.type) {
    case column_type::text:
      return "must be a string";
    case column_type::integer:
      return "must be an integer";
    case column_type::number:
      return "must be a number";
    case column_type::boolean:
      return "must be true or false";
    case column_type::reference:
      return "must be an integer id";
    }
    break;
  case value_fault::not_int64:
    if (column.type == column_type::reference)
      return "must be a positive id";
    return "must be an integer from -9223372036854775808 to "
           "9223372036854775807";
  case value_fault::below_min:
    return "must be at least " +
           (integer ? std::to_string(column.min_integer.value_or(0))
                    : number_text(column.min_number.value_or(0)));
  case value_fault::above_max:
    return "must be at most " +
           (integer ? std::to_string(column.max_integer.value_or(0))
                    : number_text(column.max_number.value_or(0)));
  case value_fault::not_positive:
    return "must be a positive id";
  case value_fault::empty:
    return "must not be empty";
  case value_fault::too_short:
    return "is shorter than " + std::to_string(column.min_length) +
           " characters";
  case value_fault::too_long:
    return "is longer than " + std::to_string(column.max_length) +
           " characters";
  case value_fault::has_nul:
    return "must not contain NUL characters";
  case value_fault::not_one_of: {
    std::string result = "must be one of ";
    for (size_t i = 0; i < column.one_of.size(); ++i) {
      if (i > 0)
        result += ", ";
      result += '\'';
      result += column.one_of[i];
      result += '\'';
    }
    return result;
  }
  case value_fault::not_utf8:
    return "must be valid UTF-8";
  }
  return "is not valid";
}

} // namespace cqrs
