// Unit tests of the route table built from a domain (matching, allowed
// methods, metrics labels) and of the mapping of errors to HTTP statuses and
// codes.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/sec.hpp>

#include "common/error.hpp"
#include "config/domain_file.hpp"
#include "http/errors.hpp"
#include "http/routes.hpp"

using namespace cqrs;
using cqrs::http::route_kind;
using cqrs::http::route_match;
using cqrs::http::route_table;

BOOST_TEST_DONT_PRINT_LOG_VALUE(cqrs::http::route_kind)

namespace {

/// The pattern of every route of the built-in domain a request can match,
/// in table order.
/// Fixed routes first, then resources by segment (domain::resources is
/// sorted), then views that are no resource.
const std::vector<std::string> builtin_patterns{
    "/healthz",
    "/readyz",
    "/metrics",
    "/status",
    "/openapi.json",
    "/commits",
    "/docs",
    "/console",
    "/categories",
    "/categories/{id}",
    "/objects",
    "/objects/{id}",
    "/related-objects",
    "/related-objects/{id}",
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
    ec::idempotency_key_reused,
    ec::duplicate_value,
    ec::schema_mismatch,
    ec::domain_mismatch,
    ec::unauthorized,
    ec::method_not_allowed,
    ec::request_timeout,
    ec::payload_too_large,
    ec::uri_too_long,
    ec::unsupported_media_type,
    ec::header_too_large,
    ec::unavailable,
    ec::other,
    ec::command_node_lost,
    ec::not_leader,
};

/// A domain with the cases the built-in one lacks: a view that is also a
/// resource and has a list (`depots`), a resource without a view
/// (`audit-notes`), a view without a list and without a resource
/// (`regions`), and a view with a list but no resource (`depot-names`).
const char* shop_yaml = R"(
name: shop
tables:
  region:
    columns:
      name: text
  depot:
    columns:
      name: text
      region_id: {references: region}
  audit:
    columns:
      note: text
resources:
  depots:
    table: depot
  audit-notes:
    table: audit
views:
  depots:
    from: depot
    fields: {id: depot.id, name: depot.name}
    list:
      filters: {region_id: depot.region_id}
  regions:
    from: region
    fields: {id: region.id, name: region.name}
  depot-names:
    from: depot
    fields: {name: depot.name}
    list: {}
)";

/// Parses `text`; fails the test when it does not load.
domain parse_or_fail(const std::string& text) {
  domain_error err;
  auto d = parse_domain(text, "test.yaml", err);
  BOOST_REQUIRE_MESSAGE(d.has_value(), to_string(err));
  return std::move(*d);
}

/// Matches paths against a route table and checks the result.
struct fixture {
  fixture() {
    auto d = builtin_domain();
    BOOST_REQUIRE_MESSAGE(d != nullptr, "the built-in domain does not load");
    dom = d;
    table.emplace(*d);
  }

  /// Returns the index of the route with pattern `pattern`; fails the test
  /// when there is none.
  static uint16_t index_of(const route_table& t, const std::string& pattern) {
    for (uint16_t i = 0; i < t.size(); ++i)
      if (t.pattern(i) == pattern)
        return i;
    BOOST_FAIL("no route " << pattern);
    return 0;
  }

  uint16_t index_of(const std::string& pattern) const {
    return index_of(*table, pattern);
  }

  /// Requires that `path` matches the route `pattern` with no id.
  void check_collection(const std::string& path,
                        const std::string& pattern) const {
    BOOST_TEST_CONTEXT("path " << path) {
      auto m = table->match(path);
      BOOST_TEST(table->pattern(m.index) == pattern);
      BOOST_TEST(m.kind != route_kind::item);
      BOOST_TEST(m.kind != route_kind::unknown);
      BOOST_TEST(m.id == 0);
      BOOST_TEST(!m.bad_id);
    }
  }

  /// Requires that `path` matches the item route `pattern` with `id`.
  void check_item(const std::string& path, const std::string& pattern,
                  row_id id) const {
    BOOST_TEST_CONTEXT("path " << path) {
      auto m = table->match(path);
      BOOST_TEST(table->pattern(m.index) == pattern);
      BOOST_TEST(m.kind == route_kind::item);
      BOOST_TEST(m.id == id);
      BOOST_TEST(!m.bad_id);
    }
  }

  /// Requires that `path` matches the item route `pattern` with a bad id.
  void check_bad_id(const std::string& path, const std::string& pattern) const {
    BOOST_TEST_CONTEXT("path " << path) {
      auto m = table->match(path);
      BOOST_TEST(table->pattern(m.index) == pattern);
      BOOST_TEST(m.kind == route_kind::item);
      BOOST_TEST(m.id == 0);
      BOOST_TEST(m.bad_id);
    }
  }

  /// Requires that `path` matches no route.
  static void check_unknown(const route_table& t, const std::string& path) {
    BOOST_TEST_CONTEXT("path " << path) {
      auto m = t.match(path);
      BOOST_TEST(m.kind == route_kind::unknown,
                 "matched " << t.pattern(m.index));
      BOOST_TEST(m.index == t.unknown());
      BOOST_TEST(t.pattern(m.index) == "unknown");
      BOOST_TEST(!m.resource.has_value());
      BOOST_TEST(!m.view.has_value());
      BOOST_TEST(!m.bad_id);
    }
  }

  void check_unknown(const std::string& path) const {
    check_unknown(*table, path);
  }

  std::shared_ptr<const domain> dom;
  std::optional<route_table> table;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(routes, fixture)

// -- match --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(operational_routes) {
  struct row {
    const char* path;
    route_kind kind;
  };
  for (auto [path, kind] : std::vector<row>{
           {"/healthz", route_kind::healthz},
           {"/readyz", route_kind::readyz},
           {"/metrics", route_kind::metrics},
           {"/status", route_kind::status},
           {"/openapi.json", route_kind::openapi},
           {"/commits", route_kind::commits},
           {"/docs", route_kind::asset},
           {"/console", route_kind::asset},
       }) {
    check_collection(path, path);
    auto m = table->match(path);
    BOOST_TEST(m.kind == kind, "path " << path);
    BOOST_TEST(!m.resource.has_value());
    BOOST_TEST(!m.view.has_value());
    BOOST_TEST(m.is_probe() ==
               (kind == route_kind::healthz || kind == route_kind::readyz ||
                kind == route_kind::metrics));
  }
}

BOOST_AUTO_TEST_CASE(collection_routes) {
  check_collection("/categories", "/categories");
  check_collection("/related-objects", "/related-objects");
  check_collection("/objects", "/objects");
  BOOST_TEST_MESSAGE("each segment's routes name its resource and its view");
  for (std::string segment : {"categories", "related-objects", "objects"}) {
    BOOST_TEST_CONTEXT("segment " << segment) {
      auto resource = dom->resource_index(segment);
      auto view = dom->view_index(segment);
      BOOST_TEST_REQUIRE(resource.has_value());
      BOOST_TEST_REQUIRE(view.has_value());
      for (auto path : {"/" + segment, "/" + segment + "/5"}) {
        auto m = table->match(path);
        BOOST_TEST(m.kind == (path == "/" + segment ? route_kind::collection
                                                    : route_kind::item));
        BOOST_TEST((m.resource == std::optional<uint16_t>(*resource)));
        BOOST_TEST((m.view == std::optional<uint16_t>(*view)));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(item_routes_carry_their_id) {
  check_item("/categories/1", "/categories/{id}", 1);
  check_item("/categories/42", "/categories/{id}", 42);
  check_item("/related-objects/7", "/related-objects/{id}", 7);
  check_item("/related-objects/123456", "/related-objects/{id}", 123456);
  check_item("/objects/3", "/objects/{id}", 3);
  check_item("/objects/9223372036854775807", "/objects/{id}", INT64_MAX);
}

BOOST_AUTO_TEST_CASE(item_routes_flag_bad_ids) {
  for (std::string segment : {"categories", "related-objects", "objects"}) {
    for (auto id :
         {"abc", "0", "-5", "99999999999999999999", "9223372036854775808", "01",
          "1.5", "1a", "+1", "%31", " 1"})
      check_bad_id("/" + segment + "/" + id, "/" + segment + "/{id}");
  }
}

BOOST_AUTO_TEST_CASE(trailing_slashes_and_extra_segments_are_unknown) {
  for (auto path : {
           "/healthz/",         "/readyz/",
           "/metrics/",         "/status/",
           "/openapi.json/",    "/categories/",
           "/related-objects/", "/objects/",
           "/categories/1/",    "/related-objects/1/",
           "/objects/1/",       "/objects/1/name",
           "/categories/1/2",   "/objects//1",
           "/objects/abc/1",    "/healthz/x",
           "/status/1",         "/openapi.json/1",
           "//objects",         "/objects//",
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
           "/openapi",
           "/openapi.jsonX",
           "/top_level_object/1",
           "objects",
           "objects/1",
           "/api/objects",
       })
    check_unknown(path);
}

BOOST_AUTO_TEST_CASE(patterns_name_each_route) {
  BOOST_TEST_REQUIRE(table->size() == builtin_patterns.size() + 1);
  for (uint16_t i = 0; i < builtin_patterns.size(); ++i)
    BOOST_TEST(table->pattern(i) == builtin_patterns[i], "route " << i);
  BOOST_TEST(table->pattern(table->unknown()) == "unknown");
  BOOST_TEST(table->unknown() == builtin_patterns.size());
  std::set<std::string_view> distinct;
  for (uint16_t i = 0; i < table->size(); ++i)
    distinct.insert(table->pattern(i));
  BOOST_TEST(distinct.size() == table->size());
}

BOOST_AUTO_TEST_CASE(patterns_match_their_own_routes) {
  // A pattern with "{id}" replaced by an id matches its route.
  for (uint16_t i = 0; i < table->unknown(); ++i) {
    std::string path{table->pattern(i)};
    if (auto pos = path.find("{id}"); pos != std::string::npos)
      path.replace(pos, 4, "17");
    auto m = table->match(path);
    BOOST_TEST(m.index == i, "path " << path);
  }
}

// -- allowed methods ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(allowed_methods_per_route) {
  for (auto p : {"/healthz", "/readyz", "/metrics", "/status", "/openapi.json",
                 "/commits", "/docs", "/console"})
    BOOST_TEST(table->allowed_methods(index_of(p)) == "GET, HEAD", p);
  BOOST_TEST(table->allowed_methods(index_of("/categories")) == "POST");
  BOOST_TEST(table->allowed_methods(index_of("/related-objects")) == "POST");
  BOOST_TEST(table->allowed_methods(index_of("/objects")) == "GET, HEAD, POST");
  for (auto p : {"/categories/{id}", "/related-objects/{id}", "/objects/{id}"})
    BOOST_TEST(table->allowed_methods(index_of(p)) == "GET, HEAD, PUT, DELETE",
               p);
  BOOST_TEST(table->allowed_methods(table->unknown()) == "");
}

BOOST_AUTO_TEST_CASE(allows_matches_the_api_table) {
  struct row {
    std::string pattern;
    std::set<std::string> allowed;
  };
  std::vector<row> rows{
      {"/healthz", {"GET", "HEAD"}},
      {"/readyz", {"GET", "HEAD"}},
      {"/metrics", {"GET", "HEAD"}},
      {"/status", {"GET", "HEAD"}},
      {"/openapi.json", {"GET", "HEAD"}},
      {"/commits", {"GET", "HEAD"}},
      {"/docs", {"GET", "HEAD"}},
      {"/console", {"GET", "HEAD"}},
      {"/categories", {"POST"}},
      {"/related-objects", {"POST"}},
      {"/objects", {"GET", "HEAD", "POST"}},
      {"/categories/{id}", {"GET", "HEAD", "PUT", "DELETE"}},
      {"/related-objects/{id}", {"GET", "HEAD", "PUT", "DELETE"}},
      {"/objects/{id}", {"GET", "HEAD", "PUT", "DELETE"}},
      {"unknown", {}},
  };
  BOOST_TEST(rows.size() == table->size());
  std::vector<std::string> methods{
      "GET",     "HEAD",  "POST", "PUT", "DELETE", "PATCH",
      "OPTIONS", "TRACE", "get",  "",    "GET,",   "GET, HEAD",
      "PUT, D",  ",",     " ",    "ET",  "HEA",    "POST ",
  };
  for (const auto& [pattern, allowed] : rows) {
    auto index = index_of(pattern);
    for (const auto& method : methods) {
      BOOST_TEST(table->allows(index, method) == (allowed.count(method) > 0),
                 "route " << pattern << ", method '" << method << "'");
    }
  }
}

// -- a richer domain ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(routes_of_a_declared_domain) {
  auto shop = parse_or_fail(shop_yaml);
  route_table t{shop};
  BOOST_TEST_MESSAGE("fixed routes, then each segment once (resources by "
                     "segment, then the other views), then unknown");
  std::vector<std::string> expected{
      "/healthz",      "/readyz",           "/metrics",     "/status",
      "/openapi.json", "/commits",          "/docs",        "/console",
      "/audit-notes",  "/audit-notes/{id}", "/depots",      "/depots/{id}",
      "/regions",      "/regions/{id}",     "/depot-names", "/depot-names/{id}",
      "unknown",
  };
  BOOST_TEST_REQUIRE(t.size() == expected.size());
  for (uint16_t i = 0; i < t.size(); ++i)
    BOOST_TEST(t.pattern(i) == expected[i], "route " << i);
  BOOST_TEST(t.unknown() == expected.size() - 1);
  BOOST_TEST_MESSAGE("the built-in segments are not routes of this domain");
  for (auto path : {"/objects", "/objects/1", "/categories", "/depot",
                    "/region/1", "/audit", "/audit_notes/1", "/depots/1/x"})
    check_unknown(t, path);
}

BOOST_AUTO_TEST_CASE(a_view_sharing_a_resource_segment_serves_both) {
  auto shop = parse_or_fail(shop_yaml);
  route_table t{shop};
  auto resource = shop.resource_index("depots");
  auto view = shop.view_index("depots");
  BOOST_TEST_REQUIRE(resource.has_value());
  BOOST_TEST_REQUIRE(view.has_value());
  auto list = t.match("/depots");
  BOOST_TEST(list.kind == route_kind::collection);
  BOOST_TEST((list.resource == std::optional<uint16_t>(*resource)));
  BOOST_TEST((list.view == std::optional<uint16_t>(*view)));
  BOOST_TEST(t.allowed_methods(list.index) == "GET, HEAD, POST");
  auto item = t.match("/depots/12");
  BOOST_TEST(item.kind == route_kind::item);
  BOOST_TEST(item.id == 12);
  BOOST_TEST((item.resource == std::optional<uint16_t>(*resource)));
  BOOST_TEST((item.view == std::optional<uint16_t>(*view)));
  BOOST_TEST(t.allowed_methods(item.index) == "GET, HEAD, PUT, DELETE");
  auto bad = t.match("/depots/x");
  BOOST_TEST(bad.kind == route_kind::item);
  BOOST_TEST(bad.bad_id);
  BOOST_TEST(bad.index == item.index);
}

BOOST_AUTO_TEST_CASE(a_resource_without_a_view_answers_no_reads) {
  auto shop = parse_or_fail(shop_yaml);
  route_table t{shop};
  auto resource = shop.resource_index("audit-notes");
  BOOST_TEST_REQUIRE(resource.has_value());
  BOOST_TEST(!shop.view_index("audit-notes").has_value());
  auto list = t.match("/audit-notes");
  BOOST_TEST(list.kind == route_kind::collection);
  BOOST_TEST((list.resource == std::optional<uint16_t>(*resource)));
  BOOST_TEST(!list.view.has_value());
  BOOST_TEST(t.allowed_methods(list.index) == "POST");
  auto item = t.match("/audit-notes/3");
  BOOST_TEST(item.kind == route_kind::item);
  BOOST_TEST(item.id == 3);
  BOOST_TEST(!item.view.has_value());
  BOOST_TEST(t.allowed_methods(item.index) == "PUT, DELETE");
  BOOST_TEST_MESSAGE("GET and HEAD answer 405 on both routes");
  for (auto index : {list.index, item.index}) {
    BOOST_TEST(!t.allows(index, "GET"));
    BOOST_TEST(!t.allows(index, "HEAD"));
  }
  BOOST_TEST(t.allows(list.index, "POST"));
  BOOST_TEST(!t.allows(list.index, "PUT"));
  BOOST_TEST(t.allows(item.index, "PUT"));
  BOOST_TEST(t.allows(item.index, "DELETE"));
  BOOST_TEST(!t.allows(item.index, "POST"));
}

BOOST_AUTO_TEST_CASE(
    a_view_without_list_or_resource_allows_nothing_on_the_collection) {
  auto shop = parse_or_fail(shop_yaml);
  route_table t{shop};
  auto view = shop.view_index("regions");
  BOOST_TEST_REQUIRE(view.has_value());
  BOOST_TEST(!shop.resource_index("regions").has_value());
  auto list = t.match("/regions");
  BOOST_TEST(list.kind == route_kind::collection);
  BOOST_TEST(!list.resource.has_value());
  BOOST_TEST((list.view == std::optional<uint16_t>(*view)));
  BOOST_TEST(t.allowed_methods(list.index) == "");
  for (auto method : {"GET", "HEAD", "POST", "PUT", "DELETE", ""})
    BOOST_TEST(!t.allows(list.index, method), "method '" << method << "'");
  auto item = t.match("/regions/9");
  BOOST_TEST(item.kind == route_kind::item);
  BOOST_TEST((item.view == std::optional<uint16_t>(*view)));
  BOOST_TEST(t.allowed_methods(item.index) == "GET, HEAD");
  BOOST_TEST(t.allows(item.index, "GET"));
  BOOST_TEST(!t.allows(item.index, "PUT"));
  BOOST_TEST(!t.allows(item.index, "DELETE"));
  BOOST_TEST_MESSAGE("a view with a list and no resource reads only");
  auto names = t.match("/depot-names");
  BOOST_TEST(t.allowed_methods(names.index) == "GET, HEAD");
  BOOST_TEST(t.allowed_methods(t.match("/depot-names/1").index) == "GET, HEAD");
}

BOOST_AUTO_TEST_CASE(every_route_has_its_own_metrics_label) {
  auto shop = parse_or_fail(shop_yaml);
  route_table t{shop};
  struct row {
    const char* path;
    const char* label;
  };
  for (auto [path, label] : std::vector<row>{
           {"/depots", "/depots"},
           {"/depots/1", "/depots/{id}"},
           {"/depots/0", "/depots/{id}"},
           {"/audit-notes", "/audit-notes"},
           {"/audit-notes/77", "/audit-notes/{id}"},
           {"/regions", "/regions"},
           {"/regions/2", "/regions/{id}"},
           {"/depot-names/2", "/depot-names/{id}"},
           {"/metrics", "/metrics"},
           {"/openapi.json", "/openapi.json"},
           {"/commits", "/commits"},
           {"/nowhere", "unknown"},
           {"/depots/1/", "unknown"},
       })
    BOOST_TEST(t.pattern(t.match(path).index) == label, "path " << path);
  std::set<std::string_view> labels;
  for (uint16_t i = 0; i < t.size(); ++i)
    labels.insert(t.pattern(i));
  BOOST_TEST(labels.size() == t.size());
}

// -- errors -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(http_status_of_every_error_code) {
  BOOST_TEST(http_status(ec::none) == 200);
  BOOST_TEST(http_status(ec::bad_request) == 400);
  BOOST_TEST(http_status(ec::not_found) == 404);
  BOOST_TEST(http_status(ec::still_referenced) == 409);
  BOOST_TEST(http_status(ec::missing_reference) == 422);
  BOOST_TEST(http_status(ec::database_unavailable) == 503);
  BOOST_TEST(http_status(ec::actor_unavailable) == 503);
  BOOST_TEST(http_status(ec::min_seq_timeout) == 504);
  BOOST_TEST(http_status(ec::overloaded) == 503);
  BOOST_TEST(http_status(ec::internal) == 500);
  BOOST_TEST(http_status(ec::idempotency_key_reused) == 422);
  BOOST_TEST(http_status(ec::duplicate_value) == 409);
  BOOST_TEST(http_status(ec::schema_mismatch) == 500);
  BOOST_TEST(http_status(ec::domain_mismatch) == 503);
  BOOST_TEST(http_status(ec::unauthorized) == 401);
  BOOST_TEST(http_status(ec::method_not_allowed) == 405);
  BOOST_TEST(http_status(ec::request_timeout) == 408);
  BOOST_TEST(http_status(ec::payload_too_large) == 413);
  BOOST_TEST(http_status(ec::uri_too_long) == 414);
  BOOST_TEST(http_status(ec::unsupported_media_type) == 415);
  BOOST_TEST(http_status(ec::header_too_large) == 431);
  BOOST_TEST(http_status(ec::unavailable) == 503);
  BOOST_TEST(http_status(ec::other) == 500);
  BOOST_TEST(http_status(ec::command_node_lost) == 503);
  // Values outside the enum are internal errors, not successes.
  BOOST_TEST(http_status(static_cast<ec>(200)) == 500);
  BOOST_TEST(to_string(static_cast<ec>(200)) == "unknown");
}

BOOST_AUTO_TEST_CASE(make_api_error_codes) {
  // The codes of the API's own answers, as clients and docs/openapi.yaml
  // know them.
  struct row {
    ec code;
    int status;
    const char* name;
  };
  for (auto [code, status, name] : std::vector<row>{
           {ec::bad_request, 400, "bad_request"},
           {ec::unauthorized, 401, "unauthorized"},
           {ec::not_found, 404, "not_found"},
           {ec::method_not_allowed, 405, "method_not_allowed"},
           {ec::request_timeout, 408, "request_timeout"},
           {ec::still_referenced, 409, "still_referenced"},
           {ec::duplicate_value, 409, "duplicate_value"},
           {ec::payload_too_large, 413, "payload_too_large"},
           {ec::uri_too_long, 414, "uri_too_long"},
           {ec::unsupported_media_type, 415, "unsupported_media_type"},
           {ec::missing_reference, 422, "missing_reference"},
           {ec::header_too_large, 431, "header_too_large"},
           {ec::internal, 500, "internal"},
           {ec::unavailable, 503, "unavailable"},
           {ec::overloaded, 503, "overloaded"},
           {ec::command_node_lost, 503, "command_node_lost"},
           {ec::not_leader, 503, "not_leader"},
           {ec::min_seq_timeout, 504, "min_seq_timeout"},
       }) {
    BOOST_TEST_CONTEXT("code " << name) {
      auto err = http::make_api_error(code, "why: \"it\" failed");
      BOOST_TEST(err.status == status);
      BOOST_TEST(err.code == name);
      BOOST_TEST(err.message == "why: \"it\" failed");
    }
  }
}

BOOST_AUTO_TEST_CASE(library_errors_keep_their_status) {
  // What cpp-httplib answers by itself keeps its status and gets the code
  // that names it, or "error".
  struct row {
    int status;
    const char* code;
  };
  for (auto [status, code] : std::vector<row>{
           {400, "bad_request"},
           {404, "not_found"},
           {413, "payload_too_large"},
           {414, "uri_too_long"},
           {415, "unsupported_media_type"},
           {416, "error"},
           {500, "error"},
       }) {
    BOOST_TEST_CONTEXT("status " << status) {
      auto err = http::library_error(status, "could not be processed");
      BOOST_TEST(err.status == status);
      BOOST_TEST(err.code == code);
      BOOST_TEST(err.message == "could not be processed");
    }
  }
}

BOOST_AUTO_TEST_CASE(to_api_error_of_cqrs_errors) {
  for (auto code : all_codes) {
    if (code == ec::none)
      continue;
    BOOST_TEST_CONTEXT("ec " << to_string(code)) {
      auto err = http::to_api_error(make_cqrs_error(code, "the reason"));
      BOOST_TEST(err.status == http_status(code));
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
  BOOST_TEST(all_codes.size() == ec_count);
  BOOST_TEST(to_string(ec::still_referenced) == "still_referenced");
  BOOST_TEST(to_string(ec::missing_reference) == "missing_reference");
}

BOOST_AUTO_TEST_SUITE_END()
