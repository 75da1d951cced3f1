// Pure parsers for the values of request headers and query parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cqrs::http {

/// Parses an unsigned decimal that fits 64 bits, without sign, spaces or
/// anything else; returns nothing for any other text.
std::optional<uint64_t> parse_u64(std::string_view text);

/// Whether a Content-Type value names JSON: "application/json" or a "+json"
/// type, in any case, with or without parameters and surrounding spaces.
bool is_json_media_type(std::string_view value);

/// Compares secrets in time independent of where they differ.
bool constant_time_equal(std::string_view x, std::string_view y);

} // namespace cqrs::http
