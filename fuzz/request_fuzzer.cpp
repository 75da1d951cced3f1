// libFuzzer target: everything the gateway does with a request's bytes before
// an actor sees it (route matching, ids, query parameters, headers, write
// bodies) and the JSON the API writes back, for the built-in objects domain
// and a richer one with every column type and nested owned arrays.
//
// Input format, so that seeds stay readable: four lines, then the body.
//   line 1: method           line 3: X-Min-Seq header value
//   line 2: path?query       line 4: Content-Type header value
//   rest:   the request body (any bytes)
// Missing lines are empty. Invariants that a user would notice abort: an
// accepted body whose rows differ from what a plain JSON parser reads in it,
// a stored value that breaks its column's rules, a rejection of valid JSON
// as "not valid JSON" (or the reverse), an answer that is not JSON.
#include <array>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/domain_file.hpp"
#include "http/request_values.hpp"
#include "http/routes.hpp"
#include "model/json.hpp"
#include "model/value_rules.hpp"

namespace {

using namespace cqrs;
using json = nlohmann::json;

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "request_fuzzer: invariant broken: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok)
    broken(what);
}

/// A domain with every column type and option, a single owned child and an
/// owned array whose items own an array.
const char* rich_domain_yaml = R"(
name: fuzz
tables:
  author:
    columns:
      name: text
      born: {type: integer, optional: true, min: 0, max: 3000}
  book:
    columns:
      title: {type: text, max_length: 20}
      isbn: {type: text, min_length: 10, max_length: 13}
      format: {type: text, one_of: [hardcover, paperback, ebook]}
      price: {type: number, min: 0, max: 1000}
      rating: {type: number, optional: true}
      pages: {type: integer, optional: true}
      in_print: boolean
      note: {type: text, optional: true, min_length: 0}
      author_id: {references: author}
  blurb:
    columns:
      book_id: {references: book}
      text: text
  copy:
    columns:
      book_id: {references: book}
      barcode: text
      branch: {type: text, optional: true}
  loan:
    columns:
      copy_id: {references: copy}
      member_id: {references: author}
      due: {type: integer, min: 0}
resources:
  authors: {table: author}
  books:
    table: book
    owns:
      blurb: {table: blurb, by: book_id}
      copies:
        table: copy
        by: book_id
        many: true
        max_items: 3
        owns:
          loans: {table: loan, by: copy_id, many: true, max_items: 2}
views:
  books:
    from: book
    fields: {id: book.id, title: book.title}
)";

struct domains {
  std::shared_ptr<const domain> objects = builtin_domain();
  std::optional<domain> rich;
  std::unique_ptr<http::route_table> routes;

  domains() {
    domain_error err;
    rich = parse_domain(rich_domain_yaml, "<fuzz domain>", err);
    if (!objects || !rich) {
      std::fprintf(stderr, "request_fuzzer: %s\n", to_string(err).c_str());
      std::abort();
    }
    routes = std::make_unique<http::route_table>(*objects);
  }
};

const domains& the_domains() {
  static const domains instance;
  return instance;
}

// Takes the next line off `in` (without its '\n'); all of `in` if none.
std::string_view next_line(std::string_view& in) {
  auto end = in.find('\n');
  auto line = in.substr(0, end);
  in.remove_prefix(end == std::string_view::npos ? in.size() : end + 1);
  return line;
}

// The body the gateway sends for an error must be JSON of the documented
// shape, whatever bytes the message quotes.
void check_error_json(std::string_view code, std::string_view message) {
  auto body = json::parse(cqrs::error_json(code, message), nullptr, false);
  check(!body.is_discarded(), "error_json is not JSON");
  check(body.is_object() && body.size() == 1 && body.contains("error") &&
            body["error"]["code"].is_string() &&
            body["error"]["message"].is_string(),
        "error_json has the wrong shape");
}

// -- the oracle: rows as a plain JSON parser reads them -----------------------

field_value value_of(const column_decl& c, const json& v) {
  if (v.is_null())
    return {};
  if (v.is_boolean())
    return field_value::of_boolean(v.get<bool>());
  if (v.is_string())
    return field_value::of_text(v.get<std::string>());
  if (c.type == column_type::number)
    return field_value::of_number(v.get<double>());
  return field_value::of_integer(v.get<int64_t>());
}

void expect_rows(const domain& d, const resource_decl& r, size_t node,
                 const json& obj, int32_t parent, std::vector<row_write>& out) {
  const auto& n = r.nodes[node];
  const auto& table = d.tables[n.table];
  row_write row;
  row.node = static_cast<uint16_t>(node);
  row.parent = parent;
  for (size_t i = 0; i < table.columns.size(); ++i) {
    auto at = obj.find(table.columns[i].name);
    bool by = n.parent >= 0 && i == n.by;
    row.values.push_back(by || at == obj.end()
                             ? field_value{}
                             : value_of(table.columns[i], *at));
  }
  auto self = static_cast<int32_t>(out.size());
  out.push_back(std::move(row));
  for (auto child : n.children) {
    const auto& field = obj.at(r.nodes[child].field);
    if (r.nodes[child].many)
      for (const auto& item : field)
        expect_rows(d, r, child, item, self, out);
    else
      expect_rows(d, r, child, field, self, out);
  }
}

// An accepted body: the rows are what the JSON says, and each value keeps
// its column's rules.
void check_command(const domain& d, size_t resource, const json& doc,
                   const command& cmd) {
  const auto& r = d.resources[resource];
  std::vector<row_write> expected;
  expect_rows(d, r, 0, doc, -1, expected);
  check(cmd.rows.size() == expected.size(), "a row too many or too few");
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& row = cmd.rows[i];
    check(row.node == expected[i].node && row.parent == expected[i].parent,
          "a row out of place");
    check(row.values == expected[i].values, "a value differs from the body");
    const auto& n = r.nodes[row.node];
    const auto& columns = d.tables[n.table].columns;
    for (size_t c = 0; c < columns.size(); ++c) {
      const auto& col = columns[c];
      const auto& v = row.values[c];
      bool by = n.parent >= 0 && c == n.by;
      if (v.is_null()) {
        check(by || col.optional, "null in a required column");
        continue;
      }
      check(!by, "a value in a by column");
      switch (col.type) {
      case column_type::text:
        check(v.kind == value_kind::text &&
                  check_text(col, v.text) == value_fault::none,
              "stored text breaks its column's rules");
        break;
      case column_type::integer:
      case column_type::reference:
        check(v.kind == value_kind::integer &&
                  check_integer(col, v.integer) == value_fault::none,
              "stored integer breaks its column's rules");
        break;
      case column_type::number:
        check(v.kind == value_kind::number && std::isfinite(v.number) &&
                  check_number(col, v.number) == value_fault::none,
              "stored number breaks its column's rules");
        break;
      case column_type::boolean:
        check(v.kind == value_kind::boolean, "stored boolean is no boolean");
        break;
      }
    }
  }
  // Items per parent within max_items.
  for (size_t i = 1; i < cmd.rows.size(); ++i) {
    size_t siblings = 0;
    for (size_t j = 1; j < cmd.rows.size(); ++j)
      siblings += cmd.rows[j].parent == cmd.rows[i].parent &&
                  cmd.rows[j].node == cmd.rows[i].node;
    check(siblings <= r.nodes[cmd.rows[i].node].max_items,
          "more items than max_items");
  }
}

// Parses `body` as nlohmann does; `overflow` tells whether it stopped at a
// number beyond the range of a double, which is valid JSON.
json parse_body(std::string_view body, bool& overflow) {
  overflow = false;
  if (body.find('\0') != std::string_view::npos)
    return json(json::value_t::discarded);
  try {
    return json::parse(body.begin(), body.end());
  } catch (const json::exception& e) {
    overflow = e.id == 406;
    return json(json::value_t::discarded);
  }
}

void drive_bodies(const domain& d, row_id id, std::string_view body) {
  bool overflow = false;
  auto doc = parse_body(body, overflow);
  // One resource and operation per input, picked by the body itself: each
  // execution parses the body once per domain instead of once per resource
  // and operation (13 times), so the fuzzer tries many more bodies, and a
  // mutation still reaches every resource.
  auto pick = std::hash<std::string_view>{}(body);
  auto r = pick % d.resources.size();
  auto op = (pick / d.resources.size()) % 2 == 0 ? operation::create
                                                 : operation::update;
  validation_error err;
  auto cmd = parse_command(d, op, r, id, body, err);
  if (cmd) {
    check(cmd->op == op && cmd->resource == r && cmd->id == id,
          "parse_command changed the command's address");
    check(!doc.is_discarded(), "accepted a body that is not JSON");
    check_command(d, r, doc, *cmd);
  } else {
    check(!err.message.empty(), "a rejected body without a message");
    bool syntax = err.message.rfind("request body is not valid JSON", 0) == 0;
    // A number out of range stops both parsers where it stands: it is
    // named as the field's fault when it sits in a field.
    bool out_of_range =
        err.message.find("is out of range (a number beyond the range of "
                         "a double)") != std::string::npos;
    check(syntax == doc.is_discarded() || (out_of_range && overflow),
          "JSON and not JSON told apart wrongly");
    check_error_json("bad_request", err.message);
  }
  validation_error remove_err;
  check(parse_command(d, operation::remove, 0, 1, body, remove_err).has_value(),
        "a remove was rejected for its body");
}

// -- query strings ------------------------------------------------------------

// Which column types had a refusal's error body checked in this input.
using refusals_checked =
    std::array<bool, static_cast<size_t>(column_type::reference) + 1>;

// Parses `value` as a filter on every column of `d`: what is accepted reads
// back as the text it came from. A refusal's error body is checked once per
// column type and input (`refusal_checked`): the messages of one type differ
// only in the column's name and the value, and parsing each back took most of
// an execution's time; the last check of an input covers any bytes.
void drive_filter_value(const domain& d, std::string_view value,
                        refusals_checked& refusal_checked) {
  for (const auto& t : d.tables)
    for (const auto& c : t.columns) {
      std::string why;
      auto v = parse_filter_value(c, c.name, value, why);
      if (!v) {
        check(why.rfind(c.name, 0) == 0, "a filter error not naming it");
        auto& checked = refusal_checked[static_cast<size_t>(c.type)];
        if (!checked)
          check_error_json("bad_request", why);
        checked = true;
        continue;
      }
      switch (c.type) {
      case column_type::reference:
        check(v->integer > 0 && std::to_string(v->integer) == value,
              "a reference filter does not round-trip");
        break;
      case column_type::integer:
        check(std::to_string(v->integer) == value || value == "-0",
              "an integer filter does not round-trip");
        break;
      case column_type::boolean:
        check(value == (v->integer ? "true" : "false"),
              "a boolean filter does not round-trip");
        break;
      case column_type::number:
        check(std::isfinite(v->number), "a number filter is not finite");
        break;
      case column_type::text:
        check(v->text == value && check_text(c, value) == value_fault::none,
              "a text filter breaks its column's rules");
        break;
      }
    }
}

void drive_query(std::string_view query, const http::route_match& m) {
  const auto& ds = the_domains();
  refusals_checked refusal_checked{};
  while (!query.empty()) {
    auto end = query.find('&');
    auto param = query.substr(0, end);
    query.remove_prefix(end == std::string_view::npos ? query.size() : end + 1);
    auto eq = param.find('=');
    auto name = param.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view{}
                                              : param.substr(eq + 1);
    if (name == "after" || name == "limit") {
      if (auto x = http::parse_u64(value))
        check(std::to_string(*x) == value || value[0] == '0',
              "parse_u64 does not round-trip");
      continue;
    }
    drive_filter_value(*ds.rich, value, refusal_checked);
    if (m.view && ds.objects->views[*m.view].list)
      for (const auto& f : ds.objects->views[*m.view].list->filters)
        if (f.name == name) {
          const auto& v = ds.objects->views[*m.view];
          const auto& col = ds.objects->tables[v.scope.sources[f.source].table]
                                .columns[f.column_index];
          std::string why;
          if (auto x = parse_filter_value(col, name, value, why))
            check(x->integer > 0, "a category_id filter that is no id");
        }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& ds = the_domains();
  std::string_view in{reinterpret_cast<const char*>(data), size};
  auto method = next_line(in);
  auto target = next_line(in);
  auto min_seq = next_line(in);
  auto content_type = next_line(in);
  auto body = in;

  // -- routing ----------------------------------------------------------------
  auto qmark = target.find('?');
  auto path = target.substr(0, qmark);
  auto m = ds.routes->match(path);
  check(m.index < ds.routes->size(), "a route index out of range");
  check(!ds.routes->pattern(m.index).empty(), "a route without a pattern");
  check(m.kind != http::route_kind::unknown ||
            !ds.routes->allows(m.index, method),
        "a method is allowed on the unknown route");
  check(!(m.bad_id && m.id != 0), "a bad id with an id");
  if (m.id != 0)
    check(std::to_string(m.id) == path.substr(path.rfind('/') + 1),
          "a matched id differs from its path segment");
  if (qmark != std::string_view::npos)
    drive_query(target.substr(qmark + 1), m);

  // -- headers ----------------------------------------------------------------
  if (auto seq = http::parse_u64(min_seq))
    check(min_seq.size() <= 20, "parse_u64 accepted over 20 digits");
  if (http::is_json_media_type(content_type)) {
    std::string lower{content_type};
    for (auto& ch : lower)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    check(lower.find("json") != std::string::npos,
          "a media type without json taken for JSON");
  }
  check(http::constant_time_equal(content_type, content_type),
        "constant_time_equal is not reflexive");
  check(!http::constant_time_equal(content_type,
                                   std::string{content_type} + '\0'),
        "constant_time_equal ignores a trailing byte");

  // -- bodies, for every resource of both domains -----------------------------
  drive_bodies(*ds.objects, m.id, body);
  drive_bodies(*ds.rich, m.id, body);
  // Any bytes as code and message: this covers every error the gateway
  // quotes a request's bytes in (its path, its Content-Type, a value).
  check_error_json(method, body);
  return 0;
}
