// Loading a domain file (DOMAIN.md): YAML text to a checked, derived domain,
// and the built-in `objects` domain compiled into cqrsd.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/settings.hpp"
#include "model/domain.hpp"

namespace cqrs {

/// A domain file that failed to load.
struct domain_error {
  /// The file as it was named (for the built-in domain: "<built-in objects
  /// domain>").
  std::string file;
  /// The YAML path of the offending node, e.g.
  /// "tables.book.columns.isbn.unique" or "views.books.join[1]"; empty when
  /// the file itself is unreadable or not YAML.
  std::string path;
  /// What is wrong: a sentence naming the value and what was expected.
  std::string message;
};

/// Formats `err` as one line: "domain error: FILE: PATH: MESSAGE" (without
/// "PATH: " when the path is empty).
std::string to_string(const domain_error& err);

/// Parses YAML text and checks every rule of DOMAIN.md: one document, no
/// duplicate or unknown key anywhere, names, reserved names, limits, and
/// that every table, column, join, field and owner resolves. On success the
/// derived members are filled (`derive`) and `digest` is set; on failure
/// returns nothing and `err` names `file_name`, the path and the problem.
/// Never throws.
std::optional<domain> parse_domain(const std::string& yaml_text,
                                   const std::string& file_name,
                                   domain_error& err);

/// Reads the file at `path` and parses it; see `parse_domain`.
std::optional<domain> load_domain(const std::string& path, domain_error& err);

/// The text of `domains/objects.yaml`, compiled in.
std::string_view builtin_domain_text();

/// The built-in `objects` domain, parsed once (thread-safe). Never null in
/// a build whose tests pass; null only if the compiled-in text does not
/// load, which `load_configured_domain` then reports.
std::shared_ptr<const domain> builtin_domain();

/// The domain a node serves: the file `cfg.domain` (a path that
/// `load_settings` has already resolved against the config file's folder)
/// or, when it is empty, the built-in domain. Returns null and sets `err`
/// when the file does not load.
std::shared_ptr<const domain> load_configured_domain(const settings& cfg,
                                                     domain_error& err);

} // namespace cqrs
