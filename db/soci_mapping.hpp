// Private to db/: how entities map onto SOCI rows (type_conversion) and how
// driver failures map onto cqrs errors.
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include <soci/soci.h>

#include "db/error.hpp"
#include "model/entities.hpp"

namespace cqrs::detail {

/// Reads the integer column `name` whatever type the backend reports for it.
/// SOCI's SQLite backend reports `INTEGER` columns as `int` (and would
/// truncate ids past 2^31) and expressions as strings, PostgreSQL reports
/// `bigint`; the entity queries therefore select ids as `CAST(id AS BIGINT)`,
/// which arrives as a string on SQLite and as `long long` on PostgreSQL.
inline long long integer_column(const soci::values& v,
                                const std::string& name) {
  switch (v.get_properties(name).get_data_type()) {
  case soci::dt_integer:
    return v.get<int>(name);
  case soci::dt_long_long:
    return v.get<long long>(name);
  case soci::dt_unsigned_long_long:
    return static_cast<long long>(v.get<unsigned long long>(name));
  case soci::dt_double:
    return static_cast<long long>(v.get<double>(name));
  default:
    return std::stoll(v.get<std::string>(name));
  }
}

/// Returns the driver's own message for `e`, without SOCI's context (the
/// statement text and the bound values, which may carry user input).
inline std::string driver_message(const std::exception& e) {
  if (auto soci_err = dynamic_cast<const soci::soci_error*>(&e))
    return soci_err->get_error_message();
  return e.what();
}

/// Turns a failure of the database into `ec::database_unavailable`, naming
/// what was being attempted.
inline caf::error database_error(std::string_view what,
                                 const std::exception& e) {
  std::string message{what};
  auto driver = driver_message(e);
  if (auto plain = explain_database_failure(driver); !plain.empty()) {
    message += ": ";
    message += plain;
  }
  message += ": ";
  message += driver;
  return make_cqrs_error(ec::database_unavailable, std::move(message));
}

/// Runs `sql` and swallows any failure; used to leave a failed transaction.
inline void execute_quietly(soci::session& sql, const char* text) noexcept {
  try {
    sql << text;
  } catch (...) {
    // The transaction is already gone or the connection is lost; either way
    // there is nothing left to undo.
  }
}

} // namespace cqrs::detail

namespace soci {

// -- entity mappings ----------------------------------------------------------

// Values are bound by name (`:description`); names the statement does not
// mention are ignored by SOCI. Bind with `use(const T&)`: a non-const use
// asks SOCI to read the values back after the statement ran.

template <> struct type_conversion<cqrs::category> {
  using base_type = values;

  static void from_base(const values& v, indicator, cqrs::category& x) {
    x.id = cqrs::detail::integer_column(v, "id");
    x.description = v.get<std::string>("description");
  }

  static void to_base(const cqrs::category& x, values& v, indicator& ind) {
    v.set("id", static_cast<long long>(x.id));
    v.set("description", x.description);
    ind = i_ok;
  }
};

template <> struct type_conversion<cqrs::related_object> {
  using base_type = values;

  static void from_base(const values& v, indicator, cqrs::related_object& x) {
    x.id = cqrs::detail::integer_column(v, "id");
    x.content_description = v.get<std::string>("content_description");
    x.content_type = v.get<std::string>("content_type");
  }

  static void to_base(const cqrs::related_object& x, values& v,
                      indicator& ind) {
    v.set("id", static_cast<long long>(x.id));
    v.set("content_description", x.content_description);
    v.set("content_type", x.content_type);
    ind = i_ok;
  }
};

template <> struct type_conversion<cqrs::top_level_object> {
  using base_type = values;

  // Reads the root row only; the child lives in its own table.
  static void from_base(const values& v, indicator, cqrs::top_level_object& x) {
    x.id = cqrs::detail::integer_column(v, "id");
    x.name = v.get<std::string>("name");
  }

  static void to_base(const cqrs::top_level_object& x, values& v,
                      indicator& ind) {
    v.set("id", static_cast<long long>(x.id));
    v.set("name", x.name);
    ind = i_ok;
  }
};

template <> struct type_conversion<cqrs::child_object> {
  using base_type = values;

  static void from_base(const values& v, indicator, cqrs::child_object& x) {
    x.id = cqrs::detail::integer_column(v, "id");
    x.access_code = v.get<std::string>("access_code");
    x.top_level_object_id =
        cqrs::detail::integer_column(v, "top_level_object_id");
    x.related_object_id = cqrs::detail::integer_column(v, "related_object_id");
    x.category_id = cqrs::detail::integer_column(v, "category_id");
  }

  static void to_base(const cqrs::child_object& x, values& v, indicator& ind) {
    v.set("id", static_cast<long long>(x.id));
    v.set("access_code", x.access_code);
    v.set("top_level_object_id", static_cast<long long>(x.top_level_object_id));
    v.set("related_object_id", static_cast<long long>(x.related_object_id));
    v.set("category_id", static_cast<long long>(x.category_id));
    ind = i_ok;
  }
};

} // namespace soci
