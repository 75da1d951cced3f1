// OpenSSL's error queue as a message for humans.
#pragma once

#include <string>

namespace cqrs::http {

/// Drains the calling thread's OpenSSL error queue into one line, or
/// "unknown OpenSSL error" when it is empty.
std::string openssl_errors();

} // namespace cqrs::http
