// The web folder behind /docs and /console: which files it serves, and how.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <httplib.h>
#include <zlib.h>

#include "http/assets.hpp"
#include "http/routes.hpp"
#include "model/domain.hpp"

using namespace cqrs;
using namespace cqrs::http;
namespace fs = std::filesystem;

namespace {

struct fixture {
  fixture() {
    fs::remove_all(dir);
    put("docs/index.html", "<!doctype html><title>docs</title>");
    // Large and repetitive: worth gzipping.
    put("docs/app.js", std::string(20000, 'x') + "console.log(1);\n");
    put("console/index.html", "<!doctype html><title>console</title>");
    put("console/parts/look.css", "body { color: black; }\n");
    put("console/.secret", "not served");
    put("console/bad name.js", "not served");
    put("secret.txt", "outside every page");
    fs::create_symlink(fs::path{dir} / "secret.txt",
                       fs::path{dir} / "console" / "linked.txt");
    // A dangling link skips itself, not the rest of the folder.
    fs::create_symlink(fs::path{dir} / "nowhere.txt",
                       fs::path{dir} / "console" / "dangling.txt");
  }

  ~fixture() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  void put(const std::string& relative, const std::string& text) {
    auto path = fs::path{dir} / relative;
    fs::create_directories(path.parent_path());
    std::ofstream{path, std::ios::binary} << text;
  }

  /// Answers `path` through `answer_asset`, with the body it would send.
  struct answered {
    httplib::Response res;
    std::string body;
  };

  answered get(const asset_folder& folder, const std::string& path,
               httplib::Headers headers = {}) {
    httplib::Request req;
    req.method = "GET";
    req.path = path;
    req.headers = std::move(headers);
    answered a;
    answer_asset(folder, req, a.res);
    a.body = a.res.body;
    if (a.res.content_provider_) {
      httplib::DataSink sink;
      sink.write = [&](const char* data, size_t size) {
        a.body.append(data, size);
        return true;
      };
      BOOST_TEST_REQUIRE(
          a.res.content_provider_(0, a.res.content_length_, sink));
    }
    return a;
  }

  std::string dir =
      (fs::temp_directory_path() / ("cqrsd-web-" + std::to_string(::getpid())))
          .string();
};

std::string gunzip(const std::string& data) {
  z_stream z{};
  BOOST_TEST_REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  auto rc = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  BOOST_TEST_REQUIRE(rc == Z_STREAM_END);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(web_assets)

BOOST_FIXTURE_TEST_CASE(only_the_files_of_the_pages_are_served, fixture) {
  auto folder = asset_folder::load(dir);
  BOOST_TEST(folder.problem() == "");
  BOOST_TEST(folder.files() == 4u);
  for (auto path : {"/docs", "/docs/", "/docs/index.html"}) {
    const auto* page = folder.find(path);
    BOOST_TEST_REQUIRE(page != nullptr, path);
    BOOST_TEST(page->body == "<!doctype html><title>docs</title>");
    BOOST_TEST(page->content_type == "text/html; charset=utf-8");
    BOOST_TEST(page->html);
  }
  BOOST_TEST_REQUIRE(folder.find("/console/parts/look.css") != nullptr);
  BOOST_TEST(folder.find("/console/parts/look.css")->content_type ==
             "text/css; charset=utf-8");
  BOOST_TEST(folder.find("/docs/app.js")->content_type ==
             "text/javascript; charset=utf-8");
  BOOST_TEST_MESSAGE("nothing outside a page, hidden, oddly named or linked");
  for (auto path :
       {"/secret.txt", "/docs/../secret.txt", "/console/../secret.txt",
        "/console/.secret", "/console/bad name.js", "/console/linked.txt",
        "/console/dangling.txt", "/console/parts", "/docs//index.html",
        "/docs/index.html/", "/console/index.htm", "/docs/app.js?v=1"})
    BOOST_TEST(folder.find(path) == nullptr, path);
}

BOOST_FIXTURE_TEST_CASE(a_missing_page_or_folder_is_said, fixture) {
  fs::remove(fs::path{dir} / "console" / "index.html");
  auto folder = asset_folder::load(dir);
  BOOST_TEST(folder.problem() == "'" + dir + "' has no console/index.html");
  BOOST_TEST(folder.find("/docs") != nullptr);
  BOOST_TEST(folder.find("/console/parts/look.css") == nullptr);
  BOOST_TEST_MESSAGE("the answer says the page is missing, not where");
  for (auto path : {"/console", "/console/parts/look.css"}) {
    auto a = get(folder, path);
    BOOST_TEST(a.res.status == 404);
    BOOST_TEST(a.body.find("'/console' is not installed on this node") !=
                   std::string::npos,
               a.body);
    BOOST_TEST(a.body.find(dir) == std::string::npos, a.body);
  }
  auto other = get(folder, "/docs/nothing.js");
  BOOST_TEST(other.res.status == 404);
  BOOST_TEST(other.body.find("no file '/docs/nothing.js'") != std::string::npos,
             other.body);

  auto none = asset_folder::load(dir + "/nowhere");
  BOOST_TEST(none.files() == 0u);
  BOOST_TEST(none.problem().find("docs/index.html, console/index.html") !=
                 std::string::npos,
             none.problem());
  BOOST_TEST(asset_folder::load("").problem().find("http.assets_dir") !=
             std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(answers_carry_type_validator_and_policy, fixture) {
  auto folder = asset_folder::load(dir);
  auto page = get(folder, "/console/");
  BOOST_TEST(page.res.status == 200);
  BOOST_TEST(page.body == "<!doctype html><title>console</title>");
  BOOST_TEST(page.res.get_header_value("Content-Type") ==
             "text/html; charset=utf-8");
  BOOST_TEST(page.res.get_header_value("Cache-Control") == "no-cache");
  BOOST_TEST(page.res.get_header_value("X-Content-Type-Options") == "nosniff");
  auto policy = page.res.get_header_value("Content-Security-Policy");
  BOOST_TEST(policy.find("script-src 'self';") != std::string::npos, policy);
  BOOST_TEST(policy.find("unsafe") == std::string::npos, policy);
  BOOST_TEST(policy.find("frame-ancestors 'none'") != std::string::npos);
  BOOST_TEST_MESSAGE("Swagger UI sets inline styles; nothing else loosens");
  auto docs =
      get(folder, "/docs").res.get_header_value("Content-Security-Policy");
  BOOST_TEST(docs.find("style-src 'self' 'unsafe-inline';") !=
             std::string::npos);
  BOOST_TEST(docs.find("script-src 'self';") != std::string::npos);
  BOOST_TEST(
      !get(folder, "/docs/app.js").res.has_header("Content-Security-Policy"));

  BOOST_TEST_MESSAGE("If-None-Match with the ETag: 304 without a body");
  auto etag = page.res.get_header_value("ETag");
  BOOST_TEST(etag.size() == 34u, etag);
  for (auto header :
       {etag, "W/" + etag, "\"other\", " + etag, std::string{"*"}}) {
    auto again = get(folder, "/console", {{"If-None-Match", header}});
    BOOST_TEST(again.res.status == 304, header);
    BOOST_TEST(again.body.empty());
    BOOST_TEST(again.res.get_header_value("ETag") == etag);
  }
  BOOST_TEST(
      get(folder, "/console", {{"If-None-Match", "\"other\""}}).res.status ==
      200);
  BOOST_TEST(get(folder, "/docs").res.get_header_value("ETag") != etag);
}

BOOST_FIXTURE_TEST_CASE(gzip_is_sent_to_clients_that_accept_it, fixture) {
  auto folder = asset_folder::load(dir);
  const auto& script = folder.find("/docs/app.js")->body;
  auto plain = get(folder, "/docs/app.js");
  BOOST_TEST(plain.body == script);
  BOOST_TEST(!plain.res.has_header("Content-Encoding"));
  BOOST_TEST(plain.res.get_header_value("Vary") == "Accept-Encoding");
  for (auto accepted : {"gzip", "gzip, deflate, br, zstd", "br;q=1, gzip;q=0.5",
                        "*", "x-gzip"}) {
    auto zipped = get(folder, "/docs/app.js", {{"Accept-Encoding", accepted}});
    BOOST_TEST(zipped.res.get_header_value("Content-Encoding") == "gzip",
               accepted);
    BOOST_TEST(zipped.body.size() < script.size() / 10);
    BOOST_TEST(gunzip(zipped.body) == script);
  }
  for (auto refused : {"br", "gzip;q=0", "gzip; q=0.000, br", "identity"}) {
    auto a = get(folder, "/docs/app.js", {{"Accept-Encoding", refused}});
    BOOST_TEST(!a.res.has_header("Content-Encoding"), refused);
    BOOST_TEST(a.body == script);
  }
  BOOST_TEST_MESSAGE("a file that gzip does not shrink is sent as it is");
  auto small = get(folder, "/docs/index.html", {{"Accept-Encoding", "gzip"}});
  BOOST_TEST(!small.res.has_header("Content-Encoding"));
  BOOST_TEST(small.body == "<!doctype html><title>docs</title>");
}

BOOST_AUTO_TEST_CASE(the_pages_and_everything_below_them_are_routes) {
  domain d;
  route_table routes{d};
  for (auto path : {"/docs", "/docs/", "/docs/swagger-ui.css", "/console",
                    "/console/a/b.js", "/docs/../status"})
    BOOST_TEST((routes.match(path).kind == route_kind::asset), path);
  for (auto path : {"/docsx", "/console.js", "/doc", "/status/docs"})
    BOOST_TEST((routes.match(path).kind != route_kind::asset), path);
  BOOST_TEST(routes.pattern(routes.match("/docs/x.js").index) == "/docs");
  BOOST_TEST(routes.allowed_methods(routes.match("/console").index) ==
             "GET, HEAD");
}

BOOST_AUTO_TEST_SUITE_END()
