// End-to-end tests of the OpenAPI document: a running cqrsd serving each
// shipped domain, behind Prism's validation proxy, answers every route as
// its /openapi.json says; and a document that contradicts it is caught.
// Skipped when Prism is not installed (scripts/lib/npm_tools.sh).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "config/domain_file.hpp"
#include "fixtures/cqrsd_process.hpp"
#include "fixtures/prism.hpp"
#include "model/openapi.hpp"

using namespace cqrs;
using namespace cqrs::test;
using json = nlohmann::json;

namespace {

boost::test_tools::assertion_result
prism_installed(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result installed =
      !prism_proxy::command().empty();
  installed.message() << "prism is not installed: set CQRSD_PRISM "
                         "(scripts/lib/npm_tools.sh installs it)";
  return installed;
}

/// A cqrsd serving one domain, and its /openapi.json in a file.
struct served_domain {
  explicit served_domain(const std::string& domain_file = "") {
    cqrsd_process::options opts;
    if (!domain_file.empty())
      opts.settings["domain"] =
          quote_yaml(std::string{CQRSD_SOURCE_DIR} + "/domains/" + domain_file);
    opts.name = "prism";
    server = std::make_unique<cqrsd_process>(opts);
    auto answer = server->get("/openapi.json");
    BOOST_REQUIRE_MESSAGE(answer.status == 200, answer.describe());
    BOOST_TEST(answer.header("Content-Type") == "application/json");
    document = answer.body;
    file = server->dir() + "/openapi.json";
    std::ofstream out{file, std::ios::binary | std::ios::trunc};
    out << document;
    out.close();
    BOOST_REQUIRE_MESSAGE(out.good(), "cannot write " << file);
  }

  std::unique_ptr<cqrsd_process> server;
  std::string document;
  std::string file;
};

/// Sends requests through a proxy and checks each answer's status, and
/// that Prism found nothing against the document.
struct checker {
  explicit checker(const prism_proxy& proxy)
      : client("127.0.0.1", proxy.port()) {
    client.set_read_timeout(30, 0);
  }

  http_answer operator()(const std::string& method, const std::string& path,
                         const json& body, int status) {
    auto answer =
        send_request(client, method, path, body.is_null() ? "" : body.dump());
    BOOST_TEST(answer.status == status,
               method << ' ' << path << ": " << answer.describe());
    BOOST_TEST(!answer.has_header("sl-violations"),
               method << ' ' << path << ": " << answer.header("sl-violations"));
    return answer;
  }

  httplib::Client client;
};

/// Waits (at most 2 s) until Prism has logged `n` violations: it logs
/// shortly after it answers.
std::vector<std::string> violations(const prism_proxy& proxy, size_t n) {
  for (int i = 0; i < 100 && proxy.violations().size() < n; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  return proxy.violations();
}

} // namespace

BOOST_AUTO_TEST_SUITE(openapi_prism,
                      *boost::unit_test::precondition(prism_installed))

BOOST_AUTO_TEST_CASE(objects_answers_are_true_to_the_document) {
  served_domain objects;
  BOOST_TEST(objects.document == openapi_document(*builtin_domain()).dump(),
             "/openapi.json is the generated document");
  // Bad requests go through too: cqrsd's own 400s are checked.
  prism_proxy prism{objects.file, objects.server->port(), false};
  checker check{prism};
  BOOST_TEST_MESSAGE("every route, with answers of each kind it lists");
  check("POST", "/categories", {{"description", "Books"}}, 201);
  check("POST", "/related-objects",
        {{"content_description", "Cover"}, {"content_type", "image/png"}}, 201);
  json object{{"name", "Dune"},
              {"child",
               {{"access_code", "A-17"},
                {"related_object_id", 1},
                {"category_id", 1}}}};
  check("POST", "/objects", object, 201);
  object["child"]["category_id"] = 99;
  check("POST", "/objects", object, 422);
  object["child"]["category_id"] = 1;
  check("POST", "/categories", {{"description", ""}}, 400);
  check("PUT", "/objects/1", object, 200);
  check("PUT", "/objects/7", object, 404);
  check("GET", "/objects/1", nullptr, 200);
  check("GET", "/objects/7", nullptr, 404);
  check("GET", "/objects/x", nullptr, 400);
  check("GET", "/objects?category_id=1&limit=1", nullptr, 200);
  check("GET", "/objects?limit=0", nullptr, 400);
  check("GET", "/categories/1", nullptr, 200);
  check("GET", "/related-objects/1", nullptr, 200);
  check("DELETE", "/categories/1", nullptr, 409);
  check("DELETE", "/objects/1", nullptr, 200);
  check("DELETE", "/objects/1", nullptr, 404);
  for (auto path :
       {"/healthz", "/readyz", "/metrics", "/status", "/openapi.json"})
    check("GET", path, nullptr, 200);
  BOOST_TEST(violations(prism, 1).empty(), prism.log());
}

BOOST_AUTO_TEST_CASE(library_answers_are_true_to_the_document) {
  served_domain library{"library.yaml"};
  prism_proxy prism{library.file, library.server->port(), false};
  checker check{prism};
  BOOST_TEST_MESSAGE("writes: optional nulls, owned rows two levels deep");
  check("POST", "/countries", {{"code", "FR"}, {"name", "France"}}, 201);
  check("POST", "/countries", {{"code", "FR"}, {"name", "Francia"}}, 409);
  check("POST", "/authors",
        {{"name", "Verne"}, {"born", nullptr}, {"country_id", 1}}, 201);
  check("POST", "/branches", {{"name", "Main"}, {"city", "Paris"}}, 201);
  check("POST", "/members",
        {{"name", "Ann"},
         {"email", "ann@example.org"},
         {"home_branch_id", nullptr},
         {"card", {{"number", "12345678"}}}},
        201);
  json book{{"title", "Twenty Thousand Leagues"},
            {"isbn", "978-0"},
            {"format", "paperback"},
            {"price", 9.5},
            {"in_print", true},
            {"author_id", 1},
            {"copies",
             {{{"barcode", "B-1"},
               {"branch_id", 1},
               {"loans",
                {{{"member_id", 1},
                  {"due_on", "2026-01-31"},
                  {"returned", false}}}}}}}};
  check("POST", "/books", book, 201);
  check("POST", "/books", book, 409);
  book["isbn"] = "978-1";
  book["author_id"] = 99;
  check("POST", "/books", book, 422);
  book["format"] = "scroll";
  check("POST", "/books", book, 400);
  BOOST_TEST_MESSAGE("reads: views with nulls and collections, lists");
  check("GET", "/countries/1", nullptr, 200);
  check("GET", "/authors/1", nullptr, 200);
  check("GET", "/authors?country_id=1", nullptr, 200);
  check("GET", "/branches/1", nullptr, 200);
  check("GET", "/branches?city=Paris", nullptr, 200);
  check("GET", "/books/1", nullptr, 200);
  check("GET", "/books?format=paperback&in_print=true&limit=5", nullptr, 200);
  check("GET", "/books?format=scroll", nullptr, 400);
  check("GET", "/members/1", nullptr, 200);
  check("GET", "/members?home_branch_id=1", nullptr, 200);
  check("GET", "/copies/1", nullptr, 200);
  check("GET", "/copies?book_id=1&branch_id=1", nullptr, 200);
  check("GET", "/loans/1", nullptr, 200);
  check("GET", "/loans?member_id=1&returned=false", nullptr, 200);
  BOOST_TEST_MESSAGE("rows referenced from outside their aggregate");
  check("DELETE", "/members/1", nullptr, 409);
  check("DELETE", "/countries/1", nullptr, 409);
  book["isbn"] = "978-0";
  book["author_id"] = 1;
  book["format"] = "ebook";
  book["copies"] = json::array();
  check("PUT", "/books/1", book, 200);
  check("DELETE", "/members/1", nullptr, 200);
  check("GET", "/members/1", nullptr, 404);
  BOOST_TEST(violations(prism, 1).empty(), prism.log());
}

BOOST_AUTO_TEST_CASE(a_document_that_contradicts_the_server_is_caught) {
  served_domain objects;
  auto created =
      objects.server->post("/categories", {{"description", "Books"}});
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  // A view's text field declared an integer.
  auto lie = json::parse(objects.document);
  lie["components"]["schemas"]["CategoriesView"]["properties"]["description"]
     ["type"] = "integer";
  auto file = objects.server->dir() + "/lie.json";
  std::ofstream{file} << lie.dump();
  prism_proxy liar{file, objects.server->port()};
  httplib::Client client{"127.0.0.1", liar.port()};
  client.set_read_timeout(30, 0);
  auto caught = send_request(client, "GET", "/categories/1");
  BOOST_TEST(caught.status == 500, caught.describe());
  BOOST_TEST(caught.body.find("description") != std::string::npos, caught.body);
  // Checking requests too, Prism answers a body that the document does
  // not allow itself.
  caught = send_request(client, "POST", "/categories", R"({"description":""})");
  BOOST_TEST(caught.status == 422, caught.describe());
  BOOST_TEST(violations(liar, 2).size() >= 2u, liar.log());
}

BOOST_AUTO_TEST_SUITE_END()
