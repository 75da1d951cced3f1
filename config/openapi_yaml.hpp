// The OpenAPI document as YAML text: docs/openapi.yaml and
// `cqrsd --openapi FILE.yaml`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace cqrs {

/// `doc` as YAML that reads back as the same JSON (YAML 1.1 and 1.2
/// readers alike): keys in the order of `doc`, short lists of scalars on
/// one line (`required: [id, seq]`), text with line breaks as literal
/// blocks, and every string that a reader could take for a number, a
/// boolean or null in quotes (`'200'`). Equal documents give equal texts.
std::string openapi_yaml(const nlohmann::ordered_json& doc);

} // namespace cqrs
