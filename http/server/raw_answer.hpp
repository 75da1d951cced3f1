// Whole HTTP/1.1 answers that the server writes itself, past cpp-httplib:
// overload, read failures and health probes; internal to http/server/.
#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace cqrs::http {

/// A complete HTTP/1.1 answer with `Connection: close`, and with
/// `Retry-After: 1` when `retry_after`.
std::string raw_answer(int status, const std::string& content_type,
                       const std::string& body, bool retry_after);

/// A complete JSON error answer of `code`, with the status and JSON code
/// of the error table (common/error.hpp) and `Connection: close`; a 503
/// also says `Retry-After: 1`.
std::string raw_error(ec code, std::string_view message);

} // namespace cqrs::http
