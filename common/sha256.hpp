// SHA-256 in lower-case hex: the domain digest, the Idempotency-Key request
// hash and the ETags of the web pages.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace cqrs {

/// The SHA-256 of `parts`, hashed one after the other as one text, as 64
/// lower-case hex digits. Throws std::runtime_error if OpenSSL cannot
/// compute it.
std::string sha256_hex(std::initializer_list<std::string_view> parts);

} // namespace cqrs
