// Row keys and cache keys.
#include "model/row_key.hpp"

#include "model/command.hpp"
#include "model/views.hpp"

namespace cqrs {

std::string row_key(std::string_view table_name, row_id id) {
  std::string result{table_name};
  result += ':';
  result += std::to_string(id);
  return result;
}

std::string table_key(std::string_view table_name) {
  std::string result{table_name};
  result += ":*";
  return result;
}

std::string table_key_of(std::string_view key) {
  auto colon = key.find(':');
  if (colon == std::string_view::npos)
    return {};
  return table_key(key.substr(0, colon));
}

std::string cache_key(const query& q) {
  switch (q.kind) {
  case query_kind::object:
    return "object/" + std::to_string(q.id);
  case query_kind::category:
    return "category/" + std::to_string(q.id);
  case query_kind::related_object:
    return "related_object/" + std::to_string(q.id);
  case query_kind::object_list:
    return "objects?category_id=" + std::to_string(q.category_id) +
           "&after=" + std::to_string(q.after) +
           "&limit=" + std::to_string(q.limit);
  }
  return {};
}

const char* to_string(operation x) {
  switch (x) {
  case operation::create:
    return "create";
  case operation::update:
    return "update";
  case operation::remove:
    return "remove";
  }
  return "?";
}

const char* to_string(entity x) {
  switch (x) {
  case entity::category:
    return "category";
  case entity::related_object:
    return "related_object";
  case entity::object:
    return "object";
  }
  return "?";
}

} // namespace cqrs
