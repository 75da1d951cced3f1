// Checking Idempotency-Key values and hashing write requests.
#include "http/idempotency.hpp"

#include <nlohmann/json.hpp>

#include "common/sha256.hpp"

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
  return sha256_hex({method, "\n", path, "\n", canonical});
}

} // namespace cqrs::http
