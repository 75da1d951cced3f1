// Unit tests of route matching, allowed methods and the mapping of errors to
// HTTP statuses and codes.
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

#include <caf/sec.hpp>

#include "db/error.hpp"
#include "http/errors.hpp"
#include "http/routes.hpp"
#include "model/ec.hpp"

using namespace cqrs;
using cqrs::http::route;

BOOST_TEST_DONT_PRINT_LOG_VALUE(cqrs::http::route)

namespace {

/// Every route a request can match, in declaration order.
const std::vector<route> known_routes{
    route::healthz,         route::readyz,         route::metrics,
    route::status,          route::categories,     route::category,
    route::related_objects, route::related_object, route::objects,
    route::object,
};

/// Every error code.
const std::vector<ec> all_codes{
    ec::none,
    ec::bad_request,
    ec::not_found,
    ec::still_referenced,
    ec::missing_reference,
    ec::database_unavailable,
    ec::actor_unavailable,
    ec::min_seq_timeout,
    ec::overloaded,
    ec::internal,
};

/// Matches paths and checks the result.
struct fixture {
  /// Requires that `path` matches `expected` with no id.
  static void check_collection(const std::string& path, route expected) {
    BOOST_TEST_CONTEXT("path " << path) {
      auto m = http::match(path);
      BOOST_TEST((m.r == expected), "matched " << http::pattern(m.r));
      BOOST_TEST(m.id == 0);
      BOOST_TEST(!m.bad_id);
    }
  }

  /// Requires that `path` matches item route `expected` with `id`.
  static void check_item(const std::string& path, route expected, row_id id) {
    BOOST_TEST_CONTEXT("path " << path) {
      auto m = http::match(path);
      BOOST_TEST((m.r == expected), "matched " << http::pattern(m.r));
      BOOST_TEST(m.id == id);
      BOOST_TEST(!m.bad_id);
    }
  }

  /// Requires that `path` matches item route `expected` with a bad id.
  static void check_bad_id(const std::string& path, route expected) {
    BOOST_TEST_CONTEXT("path " << path) {
      auto m = http::match(path);
      BOOST_TEST((m.r == expected), "matched " << http::pattern(m.r));
      BOOST_TEST(m.id == 0);
      BOOST_TEST(m.bad_id);
    }
  }

  /// Requires that `path` matches no route.
  static void check_unknown(const std::string& path) {
    BOOST_TEST_CONTEXT("path " << path) {
      auto m = http::match(path);
      BOOST_TEST((m.r == route::unknown), "matched " << http::pattern(m.r));
      BOOST_TEST(!m.bad_id);
    }
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(routes, fixture)

// -- match --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(operational_routes) {
  check_collection("/healthz", route::healthz);
  check_collection("/readyz", route::readyz);
  check_collection("/metrics", route::metrics);
  check_collection("/status", route::status);
}

BOOST_AUTO_TEST_CASE(collection_routes) {
  check_collection("/categories", route::categories);
  check_collection("/related-objects", route::related_objects);
  check_collection("/objects", route::objects);
}

BOOST_AUTO_TEST_CASE(item_routes_carry_their_id) {
  check_item("/categories/1", route::category, 1);
  check_item("/categories/42", route::category, 42);
  check_item("/related-objects/7", route::related_object, 7);
  check_item("/related-objects/123456", route::related_object, 123456);
  check_item("/objects/3", route::object, 3);
  check_item("/objects/9223372036854775807", route::object, INT64_MAX);
}

BOOST_AUTO_TEST_CASE(item_routes_flag_bad_ids) {
  for (auto [prefix, r] : std::vector<std::pair<std::string, route>>{
           {"/categories/", route::category},
           {"/related-objects/", route::related_object},
           {"/objects/", route::object}}) {
    for (auto id :
         {"abc", "0", "-5", "99999999999999999999", "9223372036854775808", "01",
          "1.5", "1a", "+1", "%31", " 1"})
      check_bad_id(prefix + id, r);
  }
}

BOOST_AUTO_TEST_CASE(trailing_slashes_and_extra_segments_are_unknown) {
  for (auto path : {
           "/healthz/",
           "/readyz/",
           "/metrics/",
           "/status/",
           "/categories/",
           "/related-objects/",
           "/objects/",
           "/categories/1/",
           "/related-objects/1/",
           "/objects/1/",
           "/objects/1/name",
           "/categories/1/2",
           "/objects//1",
           "/objects/abc/1",
           "/healthz/x",
           "/status/1",
           "//objects",
           "/objects//",
       })
    check_unknown(path);
}

BOOST_AUTO_TEST_CASE(prefixes_and_lookalikes_are_unknown) {
  for (auto path : {
           "",
           "/",
           "/categoriesX",
           "/categories1",
           "/categories-1",
           "/category",
           "/category/1",
           "/related-objectsX",
           "/related_objects",
           "/related_objects/1",
           "/relatedobjects/1",
           "/objectsX",
           "/objects1",
           "/object/1",
           "/Objects",
           "/OBJECTS/1",
           "/healthzX",
           "/health",
           "/readyzz",
           "/metricsX",
           "/statusX",
           "objects",
           "objects/1",
           "/api/objects",
       })
    check_unknown(path);
}

BOOST_AUTO_TEST_CASE(patterns_name_each_route) {
  BOOST_TEST(http::pattern(route::healthz) == "/healthz");
  BOOST_TEST(http::pattern(route::readyz) == "/readyz");
  BOOST_TEST(http::pattern(route::metrics) == "/metrics");
  BOOST_TEST(http::pattern(route::status) == "/status");
  BOOST_TEST(http::pattern(route::categories) == "/categories");
  BOOST_TEST(http::pattern(route::category) == "/categories/{id}");
  BOOST_TEST(http::pattern(route::related_objects) == "/related-objects");
  BOOST_TEST(http::pattern(route::related_object) == "/related-objects/{id}");
  BOOST_TEST(http::pattern(route::objects) == "/objects");
  BOOST_TEST(http::pattern(route::object) == "/objects/{id}");
  BOOST_TEST(http::pattern(route::unknown) == "unknown");
  std::set<std::string_view> distinct;
  for (auto r : known_routes)
    distinct.insert(http::pattern(r));
  BOOST_TEST(distinct.size() == known_routes.size());
  BOOST_TEST(http::route_count == known_routes.size() + 1);
}

BOOST_AUTO_TEST_CASE(patterns_match_their_own_routes) {
  // A pattern with "{id}" replaced by an id matches its route.
  for (auto r : known_routes) {
    std::string path{http::pattern(r)};
    if (auto pos = path.find("{id}"); pos != std::string::npos)
      path.replace(pos, 4, "17");
    auto m = http::match(path);
    BOOST_TEST((m.r == r), "path " << path);
  }
}

// -- allowed methods ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(allowed_methods_per_route) {
  for (auto r : {route::healthz, route::readyz, route::metrics, route::status})
    BOOST_TEST(http::allowed_methods(r) == "GET, HEAD");
  BOOST_TEST(http::allowed_methods(route::categories) == "POST");
  BOOST_TEST(http::allowed_methods(route::related_objects) == "POST");
  BOOST_TEST(http::allowed_methods(route::objects) == "GET, HEAD, POST");
  for (auto r : {route::category, route::related_object, route::object})
    BOOST_TEST(http::allowed_methods(r) == "GET, HEAD, PUT, DELETE");
  BOOST_TEST(http::allowed_methods(route::unknown) == "");
}

BOOST_AUTO_TEST_CASE(allows_matches_the_api_table) {
  struct row {
    route r;
    std::set<std::string> allowed;
  };
  std::vector<row> table{
      {route::healthz, {"GET", "HEAD"}},
      {route::readyz, {"GET", "HEAD"}},
      {route::metrics, {"GET", "HEAD"}},
      {route::status, {"GET", "HEAD"}},
      {route::categories, {"POST"}},
      {route::related_objects, {"POST"}},
      {route::objects, {"GET", "HEAD", "POST"}},
      {route::category, {"GET", "HEAD", "PUT", "DELETE"}},
      {route::related_object, {"GET", "HEAD", "PUT", "DELETE"}},
      {route::object, {"GET", "HEAD", "PUT", "DELETE"}},
      {route::unknown, {}},
  };
  std::vector<std::string> methods{
      "GET",     "HEAD",  "POST", "PUT", "DELETE", "PATCH",
      "OPTIONS", "TRACE", "get",  "",    "GET,",   "GET, HEAD",
      "PUT, D",  ",",     " ",    "ET",  "HEA",    "POST ",
  };
  for (const auto& [r, allowed] : table)
    for (const auto& method : methods) {
      BOOST_TEST(http::allows(r, method) == (allowed.count(method) > 0),
                 "route " << http::pattern(r) << ", method '" << method << "'");
    }
}

// -- errors -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(status_of_every_error_code) {
  BOOST_TEST(http::status_of(ec::none) == 200);
  BOOST_TEST(http::status_of(ec::bad_request) == 400);
  BOOST_TEST(http::status_of(ec::not_found) == 404);
  BOOST_TEST(http::status_of(ec::still_referenced) == 409);
  BOOST_TEST(http::status_of(ec::missing_reference) == 422);
  BOOST_TEST(http::status_of(ec::database_unavailable) == 503);
  BOOST_TEST(http::status_of(ec::actor_unavailable) == 503);
  BOOST_TEST(http::status_of(ec::min_seq_timeout) == 504);
  BOOST_TEST(http::status_of(ec::overloaded) == 503);
  BOOST_TEST(http::status_of(ec::internal) == 500);
  // Values outside the enum are internal errors, not successes.
  BOOST_TEST(http::status_of(static_cast<ec>(200)) == 500);
}

BOOST_AUTO_TEST_CASE(make_api_error_codes) {
  struct row {
    int status;
    const char* code;
  };
  for (auto [status, code] : std::vector<row>{
           {400, "bad_request"},
           {401, "unauthorized"},
           {404, "not_found"},
           {405, "method_not_allowed"},
           {409, "still_referenced"},
           {413, "payload_too_large"},
           {415, "unsupported_media_type"},
           {422, "missing_reference"},
           {503, "unavailable"},
           {504, "min_seq_timeout"},
       }) {
    BOOST_TEST_CONTEXT("status " << status) {
      auto err = http::make_api_error(status, "why: \"it\" failed");
      BOOST_TEST(err.status == status);
      BOOST_TEST(err.code == code);
      BOOST_TEST(err.message == "why: \"it\" failed");
    }
  }
  auto other = http::make_api_error(418, "teapot");
  BOOST_TEST(other.status == 418);
  BOOST_TEST(!other.code.empty());
  BOOST_TEST(other.message == "teapot");
}

BOOST_AUTO_TEST_CASE(make_api_error_agrees_with_error_codes) {
  // A status built directly carries the same code as the ec behind it.
  for (auto code : {ec::bad_request, ec::not_found, ec::still_referenced,
                    ec::missing_reference, ec::min_seq_timeout}) {
    BOOST_TEST_CONTEXT("ec " << to_string(code)) {
      auto status = http::status_of(code);
      BOOST_TEST(http::make_api_error(status, "x").code == to_string(code));
    }
  }
}

BOOST_AUTO_TEST_CASE(to_api_error_of_cqrs_errors) {
  for (auto code : all_codes) {
    if (code == ec::none)
      continue;
    BOOST_TEST_CONTEXT("ec " << to_string(code)) {
      auto err = http::to_api_error(make_cqrs_error(code, "the reason"));
      BOOST_TEST(err.status == http::status_of(code));
      BOOST_TEST(err.code == to_string(code));
      BOOST_TEST(err.message.find("the reason") != std::string::npos,
                 "message: " << err.message);
    }
  }
}

BOOST_AUTO_TEST_CASE(to_api_error_of_system_errors_is_503) {
  for (auto code : {caf::sec::request_timeout, caf::sec::request_receiver_down,
                    caf::sec::unexpected_message}) {
    auto err = http::to_api_error(caf::make_error(code));
    BOOST_TEST(err.status == 503);
    BOOST_TEST(err.code == "actor_unavailable");
    BOOST_TEST(!err.message.empty());
  }
}

BOOST_AUTO_TEST_CASE(error_code_names_are_distinct) {
  std::set<std::string> names;
  for (auto code : all_codes)
    names.insert(to_string(code));
  BOOST_TEST(names.size() == all_codes.size());
  BOOST_TEST(to_string(ec::still_referenced) == "still_referenced");
  BOOST_TEST(to_string(ec::missing_reference) == "missing_reference");
}

BOOST_AUTO_TEST_SUITE_END()
