// Answers every handler of the gateway writes the same way.
#include "http/replies.hpp"

#include <algorithm>
#include <vector>

#include <httplib.h>

#include "http/request_values.hpp"
#include "model/json.hpp"

namespace cqrs::http {

namespace {

constexpr const char* json_type = "application/json";

} // namespace

void reply(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.set_content(std::move(body), json_type);
}

void reply_error(httplib::Response& res, const api_error& err) {
  // A 503 is temporary: tell clients when to try again.
  if (err.status == 503)
    res.set_header("Retry-After", "1");
  reply(res, err.status, error_json(err.code, err.message));
}

void reply_error(httplib::Response& res, ec code, std::string message) {
  reply_error(res, make_api_error(code, std::move(message)));
}

void reply_unauthorized(httplib::Response& res, std::string message) {
  res.set_header("WWW-Authenticate", "Bearer");
  reply_error(res, ec::unauthorized, std::move(message));
}

bool bearer_matches(const httplib::Request& req,
                    std::initializer_list<const std::string*> tokens) {
  auto auth = req.get_header_value("Authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (auth.size() < scheme.size() ||
      auth.compare(0, scheme.size(), scheme) != 0)
    return false;
  auto presented = std::string_view{auth}.substr(scheme.size());
  bool match = false;
  for (auto token : tokens)
    match |= !token->empty() && constant_time_equal(presented, *token);
  return match;
}

std::string repeated_parameter(const httplib::Request& req) {
  auto question = req.target.find('?');
  if (question == std::string::npos)
    return {};
  std::string_view query{req.target};
  query = query.substr(question + 1);
  query = query.substr(0, query.find('#'));
  std::vector<std::string> seen;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{}
                                          : query.substr(amp + 1);
    if (pair.empty())
      continue;
    auto name = httplib::detail::decode_url(
        std::string{pair.substr(0, pair.find('='))}, true);
    if (std::find(seen.begin(), seen.end(), name) != seen.end())
      return name;
    seen.push_back(std::move(name));
  }
  return {};
}

bool check_params(const httplib::Request& req, httplib::Response& res,
                  std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : req.params) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      reply_error(res, ec::bad_request,
                  "unknown query parameter '" + name + "'");
      return false;
    }
  }
  if (auto name = repeated_parameter(req); !name.empty()) {
    reply_error(res, ec::bad_request,
                "query parameter '" + name + "' is repeated");
    return false;
  }
  return true;
}

} // namespace cqrs::http
