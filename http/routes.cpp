// Route matching.
#include "http/routes.hpp"

#include "model/json.hpp"

namespace cqrs::http {

std::string_view pattern(route r) {
  switch (r) {
  case route::healthz:
    return "/healthz";
  case route::readyz:
    return "/readyz";
  case route::metrics:
    return "/metrics";
  case route::status:
    return "/status";
  case route::categories:
    return "/categories";
  case route::category:
    return "/categories/{id}";
  case route::related_objects:
    return "/related-objects";
  case route::related_object:
    return "/related-objects/{id}";
  case route::objects:
    return "/objects";
  case route::object:
    return "/objects/{id}";
  case route::unknown:
    break;
  }
  return "unknown";
}

std::string_view allowed_methods(route r) {
  switch (r) {
  case route::healthz:
  case route::readyz:
  case route::metrics:
  case route::status:
    return "GET, HEAD";
  case route::categories:
  case route::related_objects:
    return "POST";
  case route::objects:
    return "GET, HEAD, POST";
  case route::category:
  case route::related_object:
  case route::object:
    return "GET, HEAD, PUT, DELETE";
  case route::unknown:
    break;
  }
  return "";
}

bool allows(route r, std::string_view method) {
  auto allowed = allowed_methods(r);
  size_t pos = 0;
  while (pos < allowed.size()) {
    auto end = allowed.find(", ", pos);
    if (end == std::string_view::npos)
      end = allowed.size();
    if (allowed.substr(pos, end - pos) == method)
      return true;
    pos = end + 2;
  }
  return false;
}

namespace {

route_match item(route r, std::string_view segment) {
  route_match m{r, 0, false};
  if (auto id = parse_row_id(segment))
    m.id = *id;
  else
    m.bad_id = true;
  return m;
}

} // namespace

route_match match(std::string_view path) {
  if (path == "/healthz")
    return {route::healthz};
  if (path == "/readyz")
    return {route::readyz};
  if (path == "/metrics")
    return {route::metrics};
  if (path == "/status")
    return {route::status};
  struct collection {
    std::string_view prefix;
    route all;
    route one;
  };
  static constexpr std::array<collection, 3> collections{{
      {"/categories", route::categories, route::category},
      {"/related-objects", route::related_objects, route::related_object},
      {"/objects", route::objects, route::object},
  }};
  for (const auto& c : collections) {
    if (path.substr(0, c.prefix.size()) != c.prefix)
      continue;
    auto rest = path.substr(c.prefix.size());
    if (rest.empty())
      return {c.all};
    if (rest[0] != '/')
      continue;
    rest.remove_prefix(1);
    if (rest.empty() || rest.find('/') != std::string_view::npos)
      return {route::unknown};
    return item(c.one, rest);
  }
  return {route::unknown};
}

} // namespace cqrs::http
