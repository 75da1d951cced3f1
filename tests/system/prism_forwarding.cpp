// Unit tests of fixtures/prism_forwarding.hpp: which requests the e2e
// fixture may send through Prism, as Prism 5.14's router, security check,
// body parser and forwarder treat them, on a small document.
#include <boost/test/unit_test.hpp>

#include <string>

#include "fixtures/prism_forwarding.hpp"

using namespace cqrs::test;
using json = nlohmann::json;

namespace {

struct fixture {
  fixture()
      : routes(json::parse(R"({
        "openapi": "3.0.3",
        "paths": {
          "/books": {
            "get": {"security": [{}, {"bearerAuth": []}]},
            "post": {"security": [{}, {"bearerAuth": []}]}
          },
          "/books/{id}": {
            "parameters": [],
            "get": {"security": [{}, {"bearerAuth": []}]},
            "put": {"security": [{}, {"bearerAuth": []}]}
          },
          "/healthz": {"get": {"security": []}}
        }
      })")) {}

  prism_forwarding send(const std::string& method, const std::string& target,
                        const std::string& body = "",
                        const httplib::Headers& headers = {},
                        const std::string& type = "application/json") {
    return routes.forwarding(method, target, body, type, headers);
  }

  prism_routes routes;
};

constexpr auto as_is = prism_forwarding::as_is;
constexpr auto not_documented = prism_forwarding::not_documented;
constexpr auto not_bearer = prism_forwarding::not_bearer;
constexpr auto rewritten = prism_forwarding::rewritten;

} // namespace

BOOST_FIXTURE_TEST_SUITE(prism_forwarding, fixture)

BOOST_AUTO_TEST_CASE(paths_and_methods_outside_the_document) {
  BOOST_TEST((send("GET", "/books/7") == as_is));
  BOOST_TEST((send("GET", "/books/abc") == as_is), "any segment fills {id}");
  BOOST_TEST((send("GET", "/books?limit=5") == as_is));
  BOOST_TEST((send("GET", "/nope") == not_documented));
  BOOST_TEST((send("GET", "/books/7/copies") == not_documented));
  BOOST_TEST((send("GET", "/") == not_documented));
  BOOST_TEST((send("PATCH", "/books/7", "{}") == not_documented));
  BOOST_TEST((send("HEAD", "/healthz") == not_documented));
  BOOST_TEST((send("DELETE", "/books") == not_documented));
}

BOOST_AUTO_TEST_CASE(authorization_that_is_not_bearer) {
  BOOST_TEST(
      (send("POST", "/books", "{}", {{"Authorization", "Bearer t"}}) == as_is));
  for (auto value : {"Basic dDp0", "t", "Bearer ", "bearer t"})
    BOOST_TEST((send("POST", "/books", "{}", {{"Authorization", value}}) ==
                not_bearer),
               value);
  BOOST_TEST(
      (send("GET", "/healthz", "", {{"Authorization", "Basic x"}}) == as_is),
      "no security requirement, no check");
}

BOOST_AUTO_TEST_CASE(json_bodies_that_prism_rewrites) {
  BOOST_TEST((send("POST", "/books", R"({"title":"a","price":9.5})") == as_is));
  BOOST_TEST((send("POST", "/books", R"([{"n":-3}])") == as_is));
  BOOST_TEST((send("POST", "/books", "{}", {},
                   "application/json; charset=utf-8") == as_is));
  for (auto body : {R"({"title": "a"})", R"({"title":"a"} )",
                    R"({"title":"a","title":"b"})", R"({"n":1e3})",
                    R"({"n":1.0})", R"({"n":9007199254740993})", R"({"n":-0})",
                    R"({"t":"\u00e9"})", "{\"t\":\"\xff\"}", "null", "0",
                    "false", "\"text\"", "hello", R"({"title":)"})
    BOOST_TEST((send("POST", "/books", body) == rewritten), body);
  BOOST_TEST((send("GET", "/books/1", "{}") == rewritten),
             "Prism refuses a GET with a body");
}

BOOST_AUTO_TEST_CASE(other_bodies_are_text) {
  BOOST_TEST((send("POST", "/books", "a=b", {}, "text/plain") == as_is));
  BOOST_TEST((send("POST", "/books", "x y", {},
                   "application/x-www-form-urlencoded") == as_is));
  BOOST_TEST((send("POST", "/books", "\xff", {}, "text/plain") == rewritten));
  BOOST_TEST((send("POST", "/books", "x", {}, "text/plain; charset=latin1") ==
              rewritten));
}

BOOST_AUTO_TEST_CASE(targets_that_prism_reencodes) {
  for (auto target : {"/books?format=ebook&limit=5", "/books?city=",
                      "/books?a=1&a=2&b=3", "/books?t=a+b", "/books?t=%C3%A9"})
    BOOST_TEST((send("GET", target) == as_is), target);
  for (auto target : {"/books?a=1&b=2&a=3", "/books?limit", "/books?a=1&&b=2",
                      "/books?", "/books?t=%e9", "/books?t=%zz", "/books?t=%41",
                      "/books?t=a%20b", "/books?t=a:b", "/books?5=a",
                      "/books//7", "/books/./7", "/books/%2e", "/books/7 8"})
    BOOST_TEST((send("GET", target) == rewritten), target);
  BOOST_TEST((send("GET", "/books", "",
                   {{"X-Min-Seq", "1"}, {"x-min-seq", "2"}}) == rewritten),
             "node joins repeated headers");
}

BOOST_AUTO_TEST_SUITE_END()
