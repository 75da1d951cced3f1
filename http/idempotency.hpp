// Idempotency-Key: checking a key and identifying the request it belongs to.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cqrs::http {

/// The longest accepted `Idempotency-Key`, in characters.
inline constexpr size_t max_idempotency_key_length = 255;

/// Returns why `key` is not a valid `Idempotency-Key` (1 to 255 printable
/// ASCII characters, space included), or nothing when it is valid. (An empty
/// header field never gets here: cpp-httplib drops it while parsing.)
std::optional<std::string> check_idempotency_key(std::string_view key);

/// A SHA-256 digest (64 lowercase hex digits) identifying a write request by
/// `method`, `path` and `body`. A JSON body counts in canonical form, so
/// whitespace and the order of fields do not matter; pass an empty body for
/// requests whose body is ignored (DELETE). `body` must be valid JSON when
/// not empty.
std::string request_hash(std::string_view method, std::string_view path,
                         std::string_view body);

} // namespace cqrs::http
