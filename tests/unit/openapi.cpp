// Tests of the OpenAPI document of a domain: today's routes and answers for
// the built-in domain, bodies and views that follow the declaration, the
// YAML that reads back as the document, and docs/openapi.yaml up to date.
// A running server checked against it by Prism: openapi_prism.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/domain_file.hpp"
#include "config/openapi_yaml.hpp"
#include "model/openapi.hpp"

using namespace cqrs;
using json = nlohmann::ordered_json;

namespace {

/// A domain that uses every kind of column, owned rows two levels deep, a
/// single owned child, forward, chained and backward joins (inner and
/// left), nested collections, a list with a filter of every type, a view
/// without a list, and references from outside an aggregate.
const char* const shop_yaml = R"(name: shop
tables:
  region:
    columns:
      name: {type: text, unique: true}
  depot:
    columns:
      name: text
      region_id: {references: region, optional: true}
  customer:
    columns:
      name: {type: text, min_length: 2, max_length: 80}
      tier: {type: text, one_of: [gold, silver], optional: true}
      credit: {type: number, min: -10.5, max: 1000}
      visits: {type: integer, min: 0}
      active: boolean
      depot_id: {references: depot}
  profile:
    columns:
      customer_id: {references: customer}
      bio: {type: text, optional: true, max_length: 500}
  badge:
    columns:
      customer_id: {references: customer, unique: true}
      label: text
  order:
    columns:
      customer_id: {references: customer}
      placed: {type: integer, min: 1, max: 99999}
  line:
    columns:
      order_id: {references: order}
      sku: text
      qty: {type: integer, min: 1, max: 100}
  note:
    columns:
      line_id: {references: line, optional: true}
      body: text
resources:
  customers:
    table: customer
    owns:
      profile: {table: profile, by: customer_id}
      orders:
        table: order
        by: customer_id
        many: true
        max_items: 20
        owns:
          lines: {table: line, by: order_id, many: true, max_items: 7}
  regions:
    table: region
  notes:
    table: note
views:
  customers:
    from: customer
    join: [customer.depot_id, depot.region_id, profile.customer_id,
           badge.customer_id]
    fields:
      id: customer.id
      name: customer.name
      tier: customer.tier
      credit: customer.credit
      visits: customer.visits
      active: customer.active
      depot: depot.name
      region_id: region.id
      region: region.name
      profile_id: profile.id
      bio: profile.bio
      badge: badge.label
    collections:
      orders:
        from: order
        by: customer_id
        fields: {id: order.id, placed: order.placed}
        order_by: placed
        limit: 20
        collections:
          lines:
            from: line
            by: order_id
            fields: {sku: line.sku, qty: line.qty}
            limit: 7
    list:
      filters:
        tier: customer.tier
        visits: customer.visits
        credit: customer.credit
        active: customer.active
        depot_id: customer.depot_id
        region: region.name
      default_limit: 10
      max_limit: 40
  depots:
    from: depot
    fields:
      name: depot.name
)";

std::string read_source(const std::string& relative) {
  std::ifstream in{std::string{CQRSD_SOURCE_DIR} + "/" + relative};
  BOOST_REQUIRE_MESSAGE(in.good(), "cannot read " << relative);
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

std::vector<std::string> keys_of(const json& x) {
  std::vector<std::string> result;
  for (const auto& [key, value] : x.items())
    result.push_back(key);
  return result;
}

std::vector<std::string> strings(const json& x) {
  return x.get<std::vector<std::string>>();
}

/// YAML read back as JSON: quoted scalars are strings, plain ones resolve
/// as YAML 1.2's core schema does; maps keep their order.
json from_yaml(const YAML::Node& node) {
  if (node.IsMap()) {
    json result = json::object();
    for (const auto& entry : node)
      result[entry.first.as<std::string>()] = from_yaml(entry.second);
    return result;
  }
  if (node.IsSequence()) {
    json result = json::array();
    for (const auto& item : node)
      result.push_back(from_yaml(item));
    return result;
  }
  if (node.IsNull())
    return nullptr;
  auto text = node.as<std::string>();
  if (node.Tag() != "?")
    return text;
  if (text == "true" || text == "false")
    return text == "true";
  if (std::regex_match(text, std::regex{"-?(0|[1-9][0-9]*)"}))
    return std::stoll(text);
  if (std::regex_match(
          text, std::regex{"-?(0|[1-9][0-9]*)(\\.[0-9]*)?([eE][-+]?[0-9]+)?"}))
    return std::stod(text);
  return text;
}

struct fixture {
  fixture() {
    auto builtin = builtin_domain();
    BOOST_REQUIRE(builtin != nullptr);
    objects = openapi_document(*builtin);
    domain_error err;
    auto d = parse_domain(shop_yaml, "shop.yaml", err);
    BOOST_REQUIRE_MESSAGE(d.has_value(), to_string(err));
    shop_domain = *d;
    shop = openapi_document(shop_domain);
  }

  /// The operation `method` of `path` in `doc`.
  static const json& op(const json& doc, const std::string& path,
                        const std::string& method) {
    BOOST_REQUIRE_MESSAGE(doc["paths"].contains(path), "no path " << path);
    BOOST_REQUIRE_MESSAGE(doc["paths"][path].contains(method),
                          "no " << method << " on " << path);
    return doc["paths"][path][method];
  }

  /// `x`, or what its `$ref` points at (followed until no `$ref` is left).
  static json resolve(const json& doc, json x) {
    while (x.is_object() && x.contains("$ref")) {
      auto target = x["$ref"].get<std::string>();
      BOOST_REQUIRE(target.rfind("#/", 0) == 0);
      auto pointer = json::json_pointer{target.substr(1)};
      BOOST_REQUIRE_MESSAGE(doc.contains(pointer), "dangling " << target);
      x = doc[pointer];
    }
    return x;
  }

  /// The name of the component that `x` refers to ("" for none).
  static std::string ref_name(const json& x) {
    if (!x.is_object() || !x.contains("$ref"))
      return "";
    auto target = x["$ref"].get<std::string>();
    return target.substr(target.rfind('/') + 1);
  }

  /// The statuses `method` on `path` documents, as "201 400 ...".
  static std::string statuses(const json& doc, const std::string& path,
                              const std::string& method) {
    std::string result;
    for (const auto& key : keys_of(op(doc, path, method)["responses"]))
      result += (result.empty() ? "" : " ") + key;
    return result;
  }

  /// The schema component `name` of `doc`.
  static const json& schema(const json& doc, const std::string& name) {
    BOOST_REQUIRE_MESSAGE(doc["components"]["schemas"].contains(name),
                          "no schema " << name);
    return doc["components"]["schemas"][name];
  }

  json objects;
  domain shop_domain;
  json shop;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(openapi, fixture)

// -- the built-in domain: today's API -----------------------------------------

BOOST_AUTO_TEST_CASE(objects_has_todays_routes_and_answers) {
  // Today's hand-written document, plus /openapi.json, the 414 that the
  // probes may answer and the 400 that /status answers to a parameter.
  std::map<std::pair<std::string, std::string>, std::string> expected{
      {{"/categories", "post"}, "201 400 401 413 415 422 503"},
      {{"/categories/{id}", "get"}, "200 400 401 404 503 504"},
      {{"/categories/{id}", "put"}, "200 400 401 404 413 415 422 503"},
      {{"/categories/{id}", "delete"}, "200 400 401 404 409 422 503"},
      {{"/related-objects", "post"}, "201 400 401 413 415 422 503"},
      {{"/related-objects/{id}", "get"}, "200 400 401 404 503 504"},
      {{"/related-objects/{id}", "put"}, "200 400 401 404 413 415 422 503"},
      {{"/related-objects/{id}", "delete"}, "200 400 401 404 409 422 503"},
      {{"/objects", "get"}, "200 400 401 503 504"},
      {{"/objects", "post"}, "201 400 401 413 415 422 503"},
      {{"/objects/{id}", "get"}, "200 400 401 404 503 504"},
      {{"/objects/{id}", "put"}, "200 400 401 404 413 415 422 503"},
      {{"/objects/{id}", "delete"}, "200 400 401 404 422 503"},
      {{"/healthz", "get"}, "200 414"},
      {{"/readyz", "get"}, "200 414 503"},
      {{"/metrics", "get"}, "200 414"},
      {{"/status", "get"}, "200 400 401 503"},
      {{"/openapi.json", "get"}, "200 400 401 503"},
      {{"/commits", "get"}, "200 400 401 503"},
  };
  std::map<std::pair<std::string, std::string>, std::string> actual;
  for (const auto& [path, item] : objects["paths"].items())
    for (const auto& [method, o] : item.items())
      if (method != "parameters")
        actual[{path, method}] = statuses(objects, path, method);
  for (const auto& [route, answers] : expected)
    BOOST_TEST(actual[route] == answers,
               route.second << ' ' << route.first << ": " << actual[route]);
  BOOST_TEST(actual.size() == expected.size(), "routes: " << actual.size());
  // Referenced rows answer 409 on DELETE; bodies with references 422.
  BOOST_TEST(ref_name(op(objects, "/categories/{id}",
                         "delete")["responses"]["409"]) == "StillReferenced");
  BOOST_TEST(ref_name(op(objects, "/objects", "post")["responses"]["422"]) ==
             "MissingReferenceOrKeyReused");
  BOOST_TEST(ref_name(op(objects, "/categories", "post")["responses"]["422"]) ==
             "IdempotencyKeyReused");
}

BOOST_AUTO_TEST_CASE(objects_headers_parameters_and_security) {
  for (const auto& [path, item] : objects["paths"].items()) {
    for (const auto& [method, o] : item.items()) {
      if (method == "parameters")
        continue;
      BOOST_TEST_CONTEXT(method << ' ' << path) {
        std::set<std::string> params;
        for (const auto& p : o.value("parameters", json::array()))
          params.insert(resolve(objects, p)["name"].get<std::string>());
        auto answer = [&](const char* status) {
          return resolve(objects, o["responses"][status]);
        };
        auto schemes = o["security"].dump();
        bool write = method == "post" || method == "put" || method == "delete";
        bool probe =
            path == "/healthz" || path == "/readyz" || path == "/metrics";
        if (write) {
          BOOST_TEST(params.count("Idempotency-Key") == 1u);
          auto ok = answer(method == "post" ? "201" : "200");
          BOOST_TEST(ok["headers"].contains("X-Seq"));
          BOOST_TEST(ok["headers"].contains("Idempotent-Replayed"));
          BOOST_TEST(ref_name(ok["content"]["application/json"]["schema"]) ==
                     "WriteAck");
        } else if (!probe && path != "/status" && path != "/openapi.json" &&
                   path != "/commits") {
          BOOST_TEST(params.count("X-Min-Seq") == 1u);
          BOOST_TEST(answer("200")["headers"].contains("X-Seq"));
          if (answer("200").contains("404"))
            BOOST_TEST(answer("404")["headers"].contains("X-Seq"));
        }
        if (probe) {
          BOOST_TEST(schemes == "[]", "the probes never need a token");
        } else {
          BOOST_TEST(schemes == R"([{},{"bearerAuth":[]}])");
          BOOST_TEST(answer("401")["headers"].contains("WWW-Authenticate"));
          BOOST_TEST(answer("503")["headers"].contains("Retry-After"));
        }
        if (path.find("{id}") != std::string::npos)
          BOOST_TEST(resolve(objects, item["parameters"][0])["name"] == "id");
      }
    }
  }
  BOOST_TEST(objects["components"]["securitySchemes"]["bearerAuth"]["scheme"] ==
             "bearer");
}

BOOST_AUTO_TEST_CASE(objects_bodies_and_views_are_todays) {
  auto input = schema(objects, "ObjectsInput");
  BOOST_TEST(strings(input["required"]) ==
                 (std::vector<std::string>{"name", "child"}),
             input["required"].dump());
  BOOST_TEST(input["additionalProperties"] == false);
  auto child = input["properties"]["child"];
  BOOST_TEST(child["type"] == "object");
  BOOST_TEST(child["additionalProperties"] == false);
  BOOST_TEST(keys_of(child["properties"]) ==
                 (std::vector<std::string>{"access_code", "related_object_id",
                                           "category_id"}),
             "the child's `by` is not in the body");
  BOOST_TEST(child["properties"]["category_id"]["minimum"] == 1);
  BOOST_TEST(input["properties"]["name"]["maxLength"] == 1000);
  auto view = schema(objects, "ObjectsView");
  BOOST_TEST(keys_of(view["properties"]) ==
             (std::vector<std::string>{"access_code", "category_description",
                                       "content_description", "content_type",
                                       "id", "name"}));
  BOOST_TEST(view["required"].size() == 6u);
  for (const auto& [name, p] : view["properties"].items())
    BOOST_TEST(!p.contains("nullable"), name << " is never null");
  auto page = schema(objects, "ObjectsPage");
  BOOST_TEST(ref_name(page["properties"]["items"]["items"]) == "ObjectsView");
  BOOST_TEST(page["properties"]["next_after"]["nullable"] == true);
  std::vector<std::string> names;
  for (const auto& p : op(objects, "/objects", "get")["parameters"])
    names.push_back(resolve(objects, p)["name"].get<std::string>());
  BOOST_TEST(names == (std::vector<std::string>{"category_id", "limit", "after",
                                                "X-Min-Seq"}));
  auto limit = op(objects, "/objects", "get")["parameters"][1]["schema"];
  BOOST_TEST(limit.dump() ==
             R"({"type":"integer","minimum":1,"maximum":500,"default":50})");
}

BOOST_AUTO_TEST_CASE(info_names_the_domain_and_the_version) {
  BOOST_TEST(objects["openapi"] == "3.0.3");
  BOOST_TEST(objects["info"]["title"].get<std::string>().find("objects") !=
             std::string::npos);
  BOOST_TEST(objects["info"]["version"] == CQRSD_VERSION);
  BOOST_TEST(objects["info"]["x-cqrsd-domain"]["digest"] ==
             builtin_domain()->digest);
  BOOST_TEST(shop["info"]["x-cqrsd-domain"]["name"] == "shop");
  BOOST_TEST(shop["info"]["x-cqrsd-domain"]["digest"] == shop_domain.digest);
}

// -- any domain: bodies, views, lists and answers from the declaration --------

BOOST_AUTO_TEST_CASE(bodies_follow_the_declaration) {
  auto input = schema(shop, "CustomersInput");
  BOOST_TEST(
      keys_of(input["properties"]) ==
      (std::vector<std::string>{"name", "tier", "credit", "visits", "active",
                                "depot_id", "profile", "orders"}));
  BOOST_TEST(strings(input["required"]) ==
             (std::vector<std::string>{"name", "credit", "visits", "active",
                                       "depot_id", "profile", "orders"}));
  BOOST_TEST(input["additionalProperties"] == false);
  const auto& p = input["properties"];
  BOOST_TEST(p["name"]["minLength"] == 2);
  BOOST_TEST(p["name"]["maxLength"] == 80);
  BOOST_TEST(!p["name"].contains("nullable"));
  BOOST_TEST(p["tier"]["nullable"] == true);
  BOOST_TEST(p["tier"]["enum"].dump() == R"(["gold","silver"])");
  BOOST_TEST(p["credit"]["type"] == "number");
  BOOST_TEST(p["credit"]["minimum"].get<double>() == -10.5);
  BOOST_TEST(p["credit"]["maximum"].get<double>() == 1000.0);
  BOOST_TEST(p["visits"]["format"] == "int64");
  BOOST_TEST(p["visits"]["minimum"] == 0);
  BOOST_TEST(!p["visits"].contains("maximum"));
  BOOST_TEST(p["active"]["type"] == "boolean");
  BOOST_TEST(p["depot_id"]["type"] == "integer");
  BOOST_TEST(p["depot_id"]["minimum"] == 1);
  // The single owned child: its own columns but `by`; none required.
  BOOST_TEST(p["profile"]["type"] == "object");
  BOOST_TEST(keys_of(p["profile"]["properties"]) ==
             (std::vector<std::string>{"bio"}));
  BOOST_TEST(!p["profile"].contains("required"));
  BOOST_TEST(p["profile"]["properties"]["bio"]["maxLength"] == 500);
  // Owned arrays, two levels deep.
  const auto& orders = p["orders"];
  BOOST_TEST(orders["type"] == "array");
  BOOST_TEST(orders["maxItems"] == 20);
  BOOST_TEST(orders["items"]["additionalProperties"] == false);
  BOOST_TEST(keys_of(orders["items"]["properties"]) ==
             (std::vector<std::string>{"placed", "lines"}));
  BOOST_TEST(orders["items"]["properties"]["placed"]["maximum"] == 99999);
  const auto& lines = orders["items"]["properties"]["lines"];
  BOOST_TEST(lines["maxItems"] == 7);
  BOOST_TEST(lines["items"]["additionalProperties"] == false);
  BOOST_TEST(strings(lines["items"]["required"]) ==
             (std::vector<std::string>{"sku", "qty"}));
  BOOST_TEST(lines["items"]["properties"]["qty"]["minimum"] == 1);
  BOOST_TEST(lines["items"]["properties"]["qty"]["maximum"] == 100);
}

BOOST_AUTO_TEST_CASE(views_are_nullable_exactly_where_they_must_be) {
  auto view = schema(shop, "CustomersView");
  BOOST_TEST(
      keys_of(view["properties"]) ==
      (std::vector<std::string>{"id", "name", "tier", "credit", "visits",
                                "active", "depot", "region_id", "region",
                                "profile_id", "bio", "badge", "orders"}));
  BOOST_TEST(view["required"].size() == 13u, "every key is always there");
  BOOST_TEST(view["additionalProperties"] == false);
  // Null: an optional column, a left join (an optional reference; a
  // backward join through a `unique` column), an optional column of an
  // inner join. Never null: the root, an inner forward join, the owned
  // single child joined backward.
  std::set<std::string> nullable{"tier", "region_id", "region", "bio", "badge"};
  for (const auto& [name, p] : view["properties"].items())
    BOOST_TEST(p.value("nullable", false) == (nullable.count(name) == 1), name);
  BOOST_TEST(view["properties"]["region_id"]["type"] == "integer");
  BOOST_TEST(view["properties"]["credit"]["type"] == "number");
  BOOST_TEST(view["properties"]["active"]["type"] == "boolean");
  const auto& orders = view["properties"]["orders"];
  BOOST_TEST(orders["type"] == "array");
  BOOST_TEST(!orders.contains("nullable"));
  BOOST_TEST(orders["maxItems"] == 20);
  BOOST_TEST(keys_of(orders["items"]["properties"]) ==
             (std::vector<std::string>{"id", "placed", "lines"}));
  const auto& lines = orders["items"]["properties"]["lines"];
  BOOST_TEST(lines["maxItems"] == 7);
  BOOST_TEST(lines["items"]["properties"]["qty"]["type"] == "integer");
  BOOST_TEST(!lines["items"]["properties"]["qty"].contains("nullable"));
  // Views answer what is stored: no bounds of the columns.
  BOOST_TEST(!view["properties"]["name"].contains("maxLength"));
}

BOOST_AUTO_TEST_CASE(lists_take_their_filters_with_the_column_types) {
  const auto& list = op(shop, "/customers", "get");
  std::vector<std::string> names;
  std::map<std::string, json> schemas;
  for (const auto& p : list["parameters"]) {
    auto param = resolve(shop, p);
    names.push_back(param["name"]);
    schemas[param["name"]] = param["schema"];
    BOOST_TEST(param["required"] == false);
  }
  BOOST_TEST(names == (std::vector<std::string>{
                          "tier", "visits", "credit", "active", "depot_id",
                          "region", "limit", "after", "X-Min-Seq"}));
  // Text is checked against its bounds and values; an integer or a number
  // out of the column's bounds matches nothing, and is no error.
  BOOST_TEST(schemas["tier"]["enum"].dump() == R"(["gold","silver"])");
  BOOST_TEST(schemas["region"]["maxLength"] == 1000);
  BOOST_TEST(schemas["visits"].dump() ==
             R"({"type":"integer","format":"int64"})");
  BOOST_TEST(schemas["credit"]["type"] == "number");
  BOOST_TEST(!schemas["credit"].contains("minimum"));
  BOOST_TEST(schemas["active"]["type"] == "boolean");
  BOOST_TEST(schemas["depot_id"]["minimum"] == 1);
  BOOST_TEST(schemas["limit"]["maximum"] == 40);
  BOOST_TEST(schemas["limit"]["default"] == 10);
  BOOST_TEST(schemas["after"]["minimum"] == 0);
  BOOST_TEST(schema(shop, "CustomersPage")["properties"]["items"]["maxItems"] ==
             40);
  // A view without a list: only /{id}, and only GET.
  BOOST_TEST(!shop["paths"].contains("/depots"));
  BOOST_TEST(keys_of(shop["paths"]["/depots/{id}"]) ==
             (std::vector<std::string>{"parameters", "get"}));
  // A resource without a view: POST, PUT and DELETE only.
  BOOST_TEST(keys_of(shop["paths"]["/notes"]) ==
             (std::vector<std::string>{"post"}));
  BOOST_TEST(keys_of(shop["paths"]["/notes/{id}"]) ==
             (std::vector<std::string>{"parameters", "put", "delete"}));
}

BOOST_AUTO_TEST_CASE(writes_answer_what_the_declaration_allows) {
  auto answer = [&](const std::string& path, const std::string& method,
                    const char* status) {
    const auto& responses = op(shop, path, method)["responses"];
    return responses.contains(status) ? ref_name(responses[status])
                                      : std::string{"-"};
  };
  // customers: nothing unique; a line (replaced by PUT) is referenced by a
  // note, a customer by a badge: both outside the aggregate.
  BOOST_TEST(answer("/customers", "post", "409") == "-");
  BOOST_TEST(answer("/customers/{id}", "put", "409") == "StillReferenced");
  BOOST_TEST(answer("/customers/{id}", "delete", "409") == "StillReferenced");
  BOOST_TEST(answer("/customers", "post", "422") ==
             "MissingReferenceOrKeyReused");
  // regions: a unique name; depots reference regions.
  BOOST_TEST(answer("/regions", "post", "409") == "DuplicateValue");
  BOOST_TEST(answer("/regions/{id}", "put", "409") == "DuplicateValue");
  BOOST_TEST(answer("/regions/{id}", "delete", "409") == "StillReferenced");
  BOOST_TEST(answer("/regions", "post", "422") == "IdempotencyKeyReused");
  // notes: referenced by nothing, unique nothing.
  BOOST_TEST(answer("/notes/{id}", "put", "409") == "-");
  BOOST_TEST(answer("/notes/{id}", "delete", "409") == "-");
  BOOST_TEST(answer("/notes/{id}", "delete", "422") == "IdempotencyKeyReused");
  BOOST_TEST(answer("/notes/{id}", "delete", "413") == "-");
  // Only the components in use: objects has nothing unique.
  BOOST_TEST(!objects["components"]["responses"].contains("DuplicateValue"));
  BOOST_TEST(shop["components"]["responses"].contains("DuplicateValue"));
}

BOOST_AUTO_TEST_CASE(every_reference_resolves_and_names_are_distinct) {
  for (const auto* doc : {&objects, &shop}) {
    std::set<std::string> ids;
    std::vector<json> stack{*doc};
    while (!stack.empty()) {
      auto x = std::move(stack.back());
      stack.pop_back();
      if (x.is_object() && x.contains("$ref"))
        resolve(*doc, x);
      if (x.is_object() && x.contains("operationId"))
        BOOST_TEST(ids.insert(x["operationId"].get<std::string>()).second,
                   "operationId " << x["operationId"] << " is repeated");
      if (x.is_structured())
        for (auto& [key, value] : x.items())
          stack.push_back(value);
    }
    BOOST_TEST(ids.size() > 10u);
  }
  BOOST_TEST(op(objects, "/related-objects", "post")["operationId"] ==
             "createRelatedObjects");
  // `a-1` and `a1` must not both become `A1`.
  domain d;
  d.name = "t";
  d.tables.push_back({"t", {}, {}});
  for (auto segment : {"a-1", "a1", "a-b", "ab"}) {
    resource_decl r;
    r.segment = segment;
    r.table = "t";
    d.resources.push_back(r);
  }
  derive(d);
  auto doc = openapi_document(d);
  std::set<std::string> schemas;
  for (const auto& [name, s] : doc["components"]["schemas"].items())
    schemas.insert(name);
  for (auto name : {"A_1Input", "A1Input", "ABInput", "AbInput"})
    BOOST_TEST(schemas.count(name) == 1u, name);
}

// -- YAML ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(yaml_reads_back_as_the_document) {
  json tricky{{"200", "true"},
              {"strings",
               {"null", "~", "1e3", "0.1.0", "-5", "yes", "Off", ".inf", "#/x",
                "a: b", "", " lead", "trail "}},
              {"numbers", {0, -7, 12345678901234, 0.5, -10.5, 1e300}},
              {"flags", {true, false}},
              {"text", "one line\n\nanother paragraph\n"},
              {"no final break", "a\nb"},
              {"two final breaks", "a\nb\n\n"},
              {"trailing space", "a \nb\n"},
              {"empty", json::object()},
              {"none", json::array()}};
  for (const auto* doc : {&tricky, &objects, &shop}) {
    auto text = openapi_yaml(*doc);
    auto back = from_yaml(YAML::Load(text));
    BOOST_TEST(back == *doc, "YAML:\n" << text);
    // Keys keep their order.
    BOOST_TEST(back.dump() == doc->dump());
    BOOST_TEST(openapi_yaml(*doc) == text);
  }
  auto text = openapi_yaml(objects);
  BOOST_TEST(text.find("'200':") != std::string::npos);
  BOOST_TEST(text.find("required: [name, child]") != std::string::npos);
  BOOST_TEST(text.find("  description: |\n") != std::string::npos);
  BOOST_TEST(!std::regex_search(text, std::regex{" \n"}),
             "no line ends with a space");
}

BOOST_AUTO_TEST_CASE(docs_openapi_yaml_is_the_generated_document) {
  auto generated = openapi_yaml(openapi_document(*builtin_domain()));
  auto shipped = read_source("docs/openapi.yaml");
  BOOST_TEST(shipped == generated,
             "docs/openapi.yaml is not the document that cqrsd generates for "
             "domains/objects.yaml; regenerate it with "
             "`build/cqrsd --openapi docs/openapi.yaml` and commit it");
}

BOOST_AUTO_TEST_SUITE_END()
