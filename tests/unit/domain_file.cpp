// Tests of loading domain files: the shipped domains, the built-in one, the
// canonical digest, what is derived, and the rules of the YAML and the top
// level (DOMAIN.md). Tables: domain_tables; resources and views:
// domain_rules.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include <unistd.h>

#include "config/domain_file.hpp"
#include "fixtures/domain_yaml.hpp"

using namespace cqrs;
using namespace cqrs::test;

namespace {

std::string read_source(const std::string& relative) {
  std::ifstream in{std::string{CQRSD_SOURCE_DIR} + "/" + relative};
  BOOST_REQUIRE_MESSAGE(in.good(), "cannot read " << relative);
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

/// The shipped domains, and a temporary folder for files to load.
struct fixture : domain_yaml {
  fixture() {
    char pattern[] = "/tmp/cqrsd-domain-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    BOOST_REQUIRE(made != nullptr);
    dir = made;
  }

  ~fixture() {
    for (const auto& path : files)
      std::remove(path.c_str());
    ::rmdir(dir.c_str());
  }

  std::string write_file(const std::string& name, const std::string& text) {
    auto path = dir + "/" + name;
    std::ofstream out{path};
    out << text;
    out.close();
    BOOST_REQUIRE(out.good());
    files.push_back(path);
    return path;
  }

  domain load_shipped(const std::string& name) {
    domain_error err;
    auto d =
        load_domain(std::string{CQRSD_SOURCE_DIR} + "/domains/" + name, err);
    BOOST_REQUIRE_MESSAGE(d.has_value(), to_string(err));
    return *d;
  }

  static const view_decl& view(const domain& d, const std::string& segment) {
    auto i = d.view_index(segment);
    BOOST_REQUIRE_MESSAGE(i.has_value(), "no view " << segment);
    return d.views[*i];
  }

  static std::string table_of(const domain& d, const view_source& s) {
    return d.tables[s.table].name;
  }

  std::string dir;
  std::vector<std::string> files;
};

bool is_hex_digest(const std::string& x) {
  return std::regex_match(x, std::regex{"[0-9a-f]{64}"});
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(domain_file, fixture)

// -- the shipped domains ------------------------------------------------------

BOOST_AUTO_TEST_CASE(shipped_domains_load_with_stable_digests) {
  for (auto name : {"objects.yaml", "library.yaml"}) {
    BOOST_TEST_CONTEXT(name) {
      auto d = load_shipped(name);
      BOOST_TEST(is_hex_digest(d.digest), d.digest);
      BOOST_TEST(load_shipped(name).digest == d.digest);
    }
  }
  BOOST_TEST(load_shipped("objects.yaml").digest !=
             load_shipped("library.yaml").digest);
  auto library = load_shipped("library.yaml");
  BOOST_TEST(library.name == "library");
  std::set<std::string> tables;
  for (const auto& t : library.tables)
    tables.insert(t.name);
  for (auto t :
       {"country", "author", "branch", "book", "copy", "loan", "member"})
    BOOST_TEST(tables.count(t) == 1u, "library lacks table " << t);
}

BOOST_AUTO_TEST_CASE(builtin_domain_is_objects_yaml) {
  BOOST_TEST(std::string{builtin_domain_text()} ==
             read_source("domains/objects.yaml"));
  auto builtin = builtin_domain();
  BOOST_REQUIRE(builtin != nullptr);
  BOOST_TEST(builtin.get() == builtin_domain().get(), "parsed once");
  BOOST_TEST(builtin->name == "objects");
  BOOST_TEST(builtin->digest == load_shipped("objects.yaml").digest);
}

BOOST_AUTO_TEST_CASE(configured_domain_is_the_file_or_the_builtin) {
  settings cfg;
  domain_error err;
  BOOST_TEST(load_configured_domain(cfg, err).get() == builtin_domain().get());
  cfg.domain = std::string{CQRSD_SOURCE_DIR} + "/domains/library.yaml";
  auto library = load_configured_domain(cfg, err);
  BOOST_REQUIRE_MESSAGE(library != nullptr, to_string(err));
  BOOST_TEST(library->name == "library");
  cfg.domain = dir + "/missing.yaml";
  BOOST_TEST(load_configured_domain(cfg, err) == nullptr);
  BOOST_TEST(to_string(err) ==
             "domain error: " + cfg.domain +
                 ": cannot read domain file: No such file or directory");
}

BOOST_AUTO_TEST_CASE(files_that_cannot_be_read_name_the_file) {
  domain_error err;
  BOOST_TEST(!load_domain(dir, err).has_value());
  BOOST_TEST(err.file == dir);
  BOOST_TEST(err.path == "");
  BOOST_TEST(err.message.find("cannot read domain file") != std::string::npos,
             err.message);
  auto path = write_file("bad.yaml", tables + "views: {x: {from: book}}\n");
  BOOST_TEST(!load_domain(path, err).has_value());
  BOOST_TEST(to_string(err) ==
             "domain error: " + path +
                 ": views.x: missing key 'fields' (the view's JSON object)");
}

// -- the canonical form -------------------------------------------------------

BOOST_AUTO_TEST_CASE(
    comments_key_order_and_spelled_out_defaults_keep_the_digest) {
  // objects.yaml with tables, resources and views in another order, keys
  // reordered, flow style, comments and every default written out.
  auto same = R"(# the same domain
views:
  related-objects:
    fields: {content_description: related_object.content_description,
             content_type: related_object.content_type, id: related_object.id}
    from: related_object
  objects:
    list: {max_limit: 500, filters: {category_id: child_object.category_id}}
    fields:
      access_code: child_object.access_code
      category_description: category.description
      content_description: related_object.content_description
      content_type: related_object.content_type
      id: top_level_object.id
      name: top_level_object.name
    join: [child_object.top_level_object_id, child_object.related_object_id,
           child_object.category_id]
    from: top_level_object
  categories: {from: category, fields: {description: category.description, id: category.id}}
resources:
  objects:
    owns:
      child: {by: top_level_object_id, many: false, table: child_object}
    table: top_level_object
  related-objects: {table: related_object, owns: {}}
  categories: {table: category}
tables:
  top_level_object: {columns: {name: {type: text, min_length: 1}}}
  child_object:
    columns:
      access_code: {max_length: 1000, type: text, optional: false}
      top_level_object_id: {unique: true, references: top_level_object}
      related_object_id: {references: related_object, unique: false}
      category_id: {references: category}
  category: {columns: {description: text}}
  related_object:
    columns: {content_description: text, content_type: text}  # comment
name: objects
)";
  BOOST_TEST(parse_ok(same).digest == builtin_domain()->digest);
}

BOOST_AUTO_TEST_CASE(every_semantic_change_changes_the_digest) {
  auto base = tables + R"(resources:
  books: {table: book}
views:
  books:
    from: book
    join: [book.author_id]
    fields: {id: book.id, title: book.title, author: author.name}
    list: {filters: {author_id: book.author_id}}
)";
  std::set<std::string> digests{parse_ok(base).digest};
  auto changed = [&](const std::string& from, const std::string& to) {
    auto text = base;
    auto at = text.find(from);
    BOOST_REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    BOOST_TEST_CONTEXT("'" << from << "' -> '" << to << "'") {
      BOOST_TEST(digests.insert(parse_ok(text).digest).second);
    }
  };
  changed("name: t", "name: u");
  changed("title: text", "title: {type: text, max_length: 10}");
  changed("title: text", "title: {type: text, optional: true}");
  changed("title: text", "title: {type: text, unique: true}");
  changed("title: text", "title: {type: text, one_of: [a]}");
  changed("title: text", "title: integer");
  changed("author_id: {references: author}",
          "author_id: {references: author, optional: true}");
  changed("      title: text\n      author_id: {references: author}",
          "      author_id: {references: author}\n      title: text");
  changed("{id: book.id, title: book.title,",
          "{title: book.title, id: book.id,");
  changed("author: author.name}", "writer: author.name}");
  changed("{filters: {author_id: book.author_id}}",
          "{filters: {author_id: book.author_id}, max_limit: 400}");
  changed("{filters: {author_id: book.author_id}}", "{}");
  changed("books: {table: book}", "tomes: {table: book}");
}

BOOST_AUTO_TEST_CASE(canonical_text_spells_out_every_default) {
  auto d = parse_ok(tables + R"(resources:
  authors:
    table: author
    owns: {books: {table: book, by: author_id, many: true}}
views:
  authors:
    from: author
    fields: {id: author.id}
    collections:
      books: {from: book, by: author_id, fields: {title: book.title}}
    list: {}
)");
  auto text = canonical_text(d);
  for (auto part :
       {R"("min_length":1)", R"("max_length":1000)", R"("optional":false)",
        R"("unique":false)", R"("one_of":[])", R"("max_items":100)",
        R"("many":true)", R"("order_by":"id")", R"("limit":100)",
        R"("default_limit":50)", R"("max_limit":500)", R"("join":[])",
        R"(["title",{)", R"(["books",{)"})
    BOOST_TEST(text.find(part) != std::string::npos,
               "no " << part << " in " << text);
}

// -- what is derived ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(objects_view_joins_as_today) {
  auto d = *builtin_domain();
  const auto& v = view(d, "objects");
  const auto& s = v.scope.sources;
  BOOST_REQUIRE(s.size() == 4u);
  BOOST_TEST(table_of(d, s[0]) == "top_level_object");
  BOOST_TEST(s[0].parent == -1);
  BOOST_TEST(table_of(d, s[1]) == "child_object");
  BOOST_TEST((s[1].backward && s[1].inner && s[1].parent == 0));
  BOOST_TEST(table_of(d, s[2]) == "related_object");
  BOOST_TEST((!s[2].backward && s[2].inner && s[2].parent == 1));
  BOOST_TEST(table_of(d, s[3]) == "category");
  BOOST_TEST((!s[3].backward && s[3].inner && !s[3].may_be_missing));
  BOOST_REQUIRE(v.list.has_value());
  BOOST_TEST(v.list->filters[0].source == 1u);
  const auto& child = d.tables[*d.table_index("child_object")];
  BOOST_TEST(child.keyed_columns == (std::vector<size_t>{1, 2, 3}));
  const auto& r = d.resources[*d.resource_index("objects")];
  BOOST_REQUIRE(r.nodes.size() == 2u);
  BOOST_TEST((r.nodes[1].field == "child" && !r.nodes[1].many));
}

BOOST_AUTO_TEST_CASE(library_joins_are_left_where_a_row_may_be_missing) {
  auto d = load_shipped("library.yaml");
  BOOST_TEST_MESSAGE("books: author and country through required columns");
  const auto& books = view(d, "books");
  for (size_t i = 1; i < 3; ++i)
    BOOST_TEST(
        (books.scope.sources[i].inner && !books.scope.sources[i].backward));
  BOOST_TEST(table_of(d, books.scope.sources[2]) == "country");
  BOOST_REQUIRE(books.list.has_value());
  const auto& country = books.list->filters[1];
  BOOST_TEST(country.name == "country_id");
  BOOST_TEST(table_of(d, books.scope.sources[country.source]) == "author");
  BOOST_TEST_MESSAGE("copies, and their loans, nested in books");
  const auto& copies = books.scope.collections[0];
  BOOST_TEST(table_of(d, copies.scope.sources[1]) == "branch");
  BOOST_TEST(copies.scope.collections[0].name == "loans");
  BOOST_TEST(*copies.order_field == 0u);
  BOOST_TEST_MESSAGE("members: optional home branch, owned single card");
  const auto& members = view(d, "members");
  BOOST_TEST(table_of(d, members.scope.sources[1]) == "branch");
  BOOST_TEST((!members.scope.sources[1].inner &&
              members.scope.sources[1].may_be_missing));
  BOOST_TEST(table_of(d, members.scope.sources[2]) == "card");
  BOOST_TEST(
      (members.scope.sources[2].backward && members.scope.sources[2].inner));
  BOOST_TEST_MESSAGE("books owns copies owns loans");
  const auto& r = d.resources[*d.resource_index("books")];
  BOOST_REQUIRE(r.nodes.size() == 3u);
  BOOST_TEST((r.nodes[2].parent == 1 && r.nodes[2].many &&
              r.nodes[2].max_items == 50u));
}

BOOST_AUTO_TEST_CASE(
    joins_through_a_left_join_may_miss_and_unique_backward_is_left) {
  auto d = parse_ok(R"(name: t
tables:
  country: {columns: {name: text}}
  author: {columns: {name: text, country_id: {references: country}}}
  book: {columns: {author_id: {references: author, optional: true}}}
  cover: {columns: {book_id: {references: book, unique: true}, url: text}}
views:
  books:
    from: book
    join: [book.author_id, author.country_id, cover.book_id]
    fields: {id: book.id, author_id: author.id, country: country.name,
             cover: cover.url}
)");
  const auto& s = view(d, "books").scope.sources;
  BOOST_TEST((!s[1].inner && s[1].may_be_missing));
  BOOST_TEST((!s[2].inner && s[2].may_be_missing),
             "joined through a left join");
  BOOST_TEST((s[3].backward && !s[3].inner && s[3].may_be_missing));
  const auto& f = view(d, "books").scope.resolved;
  BOOST_TEST((f[1].source == 1u && !f[1].column.has_value()));
}

// -- YAML ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(yaml_syntax_errors_give_line_and_column) {
  auto err = parse_error("name: t\ntables: [a, b\n");
  BOOST_TEST(err.path == "");
  BOOST_TEST(err.message.find("line") != std::string::npos, err.message);
  BOOST_TEST(err.file == "test.yaml");
}

BOOST_AUTO_TEST_CASE(stray_commas_are_errors_not_hangs) {
  for (std::string yaml : {",", ",a\n", ", e.g. \"x\"\n"}) {
    auto err = std::make_shared<domain_error>();
    std::packaged_task<bool()> parse{
        [yaml, err] { return parse_domain(yaml, "x", *err).has_value(); }};
    auto parsed = parse.get_future();
    std::thread{std::move(parse)}.detach();
    BOOST_REQUIRE_MESSAGE(parsed.wait_for(std::chrono::seconds{60}) ==
                              std::future_status::ready,
                          "parse_domain did not return on " << yaml);
    BOOST_TEST(!parsed.get());
    BOOST_TEST(err->message.find("malformed YAML") != std::string::npos,
               err->message);
  }
}

BOOST_AUTO_TEST_CASE(one_document_holding_a_mapping) {
  check_error(tables + "---\n" + tables, "",
              "expected one YAML document, got 2");
  check_error("", "", "empty document");
  check_error("# only a comment\n", "", "empty document");
  check_error("- name\n- tables\n", "", "a sequence");
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_errors_at_any_depth) {
  check_error(tables + "name: u\n", "name", "duplicate key 'name'");
  check_error("name: t\ntables:\n  book:\n    columns:\n      title: text\n"
              "      title: integer\n",
              "tables.book.columns.title", "duplicate key 'title'");
  check_error(tables + "views:\n  books:\n    from: book\n"
                       "    fields: {id: book.id, id: book.title}\n",
              "views.books.fields.id", "duplicate key 'id'");
}

BOOST_AUTO_TEST_CASE(unknown_keys_are_errors_at_any_depth) {
  check_error(tables + "view: {}\n", "view", "unknown key 'view'");
  check_error(column("{type: text, uniq: true}"), "tables.book.columns.c.uniq",
              "unknown key 'uniq'");
  check_error("name: t\ntables: {book: {columns: {}, rows: 3}}\n",
              "tables.book.rows", "unknown key 'rows'");
  check_error("name: t\ntables: {book: {columns: {}, a.b: 3}}\n",
              "tables.book.a.b", "unknown key 'a.b'");
  check_error(tables + "resources: {books: {table: book, root: true}}\n",
              "resources.books.root", "unknown key 'root'");
  check_error(tables + "views: {books: {from: book, fields: {id: book.id}, "
                       "list: {filter: {}}}}\n",
              "views.books.list.filter", "unknown key 'filter'");
}

BOOST_AUTO_TEST_CASE(errors_are_one_line) {
  auto err =
      parse_error("name: t\ntables: {\"bad\\nname\\t\": {columns: {}}}\n");
  BOOST_TEST(err.path == "tables.bad\nname\t");
  BOOST_TEST(to_string(err) ==
             "domain error: test.yaml: tables.bad\\nname\\x09: expected a "
             "table name matching [a-z][a-z0-9_]{0,62}, got 'bad\\nname\\x09'");
}

BOOST_AUTO_TEST_CASE(keys_must_be_plain_names) {
  check_error("name: t\ntables: {~: {columns: {}}}\n", "tables",
              "got null (write 'null' in quotes");
  check_error("name: t\ntables: {[a]: {columns: {}}}\n", "tables",
              "a key that is a sequence");
  BOOST_TEST(
      parse_ok("name: t\ntables: {'null': {columns: {}}}\n").tables[0].name ==
      "null");
}

BOOST_AUTO_TEST_CASE(aliases_cannot_blow_up_the_walk) {
  // Collections four deep, each level 40 aliases of the one below: 40^4
  // collections from a few kilobytes. The walk gives up instead.
  std::string level = "{from: book, by: book_id, fields: {id: book.id}}";
  for (int depth = 1; depth <= 3; ++depth) {
    auto anchor = "l" + std::to_string(depth);
    std::string collections = "{k0: &" + anchor + " " + level;
    for (int k = 1; k < 40; ++k)
      collections += ", k" + std::to_string(k) + ": *" + anchor;
    level = "{from: book, by: book_id, fields: {id: book.id}, collections: " +
            collections + "}}";
  }
  std::string collections = "{k0: &top " + level;
  for (int k = 1; k < 40; ++k)
    collections += ", k" + std::to_string(k) + ": *top";
  auto err = parse_error(
      "name: t\ntables: {book: {columns: {book_id: {references: book, "
      "optional: true}}}}\nviews:\n  v: {from: book, fields: {id: book.id}, "
      "collections: " +
      collections + "}}\n");
  BOOST_TEST(err.message.find("too large") != std::string::npos, err.message);
}

// -- the top level ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(name_is_required_and_a_plain_identifier) {
  check_error("tables: {book: {columns: {}}}\n", "", "missing key 'name'");
  for (auto bad : {"Library", "1library", "lib-rary", "''"})
    check_error(std::string{"name: "} + bad +
                    "\ntables: {book: {columns: {}}}\n",
                "name", "expected a domain name matching [a-z][a-z0-9_]{0,62}");
  check_error("name: [a]\ntables: {book: {columns: {}}}\n", "name",
              "got a sequence");
}

BOOST_AUTO_TEST_CASE(tables_are_required_and_not_empty) {
  check_error("name: t\n", "", "missing key 'tables'");
  check_error("name: t\ntables: {}\n", "tables", "at least one table");
  check_error("name: t\ntables:\n", "tables", "at least one table");
  check_error("name: t\ntables: [book]\n", "tables", "a sequence");
  BOOST_TEST(
      parse_ok("name: t\ntables: {book: {columns: {}}}\n").resources.empty());
}

BOOST_AUTO_TEST_SUITE_END()
