// Differential freshness test over generated domains: random valid domains,
// each served by a real cqrsd process, random writes and concurrent reads
// over HTTP, every read checked against an in-memory oracle that shares no
// code with the product. First the generator and the oracle are checked on
// their own. Runs on the backend named by CQRSD_TEST_BACKEND.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <set>
#include <string>

#include <yaml-cpp/yaml.h>

#include "fixtures/domain_generator.hpp"
#include "fixtures/domain_oracle.hpp"
#include "fixtures/domain_run.hpp"
#include "fixtures/domain_views.hpp"
#include "fixtures/temp_db.hpp"

using namespace cqrs::test;

namespace {

// -- parameters ---------------------------------------------------------------

/// The default seed; CQRSD_DOMAIN_FRESHNESS_SEED overrides it. Domain k of
/// a run uses seed + k.
constexpr uint64_t default_seed = 20261206;

/// Domains per run; CQRSD_DOMAIN_FRESHNESS_DOMAINS overrides it.
constexpr int default_domains = 6;

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::strtoull(text, nullptr, 10)
                                          : fallback;
}

// -- hand-made domains --------------------------------------------------------

spec::column text_column(const std::string& name) {
  spec::column c;
  c.name = name;
  return c;
}

spec::column reference(const std::string& name, const std::string& table,
                       bool optional = false, bool unique = false) {
  spec::column c;
  c.name = name;
  c.type = spec::kind::reference;
  c.references = table;
  c.optional = optional;
  c.unique = unique;
  return c;
}

/// The built-in domain, as domains/objects.yaml declares it.
spec::domain builtin_spec() {
  spec::domain d;
  d.name = "objects";
  d.tables = {
      {"category", {text_column("description")}},
      {"related_object",
       {text_column("content_description"), text_column("content_type")}},
      {"top_level_object", {text_column("name")}},
      {"child_object",
       {text_column("access_code"),
        reference("top_level_object_id", "top_level_object", false, true),
        reference("related_object_id", "related_object"),
        reference("category_id", "category")}}};
  d.resources = {
      {"categories", "category", {}},
      {"related-objects", "related_object", {}},
      {"objects",
       "top_level_object",
       {{"child", "child_object", "top_level_object_id", false, 0, {}}}}};
  spec::view categories{
      "categories",
      {"category",
       {},
       {{"description", "category", "description"}, {"id", "category", "id"}},
       {}},
      std::nullopt};
  spec::view related{
      "related-objects",
      {"related_object",
       {},
       {{"content_description", "related_object", "content_description"},
        {"content_type", "related_object", "content_type"},
        {"id", "related_object", "id"}},
       {}},
      std::nullopt};
  spec::view objects{
      "objects",
      {"top_level_object",
       {{"child_object", "top_level_object_id"},
        {"child_object", "related_object_id"},
        {"child_object", "category_id"}},
       {{"access_code", "child_object", "access_code"},
        {"category_description", "category", "description"},
        {"content_description", "related_object", "content_description"},
        {"content_type", "related_object", "content_type"},
        {"id", "top_level_object", "id"},
        {"name", "top_level_object", "name"}},
       {}},
      spec::list{{{"category_id", "child_object", "category_id"}}, 50, 500}};
  d.views = {categories, related, objects};
  return d;
}

/// A small library: regions, depots that move between them, authors, books
/// with a single cover and copies that hold loans.
spec::domain library_spec() {
  spec::domain d;
  d.name = "library";
  spec::column isbn = text_column("isbn");
  isbn.unique = true;
  spec::column barcode = text_column("barcode");
  barcode.unique = true;
  spec::column born;
  born.name = "born";
  born.type = spec::kind::integer;
  born.optional = true;
  d.tables = {
      {"region", {text_column("name")}},
      {"depot", {text_column("name"), reference("region_id", "region")}},
      {"author", {text_column("name"), born}},
      {"book",
       {text_column("title"), isbn, reference("author_id", "author"),
        reference("depot_id", "depot", true)}},
      {"cover", {text_column("colour"), reference("book_id", "book")}},
      {"copy", {barcode, reference("book_id", "book")}},
      {"loan", {text_column("who"), reference("copy_id", "copy")}}};
  spec::owned loans{"loans", "loan", "copy_id", true, 0, {}};
  d.resources = {{"regions", "region", {}},
                 {"depots", "depot", {}},
                 {"authors", "author", {}},
                 {"books",
                  "book",
                  {{"cover", "cover", "book_id", false, 0, {}},
                   {"copies", "copy", "book_id", true, 5, {loans}}}}};
  spec::collection loan_list{
      "loans", "copy_id", {"loan", {}, {{"who", "loan", "who"}}, {}}, "", 0};
  spec::collection copies{
      "copies",
      "book_id",
      {"copy", {}, {{"barcode", "copy", "barcode"}}, {loan_list}},
      "barcode",
      2};
  spec::view books{"books",
                   {"book",
                    {{"book", "author_id"},
                     {"book", "depot_id"},
                     {"depot", "region_id"},
                     {"cover", "book_id"}},
                    {{"id", "book", "id"},
                     {"title", "book", "title"},
                     {"author", "author", "name"},
                     {"region", "region", "name"},
                     {"colour", "cover", "colour"}},
                    {copies}},
                   spec::list{{{"author_id", "book", "author_id"},
                               {"region_id", "depot", "region_id"}},
                              2,
                              10}};
  spec::collection written{"books",
                           "author_id",
                           {"book", {}, {{"title", "book", "title"}}, {}},
                           "title",
                           3};
  spec::view authors{"authors",
                     {"author",
                      {},
                      {{"id", "author", "id"},
                       {"name", "author", "name"},
                       {"born", "author", "born"}},
                      {written}},
                     std::nullopt};
  d.views = {books, authors};
  return d;
}

/// Where the YAML text of `d` disagrees with `d`, or "".
std::string yaml_disagreement(const spec::domain& d, const std::string& text) {
  auto y = YAML::Load(text);
  std::set<std::string> top;
  for (const auto& kv : y)
    top.insert(kv.first.as<std::string>());
  if (top != std::set<std::string>{"name", "tables", "resources", "views"})
    return "top-level keys";
  if (y["name"].as<std::string>() != d.name ||
      y["tables"].size() != d.tables.size() ||
      y["resources"].size() != d.resources.size() ||
      y["views"].size() != d.views.size())
    return "counts of tables, resources or views";
  for (const auto& t : d.tables) {
    auto columns = y["tables"][t.name]["columns"];
    size_t i = 0;
    for (const auto& kv : columns) {
      const auto& c = t.columns.at(i++);
      auto decl = kv.second;
      bool ok = kv.first.as<std::string>() == c.name;
      if (c.type == spec::kind::reference)
        ok = ok && decl["references"].as<std::string>() == c.references;
      else if (decl.IsScalar())
        ok = ok && !c.optional && !c.unique;
      else
        ok = ok && decl["optional"].as<bool>(false) == c.optional &&
             decl["unique"].as<bool>(false) == c.unique &&
             decl["one_of"].size() == c.one_of.size();
      if (!ok)
        return "tables." + t.name + ".columns." + c.name;
    }
    if (i != t.columns.size())
      return "tables." + t.name + ": column count";
  }
  for (const auto& v : d.views) {
    auto node = y["views"][v.name];
    if (node["from"].as<std::string>() != v.body.from ||
        node["fields"].size() != v.body.fields.size() ||
        bool(node["list"]) != v.listing.has_value())
      return "views." + v.name;
    size_t i = 0;
    for (const auto& kv : node["fields"])
      if (kv.first.as<std::string>() != v.body.fields.at(i++).name)
        return "views." + v.name + ": field order";
  }
  return "";
}

} // namespace

BOOST_AUTO_TEST_SUITE(domain_freshness)

// -- the generator ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(generated_domains_keep_the_rules_of_domain_md) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    auto d = generate_domain(seed);
    auto text = to_yaml(d);
    auto broken = spec::violations(d);
    BOOST_TEST(broken.empty(), "seed " << seed << ": " << broken.front() << "\n"
                                       << text);
    auto unobservable = spec::oracle_limits(d);
    BOOST_TEST(unobservable.empty(), "seed " << seed << ": "
                                             << unobservable.front() << "\n"
                                             << text);
    BOOST_TEST(yaml_disagreement(d, text) == "", "seed " << seed << "\n"
                                                         << text);
    BOOST_TEST(to_yaml(generate_domain(seed)) == text, "seed " << seed);
    BOOST_TEST(d.tables.size() >= 2u);
    BOOST_TEST(d.tables.size() <= 7u);
  }
  BOOST_TEST(to_yaml(generate_domain(1)) != to_yaml(generate_domain(2)));
}

BOOST_AUTO_TEST_CASE(the_rule_checks_catch_broken_domains) {
  BOOST_TEST(spec::violations(builtin_spec()).empty());
  BOOST_TEST(spec::violations(library_spec()).empty());
  BOOST_TEST(spec::oracle_limits(library_spec()).empty());
  auto broken = [](auto change) {
    auto d = library_spec();
    change(d);
    return !spec::violations(d).empty();
  };
  // A cycle of required references: region -> depot -> region.
  BOOST_TEST(broken([](spec::domain& d) {
    d.tables[0].columns.push_back(reference("depot_id", "depot"));
  }));
  // A backward join through a column that is neither unique nor a by.
  BOOST_TEST(broken([](spec::domain& d) {
    d.views[1].body.joins.push_back({"book", "author_id"});
  }));
  BOOST_TEST(
      broken([](spec::domain& d) { d.resources[0].segment = "status"; }));
  BOOST_TEST(broken([](spec::domain& d) { d.views[1].name = "books-x_"; }));
  BOOST_TEST(broken([](spec::domain& d) { d.views[1].name = "regions"; }));
  BOOST_TEST(broken([](spec::domain& d) { d.tables[1].name = "commit_log"; }));
  BOOST_TEST(
      broken([](spec::domain& d) { d.tables[1].columns[0].name = "oid"; }));
  BOOST_TEST(broken([](spec::domain& d) {
    d.views[0].body.collections[0].order_by = "nothing";
  }));
  BOOST_TEST(broken([](spec::domain& d) {
    d.views[0].listing->filters.push_back({"limit", "book", "title"});
  }));
  BOOST_TEST(
      broken([](spec::domain& d) { d.resources[3].owns[1].by = "copy_id"; }));
  // An owned row's id in a field breaks only what the oracle can observe.
  auto d = library_spec();
  d.views[0].body.collections[0].body.fields.push_back({"id", "copy", "id"});
  BOOST_TEST(spec::violations(d).empty());
  BOOST_TEST(!spec::oracle_limits(d).empty());
}

BOOST_AUTO_TEST_CASE(generated_domains_use_every_feature) {
  std::map<std::string, int> seen;
  for (uint64_t seed = 1; seed <= 100; ++seed)
    for (const auto& [feature, n] : features_of(generate_domain(seed)))
      seen[feature] += n > 0;
  for (const auto& feature : all_features())
    BOOST_TEST(seen[feature] >= 3,
               feature << " in only " << seen[feature] << " of 100 domains");
  std::map<std::string, int> run;
  for (int k = 0; k < default_domains; ++k)
    for (const auto& [feature, n] :
         features_of(generate_domain(default_seed + uint64_t(k))))
      run[feature] += n;
  std::string missing;
  for (const auto& feature : all_features())
    if (run[feature] == 0)
      missing += " [" + feature + "]";
  BOOST_TEST_MESSAGE("features the default run's domains lack:"
                     << (missing.empty() ? " none" : missing));
}

// -- the oracle ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(
    the_oracle_evaluates_a_hand_made_domain_as_domain_md_says) {
  auto d = library_spec();
  domain_oracle oracle{d};
  view_evaluator views{d};
  domain_history history{d};
  int64_t seq = 0;
  auto resource = [&](const std::string& segment) -> const spec::resource& {
    for (const auto& r : d.resources)
      if (r.segment == segment)
        return r;
    throw std::logic_error(segment);
  };
  auto write = [&](domain_write::method_t m, const std::string& segment,
                   int64_t id, const char* body) {
    return domain_write{m, &resource(segment), id,
                        body ? ojson::parse(body) : ojson{}};
  };
  auto ok = [&](domain_write w, int64_t id) {
    auto outcome = oracle.judge(w);
    BOOST_TEST_REQUIRE(outcome.ok(), w.describe() << ": " << outcome.reason);
    oracle.apply(w, id);
    history.record(++seq, oracle.state());
  };
  auto refused = [&](domain_write w) {
    auto outcome = oracle.judge(w);
    return std::to_string(outcome.status) + " " + outcome.code;
  };
  auto item = [&](const std::string& view, int64_t id) {
    for (const auto& v : d.views)
      if (v.name == view)
        return views.item(v, oracle.state(), id).dump();
    throw std::logic_error(view);
  };
  auto page = [&](const db_state& s, page_request q) {
    return views.page(d.views[0], s, q).dump();
  };
  using w = domain_write;
  ok(write(w::post, "regions", 0, R"({"name": "north"})"), 1);
  ok(write(w::post, "regions", 0, R"({"name": "south"})"), 2);
  ok(write(w::post, "depots", 0, R"({"name": "d1", "region_id": 1})"), 1);
  ok(write(w::post, "authors", 0, R"({"name": "Ann"})"), 1);
  ok(write(w::post, "authors", 0, R"({"name": "Bob", "born": 1950})"), 2);
  ok(write(w::post, "books", 0, R"({"title": "T", "isbn": "i1",
      "author_id": 1, "depot_id": 1, "cover": {"colour": "red"},
      "copies": [{"barcode": "z", "loans": [{"who": "x"}]},
                 {"barcode": "a", "loans": []},
                 {"barcode": "m", "loans": [{"who": "y"}, {"who": "w"}]}]})"),
     10);
  ok(write(w::post, "books", 0, R"({"title": "S", "isbn": "i2",
      "author_id": 1, "depot_id": null, "cover": {"colour": "blue"},
      "copies": []})"),
     11);

  BOOST_TEST_MESSAGE("joins, a left join through an optional reference, "
                     "collections in order with their limit, nested");
  BOOST_TEST(item("books", 10) ==
             R"({"id":10,"title":"T","author":"Ann","region":"north",)"
             R"("colour":"red","copies":[{"barcode":"a","loans":[]},)"
             R"({"barcode":"m","loans":[{"who":"y"},{"who":"w"}]}]})");
  BOOST_TEST(item("books", 11) ==
             R"({"id":11,"title":"S","author":"Ann","region":null,)"
             R"("colour":"blue","copies":[]})");
  BOOST_TEST(item("books", 12) == "null");
  BOOST_TEST(item("authors", 1) == R"({"id":1,"name":"Ann","born":null,)"
                                   R"("books":[{"title":"S"},{"title":"T"}]})");

  BOOST_TEST_MESSAGE("lists: filters through a chain, limits and paging");
  auto book10 = views.item(d.views[0], oracle.state(), 10).dump();
  auto book11 = views.item(d.views[0], oracle.state(), 11).dump();
  BOOST_TEST(page(oracle.state(), {{{"region_id", 1}}, 0, 0}) ==
             R"({"items":[)" + book10 + R"(],"next_after":null})");
  BOOST_TEST(page(oracle.state(), {{{"author_id", 1}}, 0, 1}) ==
             R"({"items":[)" + book10 + R"(],"next_after":10})");
  BOOST_TEST(page(oracle.state(), {}) == R"({"items":[)" + book10 + "," +
                                             book11 +
                                             R"(],"next_after":null})");
  BOOST_TEST(page(oracle.state(), {{}, 10, 0}) ==
             R"({"items":[)" + book11 + R"(],"next_after":null})");

  BOOST_TEST_MESSAGE("a depot moves to another region, and its books with it");
  ok(write(w::put, "depots", 1, R"({"name": "d1", "region_id": 2})"), 1);
  BOOST_TEST(page(oracle.state(), {{{"region_id", 1}}, 0, 0}) ==
             R"({"items":[],"next_after":null})");
  BOOST_TEST(item("books", 10).find(R"("region":"south")") !=
             std::string::npos);
  auto before = history.at(seq - 1, std::chrono::seconds{0});
  auto after = history.at(seq, std::chrono::seconds{0});
  BOOST_TEST_REQUIRE((before && after));
  BOOST_TEST(page(*before, {{{"region_id", 1}}, 0, 0}) ==
             R"({"items":[)" + book10 + R"(],"next_after":null})");
  BOOST_TEST(page(*after, {{{"region_id", 2}}, 0, 0}).find(R"("id":10)") !=
             std::string::npos);
  BOOST_TEST(!history.at(seq + 1, std::chrono::milliseconds{1}));
  BOOST_TEST(history.at(0, std::chrono::seconds{0})->rows("book").empty());

  BOOST_TEST_MESSAGE("refusals, in DOMAIN.md's order, change nothing");
  BOOST_TEST(refused(write(w::post, "books", 0, R"({"title": "U",
      "isbn": "i3", "author_id": 99, "depot_id": null,
      "cover": {"colour": "c"}, "copies": []})")) == "422 missing_reference");
  BOOST_TEST(refused(write(w::post, "books", 0, R"({"title": "U",
      "isbn": "i1", "author_id": 1, "depot_id": null,
      "cover": {"colour": "c"}, "copies": []})")) == "409 duplicate_value");
  BOOST_TEST(refused(write(w::post, "books", 0, R"({"title": "U",
      "isbn": "i3", "author_id": 1, "depot_id": null, "cover": {"colour": "c"},
      "copies": [{"barcode": "q", "loans": []},
                 {"barcode": "q", "loans": []}]})")) == "409 duplicate_value");
  BOOST_TEST(refused(write(w::put, "books", 99, R"({"title": "U",
      "isbn": "i3", "author_id": 99, "depot_id": null,
      "cover": {"colour": "c"}, "copies": []})")) == "404 not_found");
  BOOST_TEST(refused(write(w::del, "authors", 1, nullptr)) ==
             "409 still_referenced");
  BOOST_TEST(refused(write(w::del, "regions", 2, nullptr)) ==
             "409 still_referenced");
  BOOST_TEST(refused(write(w::del, "books", 99, nullptr)) == "404 not_found");
  BOOST_TEST(item("books", 10) == views.item(d.views[0], *after, 10).dump());

  BOOST_TEST_MESSAGE(
      "PUT: the single child keeps its id, arrays get new rows; "
      "a PUT may keep its unique values and reuse replaced ones");
  auto cover_id = oracle.state().rows("cover").begin()->first;
  auto last_copy = oracle.state().rows("copy").rbegin()->first;
  ok(write(w::put, "books", 10, R"({"title": "T2", "isbn": "i1",
      "author_id": 2, "depot_id": 1, "cover": {"colour": "green"},
      "copies": [{"barcode": "\u00fc", "loans": []},
                 {"barcode": "z", "loans": []},
                 {"barcode": "Z", "loans": []}]})"),
     10);
  BOOST_TEST(oracle.state().rows("cover").begin()->first == cover_id);
  BOOST_TEST(oracle.state().rows("copy").size() == 3u);
  BOOST_TEST(oracle.state().rows("copy").begin()->first > last_copy);
  BOOST_TEST(oracle.state().rows("loan").empty());
  // Text sorts by code point: "Z" < "z" < "ü".
  BOOST_TEST(item("books", 10) ==
             R"({"id":10,"title":"T2","author":"Bob","region":"south",)"
             R"("colour":"green","copies":[{"barcode":"Z","loans":[]},)"
             R"({"barcode":"z","loans":[]}]})");
  BOOST_TEST(item("authors", 1) ==
             R"({"id":1,"name":"Ann","born":null,"books":[{"title":"S"}]})");

  BOOST_TEST_MESSAGE("DELETE removes the aggregate at every depth");
  ok(write(w::del, "books", 10, nullptr), 10);
  BOOST_TEST(oracle.state().rows("copy").empty());
  BOOST_TEST(oracle.state().rows("cover").size() == 1u);
  BOOST_TEST(item("books", 10) == "null");
  ok(write(w::del, "authors", 2, nullptr), 2);
  BOOST_CHECK_THROW(oracle.apply(write(w::del, "authors", 1, nullptr), 1),
                    std::logic_error);
}

BOOST_AUTO_TEST_CASE(answers_compare_by_order_type_and_value) {
  auto differ = [](const char* expected, const char* actual) {
    return difference(ojson::parse(expected), ojson::parse(actual));
  };
  BOOST_TEST(
      differ(R"({"a":1,"b":[2.5,null]})", R"({"a":1,"b":[2.5,null]})").empty());
  BOOST_TEST(differ(R"({"a":3.0})", R"({"a":3})").empty());
  BOOST_TEST(!differ(R"({"a":3})", R"({"a":3.0})").empty());
  BOOST_TEST(!differ(R"({"a":1,"b":2})", R"({"b":2,"a":1})").empty());
  BOOST_TEST(!differ(R"({"a":1})", R"({"a":1,"b":2})").empty());
  BOOST_TEST(!differ(R"([1,2])", R"([1])").empty());
  BOOST_TEST(!differ(R"({"a":"x"})", R"({"a":"y"})").empty());
  BOOST_TEST(!differ(R"({"a":null})", R"({"a":0})").empty());
  BOOST_TEST(differ(R"({"a":[{"b":1}]})", R"({"a":[{"b":2}]})") ==
             ".a[0].b: another integer (expected 1, got 2)");
}

// -- end to end ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(reads_equal_the_oracle_on_generated_domains) {
  auto seed = env_number("CQRSD_DOMAIN_FRESHNESS_SEED", default_seed);
  auto count = static_cast<int>(
      env_number("CQRSD_DOMAIN_FRESHNESS_DOMAINS", default_domains));
  BOOST_TEST_MESSAGE("seed " << seed << " (set CQRSD_DOMAIN_FRESHNESS_SEED to "
                             << "change), " << count << " domains, backend "
                             << backend_name(backend_from_environment()));
  domain_run_settings settings;
  std::map<std::string, int> outcomes;
  for (int k = 0; k < count; ++k) {
    auto domain_seed = seed + static_cast<uint64_t>(k);
    auto d = generate_domain(domain_seed);
    BOOST_TEST_MESSAGE("domain "
                       << k + 1 << " of " << count << ", seed " << domain_seed
                       << " (replay it alone with "
                          "CQRSD_DOMAIN_FRESHNESS_SEED="
                       << domain_seed << " CQRSD_DOMAIN_FRESHNESS_DOMAINS=1):\n"
                       << to_yaml(d));
    BOOST_TEST_REQUIRE(spec::violations(d).empty());
    for (const auto& [outcome, n] :
         run_domain(d, domain_seed, settings).outcomes)
      outcomes[outcome] += n;
  }
  std::string tally;
  for (const auto& [outcome, n] : outcomes)
    tally += " [" + outcome + ": " + std::to_string(n) + "]";
  BOOST_TEST_MESSAGE("write answers:" << tally);
  if (count >= default_domains)
    for (const char* outcome :
         {"200", "201", "404 not_found", "409 duplicate_value",
          "409 still_referenced", "422 missing_reference"})
      BOOST_TEST(outcomes[outcome] > 0, "no write answered " << outcome);
}

BOOST_AUTO_TEST_CASE(reads_equal_the_oracle_on_the_built_in_domain) {
  auto seed = env_number("CQRSD_DOMAIN_FRESHNESS_SEED", default_seed);
  BOOST_TEST_MESSAGE("seed " << seed << ": the built-in objects domain");
  domain_run_settings settings;
  settings.builtin = true;
  settings.concurrent_writes = 150;
  run_domain(builtin_spec(), seed, settings);
}

BOOST_AUTO_TEST_SUITE_END()
