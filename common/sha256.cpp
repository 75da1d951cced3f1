// SHA-256 through OpenSSL's EVP interface.
#include "common/sha256.hpp"

#include <memory>
#include <stdexcept>

#include <openssl/evp.h>

namespace cqrs {

std::string sha256_hex(std::initializer_list<std::string_view> parts) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free};
  bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
  for (auto part : parts)
    ok = ok && EVP_DigestUpdate(ctx.get(), part.data(), part.size()) == 1;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!ok || EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1)
    throw std::runtime_error{"SHA-256 is unavailable (OpenSSL)"};
  static constexpr char hex[] = "0123456789abcdef";
  std::string result;
  result.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    result += hex[digest[i] >> 4];
    result += hex[digest[i] & 0x0f];
  }
  return result;
}

} // namespace cqrs
