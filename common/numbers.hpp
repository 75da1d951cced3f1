// The one parser of decimal integers: strict, whole-text, overflow-checked.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace cqrs {

/// Reads all of `text` as a base-10 integer of type `T`, as `std::from_chars`
/// does: digits only, with one leading '-' allowed for a signed `T`; no '+',
/// spaces or prefix. Returns nothing for an empty text, a text with anything
/// else in it, or a value `T` cannot hold.
template <class T>
std::optional<T> parse_decimal(std::string_view text) noexcept {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  T value{};
  auto last = text.data() + text.size();
  auto [end, errc] = std::from_chars(text.data(), last, value);
  if (text.empty() || errc != std::errc{} || end != last)
    return std::nullopt;
  return value;
}

} // namespace cqrs
