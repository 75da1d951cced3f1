// Tests of the rules of a domain file's resources and views (DOMAIN.md):
// segments, ownership, joins, fields, collections and lists. Each case names
// the path and the message of the error a broken rule gives.
#include <boost/test/unit_test.hpp>

#include <string>

#include "fixtures/domain_yaml.hpp"

using namespace cqrs;
using namespace cqrs::test;

namespace {

/// The library's tables, small: enough to own, join and nest.
struct fixture : domain_yaml {
  const std::string library = R"(name: t
tables:
  country: {columns: {name: text}}
  author: {columns: {name: text, country_id: {references: country}}}
  book:
    columns:
      title: text
      isbn: {type: text, unique: true}
      author_id: {references: author}
  copy: {columns: {barcode: text, book_id: {references: book}}}
  loan: {columns: {copy_id: {references: copy}, due: text}}
  cover: {columns: {url: text, book_id: {references: book}}}
  note: {columns: {text: text, book_id: {references: book, optional: true}}}
)";

  /// `library` with one resource `books` on book owning `owns`.
  std::string owning(const std::string& owns) const {
    return library + "resources:\n  books:\n    table: book\n    owns:\n" +
           owns;
  }

  /// `library` with one view `books` on book: `body` follows `from`.
  std::string viewing(const std::string& body,
                      const std::string& resources = "") const {
    return library + resources + "views:\n  books:\n    from: book\n" + body;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(domain_rules, fixture)

// -- resources ----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(resource_segments_follow_the_pattern_and_are_free) {
  for (auto bad : {"Books", "1books", "new_books", "-books"})
    check_error(library + "resources: {" + bad + ": {table: book}}\n",
                std::string{"resources."} + bad,
                "expected a resource segment matching [a-z][a-z0-9-]{0,62}");
  for (auto bad :
       {"healthz", "readyz", "metrics", "status", "docs", "console", "commits"})
    check_error(library + "resources: {" + bad + ": {table: book}}\n",
                std::string{"resources."} + bad, "is reserved");
  parse_ok(library + "resources: {new-books: {table: book}}\n");
}

BOOST_AUTO_TEST_CASE(resources_name_a_declared_table) {
  check_error(library + "resources: {books: {owns: {}}}\n", "resources.books",
              "missing key 'table'");
  check_error(library + "resources: {books: {table: tome}}\n",
              "resources.books.table", "names no declared table 'tome'");
  check_error(library + "resources: {books: book}\n", "resources.books",
              "expected a mapping with table");
}

BOOST_AUTO_TEST_CASE(owned_fields_are_names_apart_from_the_columns) {
  check_error(owning("      Copies: {table: copy, by: book_id, many: true}\n"),
              "resources.books.owns.Copies", "expected an owned field name");
  check_error(owning("      title: {table: copy, by: book_id, many: true}\n"),
              "resources.books.owns.title",
              "the owned field 'title' has the name of a column of book");
  check_error(owning("      id: {table: copy, by: book_id, many: true}\n"),
              "resources.books.owns.id", "may not be named id");
}

BOOST_AUTO_TEST_CASE(owned_tables_exist_and_by_points_at_the_parent) {
  check_error(owning("      copies: {by: book_id}\n"),
              "resources.books.owns.copies", "missing key 'table'");
  check_error(owning("      copies: {table: copy}\n"),
              "resources.books.owns.copies", "missing key 'by'");
  check_error(owning("      copies: {table: copies, by: book_id}\n"),
              "resources.books.owns.copies.table",
              "names no declared table 'copies'");
  check_error(owning("      copies: {table: copy, by: bookid}\n"),
              "resources.books.owns.copies.by", "copy has no column 'bookid'");
  check_error(owning("      copies: {table: copy, by: id}\n"),
              "resources.books.owns.copies.by", "got its id");
  check_error(owning("      copies: {table: copy, by: barcode}\n"),
              "resources.books.owns.copies.by",
              "copy.barcode is a text column, not a references column");
  check_error(owning("      copies: {table: loan, by: copy_id, many: true}\n"),
              "resources.books.owns.copies.by",
              "loan.copy_id references copy, not book (the parent's table)");
  check_error(owning("      notes: {table: note, by: book_id, many: true}\n"),
              "resources.books.owns.notes.by", "note.book_id is optional");
}

BOOST_AUTO_TEST_CASE(many_and_max_items) {
  auto d = parse_ok(owning("      copies: {table: copy, by: book_id, many: "
                           "true, max_items: 1000}\n"));
  BOOST_TEST(d.resources[0].owns[0].max_items == 1000u);
  for (auto bad : {"0", "1001", "-1", "many"})
    check_error(owning(std::string{"      copies: {table: copy, by: book_id, "
                                   "many: true, max_items: "} +
                       bad + "}\n"),
                "resources.books.owns.copies.max_items",
                "expected an integer in 1..1000");
  check_error(
      owning("      copies: {table: copy, by: book_id, max_items: 5}\n"),
      "resources.books.owns.copies.max_items",
      "max_items applies to many: true only");
  check_error(owning("      copies: {table: copy, by: book_id, many: yes}\n"),
              "resources.books.owns.copies.many", "expected true or false");
  check_error(R"(name: t
tables:
  book: {columns: {}}
  copy: {columns: {book_id: {references: book, unique: true}}}
resources:
  books: {table: book, owns: {copies: {table: copy, by: book_id, many: true}}}
)",
              "resources.books.owns.copies.by",
              "is unique, so an owned array could hold at most one row");
}

BOOST_AUTO_TEST_CASE(owns_nest_at_most_four_deep) {
  std::string tables = "name: t\ntables:\n  t0: {columns: {}}\n";
  for (int i = 1; i <= 5; ++i)
    tables += "  t" + std::to_string(i) + ": {columns: {p: {references: t" +
              std::to_string(i - 1) + "}}}\n";
  auto owns = [](int depth) {
    std::string out = "{}";
    for (int i = depth; i >= 1; --i)
      out =
          "{c: {table: t" + std::to_string(i) + ", by: p, owns: " + out + "}}";
    return out;
  };
  auto d =
      parse_ok(tables + "resources: {r: {table: t0, owns: " + owns(4) + "}}\n");
  BOOST_TEST(d.resources[0].nodes.size() == 5u);
  check_error(tables + "resources: {r: {table: t0, owns: " + owns(5) + "}}\n",
              "resources.r.owns.c.owns.c.owns.c.owns.c.owns",
              "owns nests at most 4 deep");
}

BOOST_AUTO_TEST_CASE(a_table_has_one_place_among_the_resources) {
  check_error(library + "resources:\n  books: {table: book}\n"
                        "  tomes: {table: book}\n",
              "resources.tomes.table",
              "book is already the root of resource 'books'; a table is the "
              "root of at most one resource, or owned by exactly one parent");
  check_error(library + R"(resources:
  copies: {table: copy}
  books: {table: book, owns: {copies: {table: copy, by: book_id, many: true}}}
)",
              "resources.books.owns.copies.table",
              "copy is already the root of resource 'copies'");
  check_error(library + R"(resources:
  books:
    table: book
    owns:
      copies: {table: copy, by: book_id, many: true}
      more: {table: copy, by: book_id, many: true}
)",
              "resources.books.owns.more.table",
              "copy is already owned by resources.books.owns.copies");
  check_error(library + R"(resources:
  books: {table: book, owns: {copies: {table: copy, by: book_id, many: true}}}
  copies: {table: copy}
)",
              "resources.copies.table", "copy is already owned by");
}

// -- views --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(view_segments_follow_the_pattern_and_are_free) {
  check_error(library + "views: {Books: {from: book, fields: {id: book.id}}}\n",
              "views.Books", "expected a view segment matching");
  check_error(library +
                  "views: {status: {from: book, fields: {id: book.id}}}\n",
              "views.status", "is reserved");
}

BOOST_AUTO_TEST_CASE(a_view_on_a_resource_segment_reads_its_table) {
  parse_ok(library + "resources: {books: {table: book}}\n"
                     "views: {books: {from: book, fields: {id: book.id}}}\n");
  check_error(library +
                  "resources: {books: {table: book}}\n"
                  "views: {books: {from: author, fields: {id: author.id}}}\n",
              "views.books.from",
              "shares its segment with the resource 'books', so from must be "
              "book (the resource's table), got 'author'");
}

BOOST_AUTO_TEST_CASE(views_need_a_declared_from_and_fields) {
  check_error(library + "views: {books: {fields: {id: book.id}}}\n",
              "views.books", "missing key 'from'");
  check_error(viewing("    join: []\n"), "views.books", "missing key 'fields'");
  check_error(library + "views: {books: {from: tome, fields: {id: tome.id}}}\n",
              "views.books.from", "names no declared table 'tome'");
  check_error(viewing("    fields: {}\n"), "views.books.fields",
              "at least one field");
  check_error(viewing("    fields: [book.id]\n"), "views.books.fields",
              "got a sequence");
}

BOOST_AUTO_TEST_CASE(fields_name_a_column_of_a_table_in_the_view) {
  check_error(viewing("    fields: {Title: book.title}\n"),
              "views.books.fields.Title", "expected a field name matching");
  for (auto bad : {"title", "book.", ".title", "book.title.x"})
    check_error(viewing(std::string{"    fields: {title: '"} + bad + "'}\n"),
                "views.books.fields.title", "expected table.column");
  check_error(viewing("    fields: {title: book.name}\n"),
              "views.books.fields.title", "book has no column 'name'");
  check_error(viewing("    fields: {author: author.name}\n"),
              "views.books.fields.author",
              "names author, which is not in the view (book); join it first");
  check_error(viewing("    fields: {x: shelf.name}\n"), "views.books.fields.x",
              "names no declared table 'shelf'");
  parse_ok(viewing("    join: [book.author_id]\n"
                   "    fields: {id: book.id, author_id: author.id}\n"));
}

BOOST_AUTO_TEST_CASE(joins_name_references_columns) {
  auto fields = std::string{"    fields: {id: book.id}\n"};
  check_error(viewing("    join: book.author_id\n" + fields),
              "views.books.join", "expected a sequence of table.column joins");
  check_error(viewing("    join: [book]\n" + fields), "views.books.join[0]",
              "expected table.column, got 'book'");
  check_error(viewing("    join: [shelf.book_id]\n" + fields),
              "views.books.join[0]", "names no declared table 'shelf'");
  check_error(viewing("    join: [book.writer_id]\n" + fields),
              "views.books.join[0]", "book has no column 'writer_id'");
  check_error(viewing("    join: [book.title]\n" + fields),
              "views.books.join[0]",
              "book.title is a text column, not a references column");
  check_error(viewing("    join: [book.id]\n" + fields), "views.books.join[0]",
              "got its id");
}

BOOST_AUTO_TEST_CASE(forward_joins_add_each_table_once) {
  auto d = parse_ok(viewing("    join: [book.author_id, author.country_id]\n"
                            "    fields: {id: book.id, c: country.name}\n"));
  BOOST_TEST(d.views[0].scope.sources.size() == 3u);
  check_error(viewing("    join: [book.author_id, book.author_id]\n"
                      "    fields: {id: book.id}\n"),
              "views.books.join[1]",
              "the join adds author, which is in the view already");
}

BOOST_AUTO_TEST_CASE(backward_joins_need_a_unique_or_single_owned_column) {
  BOOST_TEST_MESSAGE("unique: a left join");
  auto unique = R"(name: t
tables:
  book: {columns: {title: text}}
  cover: {columns: {url: text, book_id: {references: book, unique: true}}}
views:
  books: {from: book, join: [cover.book_id], fields: {url: cover.url}}
)";
  BOOST_TEST(!parse_ok(unique).views[0].scope.sources[1].inner);
  BOOST_TEST_MESSAGE("the by of an owned single child: an inner join");
  auto d = parse_ok(viewing("    join: [cover.book_id]\n"
                            "    fields: {url: cover.url}\n",
                            "resources:\n  books: {table: book, owns: {cover: "
                            "{table: cover, by: book_id}}}\n"));
  BOOST_TEST(d.views[0].scope.sources[1].inner);
  check_error(viewing("    join: [copy.book_id]\n    fields: {id: book.id}\n"),
              "views.books.join[0]",
              "copy.book_id is neither unique nor the by of an owned single "
              "child, so it may match many rows of copy");
  check_error(viewing("    join: [loan.copy_id]\n    fields: {id: book.id}\n"),
              "views.books.join[0]",
              "neither is loan in the view yet nor does loan.copy_id "
              "reference a table in it (book)");
}

BOOST_AUTO_TEST_CASE(at_most_16_tables_in_a_view) {
  std::string tables = "name: t\ntables:\n  t16: {columns: {}}\n";
  std::string joins;
  for (int i = 15; i >= 0; --i) {
    tables += "  t" + std::to_string(i) + ": {columns: {r: {references: t" +
              std::to_string(i + 1) + "}}}\n";
  }
  for (int i = 0; i < 15; ++i)
    joins += (i ? ", " : "") + std::string{"t"} + std::to_string(i) + ".r";
  auto view = [&](const std::string& joins) {
    return tables + "views: {v: {from: t0, join: [" + joins +
           "], fields: {id: t0.id}}}\n";
  };
  BOOST_TEST(parse_ok(view(joins)).views[0].scope.sources.size() == 16u);
  check_error(view(joins + ", t15.r"), "views.v.join[15]",
              "holds at most 16 tables");
}

// -- collections --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(collections_read_rows_that_reference_the_enclosing_row) {
  auto fields = std::string{"    fields: {id: book.id}\n"};
  auto d =
      parse_ok(viewing(fields + "    collections:\n      copies: {from: "
                                "copy, by: book_id, fields: {id: copy.id}}\n"));
  BOOST_TEST(d.views[0].scope.collections[0].limit == 100u);
  check_error(viewing(fields + "    collections: {copies: {by: book_id, "
                               "fields: {id: copy.id}}}\n"),
              "views.books.collections.copies", "missing key 'from'");
  check_error(viewing(fields + "    collections: {copies: {from: copy, "
                               "fields: {id: copy.id}}}\n"),
              "views.books.collections.copies", "missing key 'by'");
  check_error(viewing(fields + "    collections: {copies: {from: copy, by: "
                               "book_id}}\n"),
              "views.books.collections.copies", "missing key 'fields'");
  check_error(viewing(fields + "    collections: {copies: {from: copies, by: "
                               "book_id, fields: {id: copy.id}}}\n"),
              "views.books.collections.copies.from",
              "names no declared table 'copies'");
  check_error(viewing(fields + "    collections: {copies: {from: copy, by: "
                               "barcode, fields: {id: copy.id}}}\n"),
              "views.books.collections.copies.by", "not a references column");
  check_error(viewing(fields + "    collections: {loans: {from: loan, by: "
                               "copy_id, fields: {id: loan.id}}}\n"),
              "views.books.collections.loans.by",
              "loan.copy_id references copy, not book (the table of the row "
              "it is nested in)");
  check_error(viewing(fields + "    collections: {Copies: {from: copy, by: "
                               "book_id, fields: {id: copy.id}}}\n"),
              "views.books.collections.Copies", "expected a collection name");
  check_error(viewing(fields + "    collections: {id: {from: copy, by: "
                               "book_id, fields: {id: copy.id}}}\n"),
              "views.books.collections.id",
              "has the name of a field beside it");
}

BOOST_AUTO_TEST_CASE(collections_have_a_scope_of_their_own) {
  auto fields = std::string{"    join: [book.author_id]\n"
                            "    fields: {id: book.id, author: author.name}\n"};
  BOOST_TEST_MESSAGE("a table of the view may be joined again");
  parse_ok(viewing(fields + R"(    collections:
      covers:
        from: cover
        by: book_id
        join: [cover.book_id, book.author_id]
        fields: {url: cover.url, author: author.name}
)"));
  check_error(viewing(fields + R"(    collections:
      covers: {from: cover, by: book_id, fields: {a: author.name}}
)"),
              "views.books.collections.covers.fields.a",
              "names author, which is not in the collection (cover)");
  check_error(viewing(fields + R"(    collections:
      copies:
        from: copy
        by: book_id
        join: [copy.book_id, copy.book_id]
        fields: {id: copy.id}
)"),
              "views.books.collections.copies.join[1]",
              "the join adds book, which is in the collection already");
}

BOOST_AUTO_TEST_CASE(order_by_names_a_field_or_id) {
  auto collection = [&](const std::string& order_by) {
    return viewing(
        "    fields: {id: book.id}\n    collections:\n      copies:\n"
        "        from: copy\n        by: book_id\n"
        "        fields: {code: copy.barcode}\n"
        "        collections: {loans: {from: loan, by: copy_id, "
        "fields: {due: loan.due}}}\n"
        "        order_by: " +
        order_by + "\n");
  };
  BOOST_TEST(
      *parse_ok(collection("code")).views[0].scope.collections[0].order_field ==
      0u);
  BOOST_TEST(!parse_ok(collection("id"))
                  .views[0]
                  .scope.collections[0]
                  .order_field.has_value());
  check_error(collection("barcode"), "views.books.collections.copies.order_by",
              "expected a field of the collection (code) or id, got 'barcode'");
  check_error(collection("loans"), "views.books.collections.copies.order_by",
              "'loans' is a nested collection");
  check_error(collection("[id]"), "views.books.collections.copies.order_by",
              "expected a field name");
}

BOOST_AUTO_TEST_CASE(collection_limits) {
  auto collection = [&](const std::string& limit) {
    return viewing("    fields: {id: book.id}\n    collections:\n      copies: "
                   "{from: copy, by: book_id, fields: {id: copy.id}, limit: " +
                   limit + "}\n");
  };
  BOOST_TEST(parse_ok(collection("1000")).views[0].scope.collections[0].limit ==
             1000u);
  for (auto bad : {"0", "1001", "ten"})
    check_error(collection(bad), "views.books.collections.copies.limit",
                "expected an integer in 1..1000");
}

BOOST_AUTO_TEST_CASE(collections_nest_at_most_four_deep) {
  auto nested = [](int depth) {
    std::string out;
    for (int i = depth; i >= 1; --i)
      out = "{c: {from: book, by: parent_id, fields: {id: book.id}" +
            (out.empty() ? "" : ", collections: " + out) + "}}";
    return out;
  };
  auto yaml = [&](int depth) {
    return "name: t\ntables: {book: {columns: {parent_id: {references: book, "
           "optional: true}}}}\nviews: {v: {from: book, fields: {id: book.id}, "
           "collections: " +
           nested(depth) + "}}\n";
  };
  parse_ok(yaml(4));
  check_error(yaml(5),
              "views.v.collections.c.collections.c.collections.c."
              "collections.c.collections",
              "collections nest at most 4 deep");
}

// -- lists --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(list_limits_are_ordered_and_bounded) {
  auto list = [&](const std::string& body) {
    return viewing("    fields: {id: book.id}\n    list: " + body + "\n");
  };
  auto d = parse_ok(list("{}"));
  BOOST_TEST((d.views[0].list->default_limit == 50u &&
              d.views[0].list->max_limit == 500u));
  parse_ok(list("{default_limit: 1000, max_limit: 1000}"));
  for (auto key : {"default_limit", "max_limit"})
    for (auto bad : {"0", "1001", "'5'"})
      check_error(list(std::string{"{"} + key + ": " + bad + "}"),
                  std::string{"views.books.list."} + key,
                  "expected an integer in 1..1000");
  check_error(list("{default_limit: 20, max_limit: 10}"),
              "views.books.list.default_limit",
              "expected default_limit (20) <= max_limit (10)");
  check_error(list("{default_limit: 600}"), "views.books.list.default_limit",
              "<= max_limit (500)");
  check_error(list("{max_limit: 10}"), "views.books.list.max_limit",
              "expected default_limit (50) <= max_limit (10)");
}

BOOST_AUTO_TEST_CASE(filters_take_a_column_of_the_view) {
  auto list = [&](const std::string& filters) {
    return viewing("    join: [book.author_id]\n    fields: {id: book.id}\n"
                   "    collections: {copies: {from: copy, by: book_id, "
                   "fields: {id: copy.id}}}\n    list: {filters: " +
                   filters + "}\n");
  };
  auto d = parse_ok(list("{country_id: author.country_id, isbn: book.isbn}"));
  BOOST_TEST(d.views[0].list->filters[0].source == 1u);
  for (auto bad : {"limit", "after"})
    check_error(list(std::string{"{"} + bad + ": book.isbn}"),
                std::string{"views.books.list.filters."} + bad,
                "a filter may not be named");
  check_error(list("{Isbn: book.isbn}"), "views.books.list.filters.Isbn",
              "expected a filter name matching");
  check_error(list("{isbn: isbn}"), "views.books.list.filters.isbn",
              "expected table.column");
  check_error(list("{barcode: copy.barcode}"),
              "views.books.list.filters.barcode",
              "names copy, which is not in the view (book, author)");
  check_error(list("{author: author.id}"), "views.books.list.filters.author",
              "a filter takes a declared column, not id");
  check_error(list("{isbn: book.isb}"), "views.books.list.filters.isbn",
              "book has no column 'isb'");
}

BOOST_AUTO_TEST_SUITE_END()
