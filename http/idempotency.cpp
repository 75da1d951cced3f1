// Checking Idempotency-Key values and hashing write requests.
#include "http/idempotency.hpp"

#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace cqrs::http {

std::optional<std::string> check_idempotency_key(std::string_view key) {
  if (key.empty())
    return std::string{"header Idempotency-Key must not be empty"};
  if (key.size() > max_idempotency_key_length)
    return "header Idempotency-Key must be at most " +
           std::to_string(max_idempotency_key_length) + " characters long";
  for (unsigned char c : key)
    if (c < 0x20 || c > 0x7e)
      return std::string{
          "header Idempotency-Key must consist of printable ASCII characters"};
  return std::nullopt;
}

std::string request_hash(std::string_view method, std::string_view path,
                         std::string_view body) {
  std::string canonical;
  if (!body.empty())
    canonical = nlohmann::json::parse(body.begin(), body.end()).dump();
  // Method and path never contain a line feed, so the parts cannot run into
  // each other.
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), method.data(), method.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), "\n", 1) != 1 ||
      EVP_DigestUpdate(ctx.get(), path.data(), path.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), "\n", 1) != 1 ||
      EVP_DigestUpdate(ctx.get(), canonical.data(), canonical.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &size) != 1)
    throw std::runtime_error("SHA-256 of the request failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string result;
  result.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    result += hex[digest[i] >> 4];
    result += hex[digest[i] & 0x0f];
  }
  return result;
}

} // namespace cqrs::http
