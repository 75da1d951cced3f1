// The API's routes, derived from the domain: matching a path to a route.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/domain.hpp"
#include "model/value.hpp"

namespace cqrs::http {

/// What a path addresses.
enum class route_kind : uint8_t {
  healthz,
  readyz,
  metrics,
  status,
  openapi,
  /// `/commits`: the commit log, a page at a time.
  commits,
  /// `/docs`, `/console` and the files below them: the web pages
  /// (`http/assets.hpp`).
  asset,
  /// `/<segment>`: a view's list (GET, HEAD) and a resource's create (POST).
  collection,
  /// `/<segment>/{id}`: a view's item (GET, HEAD) and a resource's update
  /// and delete (PUT, DELETE).
  item,
  unknown,
};

/// A matched path.
struct route_match {
  route_kind kind = route_kind::unknown;
  /// Index of the route in its table; every route has its own, used as the
  /// metrics label (`route_table::pattern`).
  uint16_t index = 0;
  /// For collection and item routes: the resource and the view of the
  /// segment, where the domain declares them.
  std::optional<uint16_t> resource;
  std::optional<uint16_t> view;
  /// For item routes: the path id; 0 when the segment is not a valid id.
  row_id id = 0;
  /// True for item routes whose id segment is not a positive integer.
  bool bad_id = false;

  bool is_probe() const noexcept {
    return kind == route_kind::healthz || kind == route_kind::readyz ||
           kind == route_kind::metrics;
  }
};

/// Every route of a node: the fixed ones (probes, /status, /openapi.json,
/// /commits, and the web pages, each of which also matches every path
/// below it), then `/<segment>` and `/<segment>/{id}` for each segment of
/// the domain's resources and views, then `unknown` for paths that match
/// none. Built once at start; matching allocates nothing.
class route_table {
public:
  explicit route_table(const domain& d);

  /// Matches `path` (without query string).
  route_match match(std::string_view path) const;

  /// The route's path pattern, e.g. "/objects/{id}", used as a metrics
  /// label; "unknown" for paths that match no route.
  std::string_view pattern(uint16_t index) const {
    return routes_[index].pattern;
  }

  /// The methods the route allows, as an `Allow` header value (may be
  /// empty: a view without a list and without a resource).
  std::string_view allowed_methods(uint16_t index) const {
    return routes_[index].allow;
  }

  /// Whether `method` is allowed on the route.
  bool allows(uint16_t index, std::string_view method) const;

  /// How many routes there are, `unknown` included; indexes are below it.
  size_t size() const noexcept { return routes_.size(); }

  /// The index of the `unknown` route.
  uint16_t unknown() const noexcept {
    return static_cast<uint16_t>(routes_.size() - 1);
  }

private:
  struct entry {
    route_kind kind = route_kind::unknown;
    std::string pattern;
    std::string allow;
    std::optional<uint16_t> resource;
    std::optional<uint16_t> view;
  };

  struct segment {
    std::string name;
    /// Index of its collection route; its item route follows.
    uint16_t collection = 0;
  };

  std::vector<entry> routes_;
  std::vector<segment> segments_;
  /// The routes that do not come from the domain (probes, /status, ...)
  /// come first, this many.
  uint16_t fixed_count_ = 0;
};

} // namespace cqrs::http
