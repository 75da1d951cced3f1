// Answers every handler of the gateway writes the same way: JSON bodies,
// JSON errors, bearer tokens and query parameter checks.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "http/errors.hpp"

namespace httplib {
struct Request;
struct Response;
} // namespace httplib

namespace cqrs::http {

/// Sets `status` and a JSON `body`.
void reply(httplib::Response& res, int status, std::string body);

/// Answers `err` as `{"error":{"code","message"}}`; a 503 gets Retry-After.
void reply_error(httplib::Response& res, const api_error& err);

/// Answers an error of `code`, with the status the table of error codes
/// gives it.
void reply_error(httplib::Response& res, ec code, std::string message);

/// Answers 401 with the challenge that tells clients which scheme to use.
void reply_unauthorized(httplib::Response& res, std::string message);

/// Whether `req` carries `Authorization: Bearer <t>` for one of `tokens`
/// (empty tokens never match). Every token is compared, so the time taken
/// does not tell which one, or where, the presented secret differs.
bool bearer_matches(const httplib::Request& req,
                    std::initializer_list<const std::string*> tokens);

/// The first query parameter that the request line of `req` repeats, or
/// "" when none is. (cpp-httplib's parsed `params` keep one copy of a
/// repeat with the same value, so they cannot tell.)
std::string repeated_parameter(const httplib::Request& req);

/// Answers 400 and returns false when `req` has a query parameter that is
/// not in `allowed`, or one that is repeated.
bool check_params(const httplib::Request& req, httplib::Response& res,
                  std::initializer_list<std::string_view> allowed);

} // namespace cqrs::http
