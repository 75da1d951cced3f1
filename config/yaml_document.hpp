// Reading YAML files safely: at most one document, bounded work on malformed
// input, and nodes named for error messages. Shared by the config and the
// domain file loaders.
#pragma once

#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>

namespace cqrs {

/// Parses `text` as a YAML stream of at most one document and returns it (a
/// null node for a stream without documents). On failure returns nothing
/// and sets `error`: "expected one YAML document, got N", yaml-cpp's message
/// with line and column, or "cannot parse <what>: malformed YAML ..." for
/// input on which yaml-cpp 0.7 alone would loop forever. Never throws.
std::optional<YAML::Node> load_yaml_document(const std::string& text,
                                             const std::string& what,
                                             std::string& error);

/// Names a node for an error message: a scalar is quoted ('x'), anything
/// else is named by its kind ("a sequence", "a mapping", "null").
std::string describe_yaml_node(const YAML::Node& node);

/// Reads the whole file at `path`. On failure returns nothing and sets
/// `error_code` to the errno value (a directory fails with EISDIR).
std::optional<std::string> read_text_file(const std::string& path,
                                          int& error_code);

} // namespace cqrs
