// Binding a command's values to the write store's generated statements.
#include "db/write_values.hpp"

#include <cstdio>
#include <stdexcept>

namespace cqrs::detail {

// -- bound_values -------------------------------------------------------------

bound_values::bound_values(size_t capacity) {
  integers_.reserve(capacity);
  numbers_.reserve(capacity);
  texts_.reserve(capacity);
  indicators_.reserve(capacity);
}

namespace {

// Refuses to bind past the room reserved: SOCI holds references to the
// values bound so far, which growing a vector would move.
template <class T> void make_room(std::vector<T>& xs) {
  if (xs.size() == xs.capacity())
    throw std::logic_error("bound_values: more values than reserved");
}

} // namespace

void bound_values::bind(soci::statement& st, const field_value& v,
                        column_type type) {
  make_room(indicators_);
  indicators_.push_back(v.is_null() ? soci::i_null : soci::i_ok);
  auto& ind = indicators_.back();
  switch (type) {
  case column_type::text:
    // Text is bound where it is: `v` outlives the run.
    if (v.kind == value_kind::text) {
      st.exchange(soci::use(v.text, ind));
    } else {
      make_room(texts_);
      texts_.emplace_back();
      st.exchange(soci::use(texts_.back(), ind));
    }
    return;
  case column_type::number:
    make_room(numbers_);
    numbers_.push_back(v.kind == value_kind::integer
                           ? static_cast<double>(v.integer)
                           : v.number);
    st.exchange(soci::use(numbers_.back(), ind));
    return;
  case column_type::integer:
  case column_type::reference:
  case column_type::boolean:
    // PostgreSQL reads a boolean from the text '1' or '0'.
    make_room(integers_);
    integers_.push_back(v.kind == value_kind::boolean ? (v.integer != 0 ? 1 : 0)
                                                      : v.integer);
    st.exchange(soci::use(integers_.back(), ind));
    return;
  }
}

void bound_values::bind_id(soci::statement& st, row_id id) {
  make_room(integers_);
  integers_.push_back(id);
  st.exchange(soci::use(integers_.back()));
}

void bound_values::bind_text(soci::statement& st, std::string text) {
  make_room(texts_);
  texts_.push_back(std::move(text));
  st.exchange(soci::use(texts_.back()));
}

// -- parameters ---------------------------------------------------------------

namespace {

// The values of column `column` of the rows `rows`, as a JSON array.
std::string json_list(const command& cmd, const std::vector<size_t>& rows,
                      size_t column, column_type type) {
  std::string result = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i != 0)
      result += ',';
    append_json(result, cmd.rows[rows[i]].values[column], type);
  }
  result += ']';
  return result;
}

} // namespace

void bind_params(soci::statement& st, bound_values& values,
                 const write_statement& s, const bind_source& src) {
  static const field_value null_value;
  for (const auto& p : s.params) {
    switch (p.kind) {
    case write_param::root_id:
      values.bind_id(st, src.cmd->id);
      break;
    case write_param::node_value: {
      const auto& rows = (*src.rows_of)[p.node];
      values.bind(st, src.cmd->rows[rows.front()].values[p.column], p.type);
      break;
    }
    case write_param::node_list:
      values.bind_text(
          st, json_list(*src.cmd, (*src.rows_of)[p.node], p.column, p.type));
      break;
    case write_param::row_value:
      values.bind(st, (*src.values)[p.column], p.type);
      break;
    case write_param::row_list:
      values.bind_text(st, *src.row_list);
      break;
    case write_param::parent_id:
      values.bind_id(st, src.parent);
      break;
    case write_param::row_id:
      values.bind_id(st, src.id);
      break;
    case write_param::probe:
      values.bind(st, src.probe != nullptr ? *src.probe : null_value, p.type);
      break;
    }
  }
}

// -- values -------------------------------------------------------------------

field_value as_column_value(const field_value& v, column_type type) {
  if (v.is_null())
    return v;
  switch (type) {
  case column_type::number:
    if (v.kind == value_kind::integer)
      return field_value::of_number(static_cast<double>(v.integer));
    return v;
  case column_type::boolean:
    if (v.kind == value_kind::integer)
      return field_value::of_boolean(v.integer != 0);
    return v;
  default:
    return v;
  }
}

void append_json(std::string& out, const field_value& v, column_type type) {
  auto value = as_column_value(v, type);
  switch (value.kind) {
  case value_kind::null:
    out += "null";
    return;
  case value_kind::integer:
    out += std::to_string(value.integer);
    return;
  case value_kind::boolean:
    out += value.integer != 0 ? "true" : "false";
    return;
  case value_kind::number: {
    // 17 significant digits read back as the same double.
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.17g", value.number);
    out += buf;
    return;
  }
  case value_kind::text:
    break;
  }
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : value.text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    default:
      if (c < 0x20) {
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  out += '"';
}

} // namespace cqrs::detail
