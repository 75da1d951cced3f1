// Route matching.
#include "http/routes.hpp"

#include <algorithm>

#include "http/assets.hpp"
#include "model/json.hpp"

namespace cqrs::http {

namespace {

std::string
join_methods(std::initializer_list<std::pair<bool, const char*>> xs) {
  std::string result;
  for (const auto& [on, name] : xs) {
    if (!on)
      continue;
    if (!result.empty())
      result += ", ";
    result += name;
  }
  return result;
}

} // namespace

route_table::route_table(const domain& d) {
  auto fixed = [&](route_kind kind, std::string pattern) {
    routes_.push_back({kind, std::move(pattern), "GET, HEAD", {}, {}});
  };
  fixed(route_kind::healthz, "/healthz");
  fixed(route_kind::readyz, "/readyz");
  fixed(route_kind::metrics, "/metrics");
  fixed(route_kind::status, "/status");
  fixed(route_kind::openapi, "/openapi.json");
  fixed(route_kind::commits, "/commits");
  for (auto page : asset_folder::pages)
    fixed(route_kind::asset, "/" + std::string{page});
  fixed_count_ = static_cast<uint16_t>(routes_.size());
  // Segments in the order the domain declares them: resources, then views
  // that are not also resources.
  std::vector<std::string> names;
  for (const auto& r : d.resources)
    names.push_back(r.segment);
  for (const auto& v : d.views)
    if (std::find(names.begin(), names.end(), v.segment) == names.end())
      names.push_back(v.segment);
  for (const auto& name : names) {
    auto resource = d.resource_index(name);
    auto view = d.view_index(name);
    std::optional<uint16_t> r;
    std::optional<uint16_t> v;
    if (resource)
      r = static_cast<uint16_t>(*resource);
    if (view)
      v = static_cast<uint16_t>(*view);
    bool list = view && d.views[*view].list.has_value();
    segments_.push_back({name, static_cast<uint16_t>(routes_.size())});
    routes_.push_back(
        {route_kind::collection, "/" + name,
         join_methods(
             {{list, "GET"}, {list, "HEAD"}, {resource.has_value(), "POST"}}),
         r, v});
    routes_.push_back({route_kind::item, "/" + name + "/{id}",
                       join_methods({{view.has_value(), "GET"},
                                     {view.has_value(), "HEAD"},
                                     {resource.has_value(), "PUT"},
                                     {resource.has_value(), "DELETE"}}),
                       r, v});
  }
  routes_.push_back({route_kind::unknown, "unknown", "", {}, {}});
}

bool route_table::allows(uint16_t index, std::string_view method) const {
  std::string_view allowed = routes_[index].allow;
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

route_match route_table::match(std::string_view path) const {
  auto make = [&](uint16_t index) {
    const auto& e = routes_[index];
    route_match m;
    m.kind = e.kind;
    m.index = index;
    m.resource = e.resource;
    m.view = e.view;
    return m;
  };
  for (uint16_t i = 0; i < fixed_count_; ++i) {
    std::string_view pattern = routes_[i].pattern;
    if (path == pattern ||
        (routes_[i].kind == route_kind::asset &&
         path.substr(0, pattern.size()) == pattern &&
         path.size() > pattern.size() && path[pattern.size()] == '/'))
      return make(i);
  }
  if (path.size() < 2 || path[0] != '/')
    return make(unknown());
  auto rest = path.substr(1);
  auto slash = rest.find('/');
  auto name = rest.substr(0, slash);
  auto s = std::find_if(segments_.begin(), segments_.end(),
                        [&](const segment& x) { return x.name == name; });
  if (s == segments_.end())
    return make(unknown());
  if (slash == std::string_view::npos)
    return make(s->collection);
  auto id = rest.substr(slash + 1);
  if (id.empty() || id.find('/') != std::string_view::npos)
    return make(unknown());
  auto m = make(static_cast<uint16_t>(s->collection + 1));
  if (auto parsed = parse_row_id(id))
    m.id = *parsed;
  else
    m.bad_id = true;
  return m;
}

} // namespace cqrs::http
