// Cluster tests with declared domains, against real processes on loopback
// sharing one PostgreSQL database (CQRSD_TEST_POSTGRESQL, started by
// scripts/test.sh): a query node of another domain refuses to link and says
// so, a cluster serving domains/library.yaml writes and reads fresh on every
// node, and comments and key order do not make a domain another one.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "fixtures/cluster.hpp"
#include "fixtures/cqrsd_process.hpp"

using namespace cqrs::test;
using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

/// How long a query node may take to (re)link, or to be refused.
constexpr auto link_timeout = 20s;

/// How long a line may take to reach a node's log.
constexpr auto log_timeout = 10s;

// -- files --------------------------------------------------------------------

std::string source_file(const std::string& relative) {
  auto path = std::string{CQRSD_SOURCE_DIR} + "/" + relative;
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The shipped library domain, domains/library.yaml.
std::string library_path() {
  return std::string{CQRSD_SOURCE_DIR} + "/domains/library.yaml";
}

/// Node options that serve the domain file at `path`.
test_cluster::node_options serving(const std::string& path) {
  test_cluster::node_options opts;
  opts.settings["domain"] = quote_yaml(path);
  return opts;
}

// -- the same domain, written differently ------------------------------------

/// Mappings whose key order the canonical form keeps (model/domain.hpp,
/// `canonical_text`): the order of columns, owned fields, fields,
/// collections and filters shows in tables and answers. Every other mapping
/// may be written in any order.
bool keeps_order(const std::string& key) {
  return key == "columns" || key == "owns" || key == "fields" ||
         key == "collections" || key == "filters";
}

/// A scalar as YAML text: plain when that reads back the same, else quoted.
std::string scalar_text(const YAML::Node& node) {
  auto text = node.Scalar();
  bool plain = !text.empty() &&
               text.find_first_of(":#{}[],&*!|>'\"%@`") == std::string::npos &&
               text.front() != ' ' && text.back() != ' ' &&
               text.front() != '-' && text.front() != '?';
  return plain ? text : json(text).dump();
}

/// Writes `map` as block YAML at `indent`, every mapping in reverse order
/// unless `ordered` (see `keeps_order`), with a comment line above each key
/// and a comment after each scalar. Sequences hold scalars only (true of
/// every sequence a domain file has).
void write_reordered(std::ostream& out, const YAML::Node& map, int indent,
                     bool ordered) {
  // Node handles are kept, never assigned: assigning a YAML::Node writes
  // into the node it refers to (so std::reverse would scramble the tree).
  std::vector<std::pair<std::string, YAML::Node>> entries;
  for (const auto& entry : map)
    entries.emplace_back(entry.first.Scalar(), entry.second);
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = ordered ? i : order.size() - 1 - i;
  std::string pad(static_cast<size_t>(indent), ' ');
  for (auto i : order) {
    const auto& [key, value] = entries[i];
    out << pad << "# " << (ordered ? "in declared order: " : "moved: ") << key
        << "\n";
    if (value.IsScalar()) {
      out << pad << key << ": " << scalar_text(value) << "  # was " << key
          << "\n";
    } else if (value.IsSequence()) {
      out << pad << key << ":  # a list keeps its order\n";
      for (const auto& item : value) {
        if (!item.IsScalar())
          throw std::logic_error("write_reordered: a sequence of non-scalars "
                                 "under '" +
                                 key + "'");
        out << pad << "  - " << scalar_text(item) << "  # item\n";
      }
    } else if (value.IsMap()) {
      out << pad << key << ":\n";
      write_reordered(out, value, indent + 2, keeps_order(key));
    } else {
      throw std::logic_error("write_reordered: a null value under '" + key +
                             "'");
    }
  }
}

/// `yaml_text` with the same meaning in another text: comments added and
/// removed, flow style turned into block style, and the keys of every
/// mapping whose order does not count reversed.
std::string reordered(const std::string& yaml_text) {
  std::ostringstream out;
  out << "# The library domain, reordered by the cluster_domains suite.\n\n";
  write_reordered(out, YAML::Load(yaml_text), 0, false);
  return out.str();
}

/// The top-level keys of a YAML mapping, in the order of the text.
std::vector<std::string> top_level_keys(const std::string& yaml_text) {
  std::vector<std::string> keys;
  for (const auto& entry : YAML::Load(yaml_text))
    keys.push_back(entry.first.Scalar());
  return keys;
}

// -- what nodes say -----------------------------------------------------------

/// The domain that /status of a node names.
struct served_domain {
  std::string name;
  std::string digest;
};

bool is_hex_digest(const std::string& text) {
  return text.size() == 64 &&
         text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

/// /status of `node`, which must answer 200 with a JSON object.
json status_of(cqrsd_process& node) {
  auto a = node.get("/status");
  BOOST_TEST_REQUIRE(a.status == 200, node.name()
                                          << ": /status " << a.describe());
  auto body = a.json_body();
  BOOST_TEST_REQUIRE(body.is_object(), node.name() << ": /status " << a.body);
  return body;
}

/// The domain in /status of `node`: `{"name", "digest"}` with a digest of
/// 64 lower-case hex digits.
served_domain domain_of(cqrsd_process& node) {
  auto status = status_of(node);
  BOOST_TEST_REQUIRE((status.contains("domain") &&
                      status["domain"].is_object() &&
                      status["domain"].value("name", json{}).is_string() &&
                      status["domain"].value("digest", json{}).is_string()),
                     node.name() << ": /status has no domain.name and "
                                    "domain.digest: "
                                 << status.dump());
  served_domain d{status["domain"]["name"].get<std::string>(),
                  status["domain"]["digest"].get<std::string>()};
  BOOST_TEST(is_hex_digest(d.digest),
             node.name() << ": the digest is not 64 hex digits: " << d.digest);
  return d;
}

/// Requires /readyz of `node` to show it linked with its caches in use.
void require_linked(const cqrsd_process& node) {
  auto state = wait_link_state(node, "linked", "in_use", link_timeout);
  BOOST_TEST_REQUIRE(state.is("linked", "in_use"),
                     node.name()
                         << ": /readyz did not show the node linked "
                            "with caches in use within "
                         << link_timeout.count() << " s; last: " << state.raw);
}

/// Whether `a` is the error `status` with `error.code` == `code`.
bool is_error(const http_answer& a, int status, const std::string& code) {
  auto body = a.json_body();
  return a.status == status && body.is_object() && body.contains("error") &&
         body["error"].is_object() && body["error"].value("code", "") == code;
}

// -- writes and reads ---------------------------------------------------------

httplib::Headers min_seq_header(int64_t seq) {
  return {{"X-Min-Seq", std::to_string(seq)}};
}

std::string path(const std::string& segment, int64_t id) {
  return segment + "/" + std::to_string(id);
}

/// The writes of one test, through any node: each must be acknowledged with
/// `{"id","seq"}`, the seq one past the previous one and in X-Seq too.
struct writer {
  int64_t last_seq = 0;

  int64_t write(cqrsd_process& node, const std::string& method,
                const std::string& target, const json& body, int status) {
    auto a = body.is_null() ? node.request(method, target)
                            : node.request(method, target, body.dump());
    BOOST_TEST_REQUIRE(a.status == status,
                       node.name() << ": " << method << ' ' << target << ' '
                                   << body.dump() << ": " << a.describe());
    auto ack = a.json_body();
    BOOST_TEST_REQUIRE((ack.is_object() && ack.size() == 2 &&
                        ack.value("id", json{}).is_number_integer() &&
                        ack.value("seq", json{}).is_number_integer()),
                       node.name() << ": not {\"id\",\"seq\"}: " << a.body);
    auto seq = ack["seq"].get<int64_t>();
    BOOST_TEST(seq == last_seq + 1, node.name() << ": " << method << ' '
                                                << target << ": seq " << seq
                                                << " after " << last_seq);
    BOOST_TEST((a.x_seq() == std::optional<int64_t>{seq}),
               node.name() << ": X-Seq differs from the acknowledged seq: "
                           << a.describe());
    last_seq = seq;
    return ack["id"].get<int64_t>();
  }

  int64_t create(cqrsd_process& node, const std::string& segment,
                 const json& body) {
    return write(node, "POST", segment, body, 201);
  }
};

/// Reads `target` through `node` with X-Min-Seq `seq`; requires 200 with a
/// JSON object and an X-Seq of at least `seq`. Returns the body's text.
std::string read_fresh(cqrsd_process& node, const std::string& target,
                       int64_t seq) {
  auto a = node.get(target, min_seq_header(seq));
  BOOST_TEST_REQUIRE(a.status == 200, node.name() << ": GET " << target
                                                  << " with X-Min-Seq " << seq
                                                  << ": " << a.describe());
  BOOST_TEST(a.x_seq().value_or(-1) >= seq,
             node.name() << ": GET " << target << " with X-Min-Seq " << seq
                         << ": " << a.describe());
  BOOST_TEST_REQUIRE(a.json_body().is_object(),
                     node.name() << ": GET " << target << ": " << a.body);
  return a.body;
}

/// Reads `target` with X-Min-Seq `seq` through every node of `nodes`,
/// twice each (the second may come from a cache), and requires one body
/// from all of them. Returns it, parsed with its key order.
ordered_json read_everywhere(const std::vector<cqrsd_process*>& nodes,
                             const std::string& target, int64_t seq) {
  std::optional<std::string> first;
  std::string first_node;
  for (auto* node : nodes)
    for (int i = 0; i < 2; ++i) {
      auto body = read_fresh(*node, target, seq);
      if (!first) {
        first = body;
        first_node = node->name();
        continue;
      }
      BOOST_TEST(body == *first, "GET " << target << " with X-Min-Seq " << seq
                                        << ": " << node->name() << " answered "
                                        << body << ", " << first_node
                                        << " answered " << *first);
    }
  return ordered_json::parse(*first);
}

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_domains)

// -- 1. a query node of another domain ----------------------------------------

BOOST_AUTO_TEST_CASE(query_node_of_another_domain_refuses_to_link) {
  test_cluster c;
  // The query node's domain file lives in the cluster's folder, so that it
  // can be rewritten before the node starts again.
  auto q_domain_path =
      c.write_file("q1-domain.yaml", source_file("domains/"
                                                 "library.yaml"));
  BOOST_TEST_MESSAGE("the command node serves the built-in domain");
  auto& cmd = c.start_command();
  auto cmd_domain = domain_of(cmd);
  BOOST_TEST(cmd_domain.name == "objects");

  // A query node refused from its first link attempt on would never answer
  // /readyz 200, which the fixture waits for. So it starts while the
  // command node is down (then it is ready, unlinked), and the command node
  // comes back after it.
  BOOST_TEST_MESSAGE("query node q1 serves domains/library.yaml and starts "
                     "while the command node is down");
  BOOST_TEST_REQUIRE(cmd.stop() == 0);
  auto& q1 = c.start_query("q1", serving(q_domain_path));
  auto q_domain = domain_of(q1);
  BOOST_TEST(q_domain.name == "library");
  BOOST_TEST_REQUIRE(q_domain.digest != cmd_domain.digest);
  cmd.start();

  BOOST_TEST_MESSAGE("the command node refuses q1's link: /readyz answers 503 "
                     "domain_mismatch");
  auto state = wait_link_error(q1, 503, "domain_mismatch", link_timeout);
  BOOST_TEST_REQUIRE(
      (state.status == 503 && state.error_code == "domain_mismatch"),
      "q1: /readyz did not answer 503 domain_mismatch within "
          << link_timeout.count() << " s; last: " << state.raw);
  BOOST_TEST(state.raw.find("library") != std::string::npos, state.raw);
  BOOST_TEST(state.raw.find(q_domain.digest) != std::string::npos, state.raw);

  BOOST_TEST_MESSAGE("q1's log names the refusal and both digests");
  auto refusals = wait_log_lines(q1, "refused to link", log_timeout);
  BOOST_TEST_REQUIRE(!refusals.empty(),
                     "q1's log never says that the command node refused to "
                     "link; log:\n"
                         << q1.log());
  const auto& line = refusals.front();
  BOOST_TEST(line.find(cmd_domain.digest) != std::string::npos, line);
  BOOST_TEST(line.find(q_domain.digest) != std::string::npos, line);
  BOOST_TEST(line.find("'objects'") != std::string::npos, line);
  auto refused_hubs = wait_log_lines(cmd, "refused hub", log_timeout);
  BOOST_TEST(!refused_hubs.empty(), "the command node's log never says that "
                                    "it refused a hub; log:\n"
                                        << cmd.log());
  if (!refused_hubs.empty())
    BOOST_TEST(refused_hubs.front().find(q_domain.digest) != std::string::npos,
               refused_hubs.front());

  BOOST_TEST_MESSAGE("/status of q1 shows the other domain and its own");
  auto status = status_of(q1);
  BOOST_TEST(status.value("command_node", "") == "another_domain",
             status.dump());
  BOOST_TEST(status.value("role", "") == "query", status.dump());
  auto shown = domain_of(q1);
  BOOST_TEST(shown.name == "library");
  BOOST_TEST(shown.digest == q_domain.digest);

  BOOST_TEST_MESSAGE("a write through q1 answers 503 domain_mismatch and "
                     "changes nothing");
  auto a = q1.post("/countries", {{"code", "NO"}, {"name", "Norway"}});
  BOOST_TEST(is_error(a, 503, "domain_mismatch"), a.describe());
  BOOST_TEST(!a.header("Retry-After").empty(), a.describe());
  BOOST_TEST(status_of(cmd).value("seq", int64_t{-1}) == 0);

  BOOST_TEST_MESSAGE("the refusal lasts: q1 retries and is refused again");
  auto before = matching_lines(cmd.log(), "refused hub").size();
  auto deadline = clock_type::now() + link_timeout;
  while (matching_lines(cmd.log(), "refused hub").size() <= before &&
         clock_type::now() < deadline)
    std::this_thread::sleep_for(50ms);
  BOOST_TEST(matching_lines(cmd.log(), "refused hub").size() > before,
             "q1 did not try to link again within " << link_timeout.count()
                                                    << " s");
  state = read_link_state(q1);
  BOOST_TEST((state.status == 503 && state.error_code == "domain_mismatch"),
             state.raw);

  BOOST_TEST_MESSAGE("q1 restarted on domains/objects.yaml (the built-in "
                     "domain's file) links");
  BOOST_TEST_REQUIRE(q1.stop() == 0);
  c.write_file("q1-domain.yaml", source_file("domains/objects.yaml"));
  q1.start();
  require_linked(q1);
  status = status_of(q1);
  BOOST_TEST(status.value("command_node", "") == "linked", status.dump());
  auto relinked = domain_of(q1);
  BOOST_TEST(relinked.name == "objects");
  BOOST_TEST(relinked.digest == cmd_domain.digest);
  writer w;
  auto category = w.create(q1, "/categories", {{"description", "via q1"}});
  for (auto* node : {&q1, &cmd}) {
    auto body = json::parse(
        read_fresh(*node, path("/categories", category), w.last_seq));
    BOOST_TEST(body == (json{{"id", category}, {"description", "via q1"}}),
               node->name() << ": " << body.dump());
  }
}

// -- 2. a cluster serving the library domain ----------------------------------

BOOST_AUTO_TEST_CASE(library_domain_cluster_reads_fresh_on_every_node) {
  test_cluster c;
  BOOST_TEST_MESSAGE("the command node and query node q1 serve "
                     "domains/library.yaml on PostgreSQL database "
                     << c.database().database);
  auto& cmd = c.start_command(serving(library_path()));
  auto& q1 = c.start_query("q1", serving(library_path()));
  require_linked(q1);
  auto cmd_domain = domain_of(cmd);
  auto q_domain = domain_of(q1);
  BOOST_TEST(cmd_domain.name == "library");
  BOOST_TEST(q_domain.name == "library");
  BOOST_TEST(q_domain.digest == cmd_domain.digest);
  std::vector<cqrsd_process*> nodes{&q1, &cmd};

  BOOST_TEST_MESSAGE("a country, an author, two branches and a book with two "
                     "copies, written through q1");
  writer w;
  auto norway =
      w.create(q1, "/countries", {{"code", "NO"}, {"name", "Norway"}});
  auto ibsen = w.create(
      q1, "/authors",
      {{"name", "Henrik Ibsen"}, {"country_id", norway}, {"born", 1828}});
  auto central =
      w.create(q1, "/branches", {{"name", "Central"}, {"city", "Oslo"}});
  auto harbour =
      w.create(q1, "/branches", {{"name", "Harbour"}, {"city", "Bergen"}});
  json copies = json::array({{{"barcode", "B-0001"},
                              {"branch_id", central},
                              {"loans", json::array()}},
                             {{"barcode", "B-0002"},
                              {"branch_id", harbour},
                              {"loans", json::array()}}});
  auto doll_house = w.create(q1, "/books",
                             {{"title", "A Doll's House"},
                              {"isbn", "978-0-00-000001-1"},
                              {"format", "paperback"},
                              {"price", 12.5},
                              {"in_print", true},
                              {"author_id", ibsen},
                              {"copies", copies}});
  auto after_book = w.last_seq;

  BOOST_TEST_MESSAGE("the book reads the same on q1 and on the command node "
                     "with X-Min-Seq");
  auto book = read_everywhere(nodes, path("/books", doll_house), after_book);
  BOOST_TEST_REQUIRE((book.contains("copies") && book["copies"].is_array() &&
                      book["copies"].size() == 2),
                     book.dump());
  ordered_json expected_copies = ordered_json::array();
  for (size_t i = 0; i < 2; ++i) {
    const auto& got = book["copies"][i];
    BOOST_TEST_REQUIRE(got.value("id", ordered_json{}).is_number_integer(),
                       book.dump());
    expected_copies.push_back({{"id", got["id"]},
                               {"barcode", i == 0 ? "B-0001" : "B-0002"},
                               {"branch", i == 0 ? "Central" : "Harbour"},
                               {"loans", ordered_json::array()}});
  }
  ordered_json expected_book{{"id", doll_house},
                             {"title", "A Doll's House"},
                             {"isbn", "978-0-00-000001-1"},
                             {"format", "paperback"},
                             {"price", 12.5},
                             {"in_print", true},
                             {"author_id", ibsen},
                             {"author", "Henrik Ibsen"},
                             {"country", "Norway"},
                             {"copies", expected_copies}};
  BOOST_TEST(book.dump() == expected_book.dump());
  auto author = read_everywhere(nodes, path("/authors", ibsen), after_book);
  ordered_json expected_author{
      {"id", ibsen},
      {"name", "Henrik Ibsen"},
      {"born", 1828},
      {"country_id", norway},
      {"country", "Norway"},
      {"books", ordered_json::array({{{"id", doll_house},
                                      {"title", "A Doll's House"},
                                      {"isbn", "978-0-00-000001-1"}}})}};
  BOOST_TEST(author.dump() == expected_author.dump());
  auto branch = read_everywhere(nodes, path("/branches", harbour), after_book);
  BOOST_TEST(branch["copies"].dump() ==
                 ordered_json::array({{{"id", expected_copies[1]["id"]},
                                       {"barcode", "B-0002"},
                                       {"title", "A Doll's House"}}})
                     .dump(),
             branch.dump());
  auto list = read_everywhere(
      nodes, "/books?author_id=" + std::to_string(ibsen), after_book);
  BOOST_TEST(list.dump() ==
             (ordered_json{{"items", ordered_json::array({expected_book})},
                           {"next_after", nullptr}})
                 .dump());

  BOOST_TEST_MESSAGE("a PUT of the author through q1 shows on both nodes, in "
                     "the author and in the book that joins it");
  w.write(q1, "PUT", path("/authors", ibsen),
          {{"name", "H. Ibsen"}, {"country_id", norway}, {"born", 1828}}, 200);
  author = read_everywhere(nodes, path("/authors", ibsen), w.last_seq);
  expected_author["name"] = "H. Ibsen";
  BOOST_TEST(author.dump() == expected_author.dump());
  book = read_everywhere(nodes, path("/books", doll_house), w.last_seq);
  expected_book["author"] = "H. Ibsen";
  BOOST_TEST(book.dump() == expected_book.dump());

  BOOST_TEST_MESSAGE("and a PUT through the command node shows on q1");
  w.write(cmd, "PUT", path("/authors", ibsen),
          {{"name", "Henrik Johan Ibsen"}, {"country_id", norway}}, 200);
  author = read_everywhere(nodes, path("/authors", ibsen), w.last_seq);
  expected_author["name"] = "Henrik Johan Ibsen";
  expected_author["born"] = nullptr;
  BOOST_TEST(author.dump() == expected_author.dump());
  book = read_everywhere(nodes, path("/books", doll_house), w.last_seq);
  expected_book["author"] = "Henrik Johan Ibsen";
  BOOST_TEST(book.dump() == expected_book.dump());

  for (auto* node : nodes) {
    auto status = wait_applied_seq(*node, w.last_seq, 10s);
    BOOST_TEST(status.value("applied_seq", int64_t{-1}) == w.last_seq,
               node->name() << ": " << status.dump());
  }
}

// -- 3. comments and key order ------------------------------------------------

BOOST_AUTO_TEST_CASE(comments_and_key_order_keep_the_domain) {
  test_cluster c;
  auto original = source_file("domains/library.yaml");
  auto text = reordered(original);
  BOOST_TEST_REQUIRE(text != original);
  BOOST_TEST_REQUIRE((top_level_keys(text) != top_level_keys(original)),
                     "the rewritten file keeps the top-level key order:\n"
                         << text);
  auto q_domain_path = c.write_file("library-reordered.yaml", text);
  BOOST_TEST_MESSAGE("the command node serves domains/library.yaml, q1 the "
                     "same domain with comments and its keys reordered ("
                     << q_domain_path << ")");
  auto& cmd = c.start_command(serving(library_path()));
  auto& q1 = c.start_query("q1", serving(q_domain_path));
  require_linked(q1);
  auto cmd_domain = domain_of(cmd);
  auto q_domain = domain_of(q1);
  BOOST_TEST(q_domain.name == "library");
  BOOST_TEST(q_domain.digest == cmd_domain.digest);
  auto status = status_of(q1);
  BOOST_TEST(status.value("command_node", "") == "linked", status.dump());
  BOOST_TEST(matching_lines(q1.log(), "refused to link").empty(), q1.log());

  // A write crosses the link as a command naming its resource: with the
  // resources in another order, every resource must still reach its own
  // table, so each one is written once and read back on both nodes.
  BOOST_TEST_MESSAGE("a row of every resource, written through q1, reads the "
                     "same on both nodes");
  std::vector<cqrsd_process*> nodes{&q1, &cmd};
  writer w;
  auto norway =
      w.create(q1, "/countries", {{"code", "NO"}, {"name", "Norway"}});
  auto ibsen = w.create(q1, "/authors",
                        {{"name", "Henrik Ibsen"}, {"country_id", norway}});
  auto central =
      w.create(q1, "/branches", {{"name", "Central"}, {"city", "Oslo"}});
  auto ada = w.create(q1, "/members",
                      {{"name", "Ada"},
                       {"email", "ada@example.org"},
                       {"home_branch_id", central},
                       {"card", {{"number", "C0000001"}}}});
  json loans = json::array(
      {{{"member_id", ada}, {"due_on", "2026-01-31"}, {"returned", false}}});
  auto ghosts = w.create(q1, "/books",
                         {{"title", "Ghosts"},
                          {"isbn", "978-0-00-000002-2"},
                          {"format", "hardcover"},
                          {"price", 20},
                          {"in_print", false},
                          {"author_id", ibsen},
                          {"copies", json::array({{{"barcode", "G-0001"},
                                                   {"branch_id", central},
                                                   {"loans", loans}}})}});
  BOOST_TEST(
      read_everywhere(nodes, path("/countries", norway), w.last_seq).dump() ==
      (ordered_json{{"id", norway}, {"code", "NO"}, {"name", "Norway"}})
          .dump());
  auto author = read_everywhere(nodes, path("/authors", ibsen), w.last_seq);
  BOOST_TEST(author.value("name", "") == "Henrik Ibsen", author.dump());
  BOOST_TEST(author["books"].size() == 1u, author.dump());
  auto branch = read_everywhere(nodes, path("/branches", central), w.last_seq);
  BOOST_TEST(branch.value("city", "") == "Oslo", branch.dump());
  auto member = read_everywhere(nodes, path("/members", ada), w.last_seq);
  BOOST_TEST(member.value("card", "") == "C0000001", member.dump());
  BOOST_TEST(member.value("home_branch", "") == "Central", member.dump());
  BOOST_TEST(member["loans"].size() == 1u, member.dump());
  auto book = read_everywhere(nodes, path("/books", ghosts), w.last_seq);
  BOOST_TEST(book.value("title", "") == "Ghosts", book.dump());
  BOOST_TEST(book.value("author", "") == "Henrik Ibsen", book.dump());
  BOOST_TEST(book["copies"].size() == 1u, book.dump());

  BOOST_TEST_MESSAGE("a PUT and a DELETE through q1 change their own rows");
  w.write(q1, "PUT", path("/branches", central),
          {{"name", "Central"}, {"city", "Trondheim"}}, 200);
  branch = read_everywhere(nodes, path("/branches", central), w.last_seq);
  BOOST_TEST(branch.value("city", "") == "Trondheim", branch.dump());
  BOOST_TEST(w.write(q1, "DELETE", path("/books", ghosts), nullptr, 200) ==
             ghosts);
  for (auto* node : nodes) {
    auto a = node->get(path("/books", ghosts), min_seq_header(w.last_seq));
    BOOST_TEST(is_error(a, 404, "not_found"),
               node->name() << ": GET " << path("/books", ghosts)
                            << " after its DELETE: " << a.describe());
  }
  author = read_everywhere(nodes, path("/authors", ibsen), w.last_seq);
  BOOST_TEST(author["books"].empty(), author.dump());
  member = read_everywhere(nodes, path("/members", ada), w.last_seq);
  BOOST_TEST(member["loans"].empty(), member.dump());
}

BOOST_AUTO_TEST_SUITE_END()
