// The read model: flat views answered by query actors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/entities.hpp"

namespace cqrs {

/// The flat read model of one top-level object, built by one SQL join over
/// the four tables.
struct object_view {
  row_id id = 0;
  std::string name;
  std::string access_code;
  std::string content_description;
  std::string content_type;
  std::string category_description;
};

/// One page of object views, ordered by id.
struct object_page {
  std::vector<object_view> items;
  /// The `after` value that fetches the next page, if there is one.
  std::optional<row_id> next_after;
};

/// What a read asks for.
enum class query_kind : uint8_t {
  object,
  object_list,
  category,
  related_object
};

/// A read request, the unit of caching.
struct query {
  query_kind kind = query_kind::object;
  /// The addressed row for single-row reads.
  row_id id = 0;
  /// For lists: only objects whose child is in this category (0 = all).
  row_id category_id = 0;
  /// For lists: only objects with an id greater than this.
  row_id after = 0;
  /// For lists: the page size, 1..500.
  int32_t limit = 50;
};

/// Default and largest page size of `GET /objects`.
inline constexpr int32_t default_page_size = 50;
inline constexpr int32_t max_page_size = 500;

/// Returns the cache key of `q`; equal queries have equal keys.
std::string cache_key(const query& q);

} // namespace cqrs
