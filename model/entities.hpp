// The write model: the object graph that commands change.
#pragma once

#include <cstdint>
#include <string>

namespace cqrs {

/// A row id. Valid ids are positive.
using row_id = int64_t;

/// A commit sequence number. Commits are numbered 1, 2, 3... without gaps;
/// 0 means "before the first commit".
using seq_t = uint64_t;

/// A category that child objects are filed under.
struct category {
  row_id id = 0;
  std::string description;
};

/// A piece of content that child objects point to.
struct related_object {
  row_id id = 0;
  std::string content_description;
  std::string content_type;
};

/// The one child a top-level object owns.
struct child_object {
  row_id id = 0;
  std::string access_code;
  row_id top_level_object_id = 0;
  row_id related_object_id = 0;
  row_id category_id = 0;
};

/// The aggregate root: a named object with exactly one child.
struct top_level_object {
  row_id id = 0;
  std::string name;
  child_object child;
};

} // namespace cqrs
