// The configuration reference (the README's table) and config/default.yaml
// checked against the settings parser, which declares every key, default
// and range: a range or default changed in one place and not the others
// fails here.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/settings.hpp"
#include "fixtures/text_file.hpp"

using namespace cqrs;

namespace {

using test::read_text;

/// One row of the README's configuration table.
struct reference_row {
  std::string key;  // "query.actors"
  std::string type; // string, enum, integer or bool
  std::string fallback;
  std::string range;
};

std::string trim(std::string s) {
  auto first = s.find_first_not_of(' ');
  auto last = s.find_last_not_of(' ');
  return first == std::string::npos ? "" : s.substr(first, last - first + 1);
}

/// `text` without one pair of surrounding backticks.
std::string unquote(std::string text) {
  if (text.size() >= 2 && text.front() == '`' && text.back() == '`')
    text = text.substr(1, text.size() - 2);
  return text == "\"\"" ? "" : text;
}

/// The rows of the table under "## Configuration" that document a key.
std::vector<reference_row> reference_rows() {
  auto text = read_text(CQRSD_SOURCE_DIR "/README.md");
  auto start = text.find("\n## Configuration\n");
  BOOST_REQUIRE(start != std::string::npos);
  auto end = text.find("\n## ", start + 1);
  std::istringstream section{text.substr(start, end - start)};
  std::regex row{R"(^\| `([a-z_.]+)` \|([^|]*)\|([^|]*)\|([^|]*)\|)"};
  std::vector<reference_row> result;
  std::string line;
  while (std::getline(section, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, row))
      continue;
    result.push_back({m[1], trim(m[2]), unquote(trim(m[3])), trim(m[4])});
  }
  return result;
}

/// The YAML text that sets `key` ("a.b.c") to `value`.
std::string yaml_setting(const std::string& key, const std::string& value) {
  std::string result;
  std::string indent;
  size_t pos = 0;
  for (;;) {
    auto dot = key.find('.', pos);
    auto name = key.substr(pos, dot - pos);
    if (dot == std::string::npos) {
      result += indent + name + ": " + value + "\n";
      return result;
    }
    result += indent + name + ":\n";
    indent += "  ";
    pos = dot + 1;
  }
}

/// The node of `key` in `root`, if it is there.
std::optional<YAML::Node> lookup(const YAML::Node& root,
                                 const std::string& key) {
  YAML::Node node = YAML::Clone(root);
  size_t pos = 0;
  for (;;) {
    auto dot = key.find('.', pos);
    auto name = key.substr(pos, dot - pos);
    if (!node.IsMap() || !node[name])
      return std::nullopt;
    node = node[name];
    if (dot == std::string::npos)
      return node;
    pos = dot + 1;
  }
}

/// Every scalar key of `node`, dotted, with its value.
void leaves(const YAML::Node& node, const std::string& prefix,
            std::map<std::string, std::string>& out) {
  for (const auto& entry : node) {
    auto key = prefix + entry.first.as<std::string>();
    if (entry.second.IsMap())
      leaves(entry.second, key + ".", out);
    else
      out[key] = entry.second.as<std::string>();
  }
}

/// "A..B" at the start of an integer key's range.
std::optional<std::pair<unsigned long long, unsigned long long>>
integer_range(const std::string& range) {
  std::smatch m;
  static const std::regex bounds{R"(^([0-9]+)\.\.([0-9]+))"};
  if (!std::regex_search(range, m, bounds))
    return std::nullopt;
  return std::make_pair(std::stoull(m[1]), std::stoull(m[2]));
}

} // namespace

BOOST_AUTO_TEST_SUITE(config_reference)

BOOST_AUTO_TEST_CASE(the_reference_documents_many_keys) {
  auto rows = reference_rows();
  BOOST_TEST(rows.size() >= 40u);
  std::set<std::string> keys;
  for (const auto& r : rows) {
    BOOST_TEST((r.type == "string" || r.type == "enum" || r.type == "integer" ||
                r.type == "bool" || r.type == "string or list"),
               r.key << ": type '" << r.type << "'");
    BOOST_TEST(keys.insert(r.key).second, r.key << " is documented twice");
  }
}

BOOST_AUTO_TEST_CASE(every_integer_range_is_the_parsers) {
  for (const auto& r : reference_rows()) {
    if (r.type != "integer")
      continue;
    BOOST_TEST_CONTEXT(r.key << " (README: " << r.range << ")") {
      auto bounds = integer_range(r.range);
      BOOST_TEST_REQUIRE(bounds.has_value());
      auto [low, high] = *bounds;
      auto expected = "expected an integer in " + std::to_string(low) + ".." +
                      std::to_string(high);
      std::vector<unsigned long long> outside{high + 1};
      if (low > 0)
        outside.push_back(low - 1);
      for (auto value : outside) {
        config_error err;
        auto parsed =
            parse_settings(yaml_setting(r.key, std::to_string(value)), err);
        BOOST_TEST(!parsed.has_value(), value << " was accepted");
        BOOST_TEST(err.key == r.key);
        BOOST_TEST(err.message.find(expected) != std::string::npos,
                   "the parser says '" << err.message << "' for " << value);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(every_enum_value_is_accepted_and_nothing_else) {
  for (const auto& r : reference_rows()) {
    if (r.type != "enum" && r.type != "bool")
      continue;
    BOOST_TEST_CONTEXT(r.key << " (README: " << r.range << ")") {
      std::regex value{"`([a-z_]+)`"};
      size_t values = 0;
      for (std::sregex_iterator i{r.range.begin(), r.range.end(), value}, end;
           i != end; ++i, ++values) {
        // The value may need other settings (e.g. a connection string for
        // the postgresql backend): only a refusal of this key counts.
        config_error err;
        auto parsed = parse_settings(yaml_setting(r.key, (*i)[1]), err);
        BOOST_TEST(
            (parsed.has_value() ||
             err.message.find("'" + (*i)[1].str() + "'") == std::string::npos),
            (*i)[1] << ": " << to_string(err));
      }
      BOOST_TEST(values >= 2u);
      config_error err;
      BOOST_TEST(!parse_settings(yaml_setting(r.key, "no_such_value"), err)
                      .has_value());
      BOOST_TEST(err.key == r.key);
    }
  }
}

BOOST_AUTO_TEST_CASE(default_yaml_holds_the_documented_defaults) {
  auto path = std::string{CQRSD_SOURCE_DIR} + "/config/default.yaml";
  auto root = YAML::LoadFile(path);
  auto rows = reference_rows();
  std::map<std::string, std::string> set_there;
  leaves(root, "", set_there);
  std::set<std::string> documented;
  for (const auto& r : rows) {
    documented.insert(r.key);
    auto node = lookup(root, r.key);
    if (!node) {
      // Only optional strings, empty by default, may be left out.
      BOOST_TEST((r.type == "string" && r.fallback.empty()),
                 r.key << " is not in default.yaml");
      continue;
    }
    BOOST_TEST(node->as<std::string>() == r.fallback,
               r.key << ": default.yaml says '" << node->as<std::string>()
                     << "', the README '" << r.fallback << "'");
  }
  for (const auto& [key, value] : set_there)
    BOOST_TEST(documented.count(key) == 1u,
               key << " is in default.yaml but not in the README");
}

BOOST_AUTO_TEST_CASE(default_yaml_comments_give_the_same_ranges) {
  auto text = read_text(CQRSD_SOURCE_DIR "/config/default.yaml");
  for (const auto& r : reference_rows()) {
    auto bounds = integer_range(r.range);
    if (r.type != "integer" || !bounds)
      continue;
    BOOST_TEST_CONTEXT(r.key) {
      auto name = r.key.substr(r.key.rfind('.') + 1);
      auto section = r.key.substr(0, r.key.find('.'));
      // The comment lines right above "  name:" in the key's section.
      auto at = text.find("\n" + section + ":\n");
      BOOST_TEST_REQUIRE(at != std::string::npos);
      auto line = text.find("\n  " + name + ":", at);
      BOOST_TEST_REQUIRE(line != std::string::npos);
      auto comment_start = line;
      while (comment_start > 0) {
        auto previous = text.rfind('\n', comment_start - 1);
        if (previous == std::string::npos ||
            text.compare(previous + 1, 3, "  #") != 0)
          break;
        comment_start = previous;
      }
      auto comment = text.substr(comment_start, line - comment_start);
      auto range =
          std::to_string(bounds->first) + ".." + std::to_string(bounds->second);
      BOOST_TEST(comment.find(range) != std::string::npos,
                 "the comment above " << name << " does not say " << range
                                      << ":" << comment);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
