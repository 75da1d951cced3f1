// The API's routes: matching a path to a route and its id.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "model/entities.hpp"

namespace cqrs::http {

/// Every route of the API; `unknown` collects paths that match none.
enum class route : uint8_t {
  healthz,
  readyz,
  metrics,
  status,
  categories,
  category,
  related_objects,
  related_object,
  objects,
  object,
  unknown,
};

inline constexpr size_t route_count = static_cast<size_t>(route::unknown) + 1;

/// The route's path pattern, e.g. "/objects/{id}", used as a metrics label.
std::string_view pattern(route r);

/// The methods a route allows, as an `Allow` header value.
std::string_view allowed_methods(route r);

/// Whether `method` is allowed on `r`.
bool allows(route r, std::string_view method);

/// A matched path.
struct route_match {
  route r = route::unknown;
  /// The path id for item routes; 0 when the segment is not a valid id.
  row_id id = 0;
  /// True for item routes whose id segment is not a positive integer.
  bool bad_id = false;
};

/// Matches `path` (without query string) against the routes.
route_match match(std::string_view path);

} // namespace cqrs::http
