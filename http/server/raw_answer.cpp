// Whole HTTP/1.1 answers that the server writes itself, past cpp-httplib.
#include "http/server/raw_answer.hpp"

#include "model/json.hpp"

namespace cqrs::http {

namespace {

const char* reason_phrase(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 408:
    return "Request Timeout";
  case 413:
    return "Payload Too Large";
  case 414:
    return "URI Too Long";
  case 431:
    return "Request Header Fields Too Large";
  case 503:
    return "Service Unavailable";
  default:
    return "Error";
  }
}

} // namespace

std::string raw_answer(int status, const std::string& content_type,
                       const std::string& body, bool retry_after) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + ' ' +
                    reason_phrase(status) + "\r\n";
  out += "Content-Type: " + content_type + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (retry_after)
    out += "Retry-After: 1\r\n";
  out += "Connection: close\r\n\r\n";
  out += body;
  return out;
}

std::string raw_error(ec code, std::string_view message) {
  auto status = http_status(code);
  return raw_answer(status, "application/json",
                    error_json(to_string(code), message), status == 503);
}

} // namespace cqrs::http
