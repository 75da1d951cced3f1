// The OpenAPI 3 document of the HTTP API that cqrsd serves for a domain.
#pragma once

#include <nlohmann/json.hpp>

#include "model/domain.hpp"

namespace cqrs {

/// The OpenAPI 3.0.3 document of the server that serves `d`: every route of
/// its resources and views, with their bodies, parameters, headers and
/// answers, and the routes every cqrsd serves (/healthz, /readyz, /metrics,
/// /status, /openapi.json). `d` must be derived (`derive`). Keys come in a
/// fixed, readable order, and the properties of each body and view in the
/// order the domain declares them. `info.version` is CQRSD_VERSION, and
/// `info.x-cqrsd-domain` holds the domain's name and digest. Equal domains
/// give equal documents.
nlohmann::ordered_json openapi_document(const domain& d);

} // namespace cqrs
