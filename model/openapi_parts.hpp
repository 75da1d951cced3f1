// The parts of the OpenAPI document (model/openapi.hpp), one file each: the
// schemas that the declaration gives, and what every cqrsd document holds.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/domain.hpp"

namespace cqrs::openapi {

using json = nlohmann::ordered_json;

// -- names --------------------------------------------------------------------

/// The segment in PascalCase, for operation ids and schema names:
/// `related-objects` becomes `RelatedObjects`. A `-` that no letter follows
/// becomes `_`, so distinct segments give distinct names.
std::string pascal_case(std::string_view segment);

/// `{"$ref": "#/components/<kind>/<name>"}`.
json ref(std::string_view kind, std::string_view name);

// -- text ---------------------------------------------------------------------

/// `x` as Markdown code: "`x`".
std::string code(std::string_view x);

/// "a `x`", or "an `x`" when `x` starts with a vowel.
std::string a_code(std::string_view x);

/// A description as Markdown that reads well in YAML too: the paragraphs of
/// `text` (split at blank lines) wrapped at 72 columns, ending with a line
/// break when there is more than one line; a short text stays as it is.
std::string prose(std::string_view text);

// -- schemas from the declaration (openapi_schemas.cpp) -----------------------

/// The name of the request body schema of resource `r`: `<Segment>Input`.
std::string input_name(const resource_decl& r);

/// The names of the schemas of view `v`: `<Segment>View` and
/// `<Segment>Page`.
std::string view_name(const view_decl& v);
std::string page_name(const view_decl& v);

/// The body of POST and PUT on `r`: every column of the root table, plus
/// one field per owned child, nested to every depth.
json input_schema(const domain& d, const resource_decl& r);

/// What GET /<segment>/{id} answers: the fields in declared order, then the
/// collections.
json view_schema(const domain& d, const view_decl& v);

/// What GET /<segment> answers: a page of views and `next_after`.
json page_schema(const view_decl& v);

/// The schema of a query parameter that filters on column `c`.
json filter_schema(const column_decl& c);

// -- what every cqrsd document holds (openapi_common.cpp) ---------------------

/// The `info` object: title, version, the API's rules, the domain's digest.
json info(const domain& d);

/// `servers` and `tags`.
json servers();
json tags();

/// The path items of the routes that every cqrsd serves, by path.
json common_paths();

/// Every shared component, by kind (`securitySchemes`, `parameters`,
/// `headers`, `schemas`, `responses`) and name, in document order. The
/// document keeps those that it uses.
json shared_components();

} // namespace cqrs::openapi
