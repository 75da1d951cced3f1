// libFuzzer target: loading a domain file. parse_domain must turn any text
// into either a checked domain or an error that says where and what is
// wrong; it must never crash, hang, throw out of itself or leak.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/domain_file.hpp"
#include "model/domain.hpp"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "domain_fuzzer: invariant broken: %s\n", what);
    std::abort();
  }
}

// What derive promises for a domain that loaded: every index in range.
void check_scope(const cqrs::domain& d, const cqrs::view_scope& s) {
  check(!s.sources.empty() && s.sources.size() <= cqrs::max_view_tables,
        "a scope's table count");
  for (const auto& src : s.sources)
    check(src.table < d.tables.size(), "a source's table");
  check(s.resolved.size() == s.fields.size(), "every field resolved");
  for (const auto& f : s.resolved) {
    check(f.source < s.sources.size(), "a field's source");
    const auto& t = d.tables[s.sources[f.source].table];
    check(!f.column || *f.column < t.columns.size(), "a field's column");
  }
  for (const auto& c : s.collections)
    check_scope(d, c.scope);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text{reinterpret_cast<const char*>(data), size};
  cqrs::domain_error err;
  auto parsed = cqrs::parse_domain(text, "fuzz.yaml", err);
  if (!parsed) {
    check(!err.message.empty(), "a rejected domain without a message");
    check(err.file == "fuzz.yaml", "an error without the file");
    check(!cqrs::to_string(err).empty(), "an error without text");
    return 0;
  }
  const auto& d = *parsed;
  check(!d.name.empty(), "an empty domain name");
  check(!d.tables.empty() && d.tables.size() <= cqrs::max_tables,
        "the table count");
  check(d.digest.size() == 64, "a digest that is not SHA-256 hex");
  for (const auto& t : d.tables)
    check(t.columns.size() <= cqrs::max_columns, "a table's column count");
  for (const auto& r : d.resources) {
    check(!r.nodes.empty(), "a resource without its root node");
    for (const auto& n : r.nodes)
      check(n.table < d.tables.size(), "a node's table");
  }
  for (const auto& v : d.views) {
    check_scope(d, v.scope);
    if (v.list)
      check(v.list->default_limit <= v.list->max_limit, "list limits");
  }
  // Loading is deterministic: the same text gives the same digest.
  cqrs::domain_error again;
  auto reparsed = cqrs::parse_domain(text, "fuzz.yaml", again);
  check(reparsed && reparsed->digest == d.digest, "a digest that varies");
  return 0;
}
