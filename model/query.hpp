// Reads: what a client asks of a view, and the unit of caching.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/value.hpp"

namespace cqrs {

/// A view by id, or a page of its list.
enum class query_kind : uint8_t { item, list };

/// A read request of a view (domain.hpp).
struct query {
  query_kind kind = query_kind::item;
  /// Index into `domain::views`.
  uint16_t view = 0;
  /// The root row's id, for `item`.
  row_id id = 0;
  /// For `list`: one value per filter of the view's list, in declared
  /// order; null where the request did not filter.
  std::vector<field_value> filters;
  /// For `list`: only roots with an id greater than this.
  row_id after = 0;
  /// For `list`: the page size, 1..max_limit.
  int32_t limit = 50;
};

/// Returns the cache key of `q`; equal queries have equal keys.
std::string cache_key(const query& q);

} // namespace cqrs
