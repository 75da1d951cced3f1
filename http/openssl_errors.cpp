// OpenSSL's error queue as a message for humans.
#include "http/openssl_errors.hpp"

#include <openssl/err.h>

namespace cqrs::http {

std::string openssl_errors() {
  std::string result;
  while (auto code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    if (!result.empty())
      result += "; ";
    result += text;
  }
  return result.empty() ? "unknown OpenSSL error" : result;
}

} // namespace cqrs::http
