// What every cqrsd OpenAPI document holds, whatever the domain: the API's
// rules, the operational routes and the shared components.
#include "model/openapi_parts.hpp"

#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"

#ifndef CQRSD_VERSION
#error "CQRSD_VERSION must be defined (CMakeLists.txt defines it)"
#endif

namespace cqrs::openapi {

namespace {

// The rules of every cqrsd API; Markdown.
constexpr const char* rules =
    R"(Commands change the write model; queries read views from the caches of
query actors. Every resource and view below comes from the domain's
declaration.

**Consistency.** Every committed write gets a sequence number `seq`
(1, 2, 3... without gaps), returned in the write's answer after the commit
is durable. Every read answers with header `X-Seq`, the seq its data is
consistent with. A read sent with `X-Min-Seq: N` reflects every commit up
to N, or answers 504 if that cannot be done within
`query.min_seq_timeout_ms`.

**Request bodies** must be JSON: `Content-Type: application/json`, or no
Content-Type at all (taken as JSON); any other type answers 415. A body
that is not a JSON object, repeats a key, has an unknown or a missing
field, a value of the wrong type, out of its bounds or not one of its
allowed values, text containing U+0000 or too many items answers 400,
naming the field by its path (`body.copies[2].barcode`). Then a field that
names a row that does not exist answers 422 (`missing_reference`), and a
value that a `unique` column already holds, or that the body repeats,
answers 409 (`duplicate_value`). A body over `http.max_body_bytes` answers
413. A refused write changes nothing and uses no seq.

**Errors** always have the body `{"error": {"code": "...", "message": "..."}}`.
An unknown route answers 404 (`not_found`); a method a route does not
support answers 405 (`method_not_allowed`) with an `Allow` header. A PUT
or DELETE that would remove a row that a row outside its aggregate still
references answers 409 (`still_referenced`); nothing cascades outside the
aggregate. Any request whose target (path and query string) is over 8192
bytes answers 414 (`uri_too_long`), and a request line or header line too
long to read answers 400. Bad input never changes the database.

**Idempotent retries.** A write may carry `Idempotency-Key` (1 to 255
printable ASCII characters). Once a write with a key has succeeded, a
retry with the same key and the same request (method, path and body;
JSON whitespace and field order do not matter, a DELETE's body is
ignored) is not applied again: it gets the first answer (status, body
and `X-Seq`) with header `Idempotent-Replayed: true`, even after a
restart. The key is stored in the write's own transaction and kept for
`command.idempotency_ttl_s` (default one day). The same key with another
request answers 422 `idempotency_key_reused`. A write that failed
(4xx, 503) stores no key, so its retry runs again.

**Authentication.** When `http.write_token` is configured, every write
needs `Authorization: Bearer <token>` and answers 401 without it. When
`http.read_token` is configured, reads, `/status` and `/openapi.json` need
`Authorization: Bearer` with the read token or the write token, and answer
401 without one. `/healthz`, `/readyz` and `/metrics` never need a token.

**Overload.** Any route may answer 503 with code `overloaded` and
`Retry-After: 1` when the node is at capacity: when every worker thread
(`http.threads`) is busy and `http.max_queued_connections` connections
already wait for one, a new connection is answered at once with
`Connection: close`; when `http.max_in_flight` requests are in flight, a
request is answered at once and its connection stays open. `/healthz`,
`/readyz` and `/metrics` are answered even then. Whatever the route, a
request that does not arrive whole within `http.read_timeout_ms` answers
408 (`request_timeout`), a request line over 8192 bytes 414
(`uri_too_long`), and headers over `http.max_header_bytes` (or one header
line over 8192 bytes) 431 (`header_too_large`); these three close the
connection.
)";

json error_content() {
  return {{"application/json", {{"schema", ref("schemas", "Error")}}}};
}

// A response with an error body and `headers`.
json error_response(std::string description, json headers = nullptr) {
  json result{{"description", std::move(description)}};
  if (!headers.is_null())
    result["headers"] = std::move(headers);
  result["content"] = error_content();
  return result;
}

json response_ref(std::string_view name) {
  return ref("responses", name);
}

json security_schemes() {
  return {
      {"bearerAuth",
       {{"type", "http"},
        {"scheme", "bearer"},
        {"description",
         "Writes need it when `http.write_token` is non-empty; the token is "
         "that value. Reads, `/status` and `/openapi.json` need\n"
         "`http.read_token` or `http.write_token` when `http.read_token` is "
         "non-empty.\nOperations that may need it list both: no token, or "
         "this one.\n"}}}};
}

json parameters() {
  return {
      {"Id",
       {{"name", "id"},
        {"in", "path"},
        {"required", true},
        {"description", "A positive row id in decimal, without sign or "
                        "leading zeros; anything else\nanswers 400.\n"},
        {"schema", ref("schemas", "RowId")}}},
      {"After",
       {{"name", "after"},
        {"in", "query"},
        {"required", false},
        {"description", "Only rows with an id greater than this; pass the "
                        "previous page's\n`next_after` to get the next "
                        "page.\n"},
        {"schema",
         {{"type", "integer"}, {"format", "int64"}, {"minimum", 0}}}}},
      {"MinSeq",
       {{"name", "X-Min-Seq"},
        {"in", "header"},
        {"required", false},
        {"description",
         "Read your writes: the answer reflects every commit up to this "
         "seq\n(typically the `seq` of your last write). A malformed value "
         "answers\n400; if the seq cannot be reached within "
         "`query.min_seq_timeout_ms`,\nthe read answers 504.\n"},
        {"schema",
         {{"type", "integer"}, {"format", "int64"}, {"minimum", 0}}}}},
      {"IdempotencyKey",
       {{"name", "Idempotency-Key"},
        {"in", "header"},
        {"required", false},
        {"description",
         "Makes retries of this write safe: a successful write stores the "
         "key\nwith its answer, and a retry with the same key and the same "
         "request\n(method, path and JSON body in canonical form) within\n"
         "`command.idempotency_ttl_s` is answered with the first answer "
         "and\n`Idempotent-Replayed: true` instead of being applied again. "
         "The same\nkey with another request answers 422. Failed writes "
         "store no key. 1\nto 255 printable ASCII characters (0x20-0x7E); a "
         "longer, repeated or\notherwise malformed value answers 400. An "
         "empty field counts as\nabsent.\n"},
        {"schema",
         {{"type", "string"},
          {"minLength", 1},
          {"maxLength", 255},
          {"pattern", "^[\\x20-\\x7E]+$"}}},
        {"example", "8e03978e-40d5-43e8-bc93-6894a57f9324"}}}};
}

json headers() {
  json seq{{"type", "integer"}, {"format", "int64"}, {"minimum", 0}};
  return {
      {"X-Seq",
       {{"description", "The commit seq the answer's data is consistent with."},
        {"schema", seq}}},
      {"Idempotent-Replayed",
       {{"description",
         "`true` when the write was not applied because it repeats an "
         "earlier\nsuccessful write with the same `Idempotency-Key`; the "
         "answer is that\nwrite's answer. Absent otherwise.\n"},
        {"schema", {{"type", "string"}, {"enum", {"true"}}}}}},
      {"WWW-Authenticate",
       {{"description", "The scheme to authenticate with: `Bearer`."},
        {"schema", {{"type", "string"}, {"enum", {"Bearer"}}}}}},
      {"Retry-After",
       {{"description", "Seconds to wait before retrying."},
        {"schema", {{"type", "integer"}, {"minimum", 0}}}}}};
}

json link_state_schema() {
  return {{"type", "object"},
          {"properties",
           {{"status", {{"type", "string"}, {"enum", {"ready"}}}},
            {"command_node",
             {{"description",
               "`linked` while the node is subscribed at its command node "
               "(always on standalone and command nodes); `another_domain` "
               "while its command node serves another domain and the node "
               "refuses to link; `unreachable` otherwise."},
              {"type", "string"},
              {"enum", {"linked", "unreachable", "another_domain"}}}},
            {"caches",
             {{"description",
               "`in_use` while query actors cache; `bypassed` while the node\n"
               "cannot keep caches fresh and reads go to the database.\n"},
              {"type", "string"},
              {"enum", {"in_use", "bypassed"}}}},
            {"leadership",
             {{"description",
               "`leader` on the command node that writes (with command "
               "node\nfailover, the one holding the leader lock); `standby` "
               "on a\ncommand-capable node while another one leads; `query` "
               "and\n`standalone` on those roles.\n"},
              {"type", "string"},
              {"enum", {"leader", "standby", "query", "standalone"}}}},
            {"leader",
             {{"description", "The `node.name` of the command node this "
                              "node's writes go to;\nnull while there is "
                              "none.\n"},
              {"type", "string"},
              {"nullable", true}}},
            {"takeovers",
             {{"description", "How many times this node took the lead."},
              {"type", "integer"},
              {"format", "int64"},
              {"minimum", 0}}}}}};
}

json commits_page_schema() {
  json seq{{"type", "integer"}, {"format", "int64"}, {"minimum", 1}};
  return {
      {"description", "One page of the commit log, by ascending seq."},
      {"type", "object"},
      {"additionalProperties", false},
      {"required", {"items", "next_after"}},
      {"properties",
       {{"items",
         {{"type", "array"},
          {"maxItems", 500},
          {"items",
           {{"type", "object"},
            {"additionalProperties", false},
            {"required", {"seq", "keys"}},
            {"properties",
             {{"seq", seq},
              {"keys",
               {{"description", "The rows the commit changed, as "
                                "`<table>:<id>`."},
                {"type", "array"},
                {"items", {{"type", "string"}}}}}}}}}}},
        {"next_after",
         {{"description", "The `after` value that fetches the next page, or "
                          "null when there is\nnone.\n"},
          {"type", "integer"},
          {"format", "int64"},
          {"minimum", 1},
          {"nullable", true}}}}},
      {"example",
       {{"items", {{{"seq", 7}, {"keys", {"category:3"}}}}},
        {"next_after", nullptr}}}};
}

json status_schema() {
  json int64{{"type", "integer"}, {"format", "int64"}};
  auto described = [&](const char* text) {
    json s{{"description", text}};
    s.update(int64);
    return s;
  };
  return {
      {"type", "object"},
      {"properties",
       {{"node",
         {{"description", "The configured `node.name`."}, {"type", "string"}}},
        {"role",
         {{"type", "string"}, {"enum", {"standalone", "command", "query"}}}},
        {"domain",
         {{"description", "The domain the node serves: its name and the "
                          "SHA-256 of its canonical form. Every node of a "
                          "cluster serves the same."},
          {"type", "object"},
          {"properties",
           {{"name", {{"type", "string"}}},
            {"digest", {{"type", "string"}, {"pattern", "^[0-9a-f]{64}$"}}}}}}},
        {"seq", described("The latest seq the node knows: the last durable "
                          "commit on a node\nthat runs the command actor, "
                          "the applied seq on a query node.\n")},
        {"applied_seq",
         described("The seq the node's invalidation hub has fanned out.")},
        {"command_node", ref("schemas", "LinkState/properties/command_node")},
        {"caches", ref("schemas", "LinkState/properties/caches")},
        {"leadership", ref("schemas", "LinkState/properties/leadership")},
        {"leader", ref("schemas", "LinkState/properties/leader")},
        {"takeovers", ref("schemas", "LinkState/properties/takeovers")},
        {"query_actor_count",
         {{"description", "The number of query actors (`query.actors`)."},
          {"type", "integer"}}},
        {"cache_entries", described("Entries cached over all query actors.")},
        {"query_actors",
         {{"description",
           "The first 1,000 query actors (all of them with the default "
           "pool),\nread from their caches without a message to each "
           "actor.\n"},
          {"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties",
             {{"index", {{"type", "integer"}}},
              {"cache_entries",
               {{"description", "Entries in the actor's private cache."},
                {"type", "integer"}}},
              {"applied_seq",
               described("The last seq whose invalidations the actor's "
                         "cache has applied.")}}}}}}}}}};
}

// The codes of error bodies, grouped by HTTP status, from the table of
// error codes: "bad_request (400), ..., duplicate_value or
// still_referenced (409), ...".
std::string error_codes() {
  std::map<int, std::vector<std::string>> by_status;
  for (size_t i = 0; i < ec_count; ++i) {
    auto code = static_cast<ec>(i);
    if (http_status(code) >= 400)
      by_status[http_status(code)].push_back(to_string(code));
  }
  std::string text = "A stable machine-readable code:";
  const char* separator = " ";
  for (const auto& [status, names] : by_status) {
    text += separator;
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0)
        text += i + 1 < names.size() ? ", " : " or ";
      text += names[i];
    }
    text += " (" + std::to_string(status) + ")";
    separator = ",\n";
  }
  return text + ".\n";
}

json error_schema() {
  return {{"type", "object"},
          {"required", {"error"}},
          {"properties",
           {{"error",
             {{"type", "object"},
              {"required", {"code", "message"}},
              {"properties",
               {{"code", {{"description", error_codes()}, {"type", "string"}}},
                {"message",
                 {{"description",
                   "A sentence for humans, e.g. naming the bad field."},
                  {"type", "string"}}}}}}}}},
          {"example",
           {{"error",
             {{"code", to_string(ec::bad_request)},
              {"message", "missing field 'body.description'"}}}}}};
}

json schemas() {
  return {{"RowId", {{"type", "integer"}, {"format", "int64"}, {"minimum", 1}}},
          {"WriteAck",
           {{"description", "The acknowledgement of a durable commit."},
            {"type", "object"},
            {"additionalProperties", false},
            {"required", {"id", "seq"}},
            {"properties",
             {{"id",
               {{"description", "The id of the created, replaced or deleted "
                                "root row."},
                {"type", "integer"},
                {"format", "int64"},
                {"minimum", 1}}},
              {"seq",
               {{"description",
                 "The commit's sequence number; use it as `X-Min-Seq`."},
                {"type", "integer"},
                {"format", "int64"},
                {"minimum", 1}}}}},
            {"example", {{"id", 1}, {"seq", 3}}}}},
          {"CommitsPage", commits_page_schema()},
          {"LinkState", link_state_schema()},
          {"Status", status_schema()},
          {"Error", error_schema()}};
}

json write_ack(const char* description) {
  return {{"description", description},
          {"headers",
           {{"X-Seq", ref("headers", "X-Seq")},
            {"Idempotent-Replayed", ref("headers", "Idempotent-Replayed")}}},
          {"content",
           {{"application/json", {{"schema", ref("schemas", "WriteAck")}}}}}};
}

json responses() {
  json unauthorized = error_response(
      "`unauthorized`: the write (`http.write_token`) or read "
      "(`http.read_token`) token is set and the request has no matching "
      "`Authorization: Bearer` header.",
      {{"WWW-Authenticate", ref("headers", "WWW-Authenticate")}});
  json read_not_found =
      error_response("`not_found`: no row with this id (as of `X-Seq`).",
                     {{"X-Seq", ref("headers", "X-Seq")}});
  json unavailable = error_response(
      "`overloaded` (the node is at capacity: every worker thread is busy "
      "and\n`http.max_queued_connections` connections wait, or\n"
      "`http.max_in_flight` requests are in flight; answered at once),\n"
      "`database_unavailable` (the database cannot be reached or refused "
      "the\noperation: the server is gone, the SQLite database stayed "
      "locked past\n`database.busy_timeout_ms`, or a PostgreSQL lock held "
      "elsewhere was\nnot released within `database.lock_timeout_ms`; the "
      "message says\nwhich) or `actor_unavailable` (an actor needed for "
      "the request is\nrestarting or did not answer in time, or, for "
      "writes on a query node,\nthe command node is unreachable), "
      "`domain_mismatch` (a write on a query node whose command node "
      "serves another domain) or `unavailable` (the node is shutting "
      "down). Retry after "
      "`Retry-After` seconds.\n",
      {{"Retry-After", ref("headers", "Retry-After")}});
  const char* duplicate =
      "`duplicate_value`: a `unique` column would hold a value twice (a "
      "value\nanother row holds, or one repeated in the body); the message "
      "names the\nfield.";
  const char* referenced =
      "`still_referenced`: a row that the write would remove is still\n"
      "referenced from outside its aggregate.";
  return {
      {"Created", write_ack("Created; the commit is durable.")},
      {"Written", write_ack("Replaced or deleted; the commit is durable.")},
      {"BadRequest",
       error_response("`bad_request`: malformed JSON, a wrong type, a "
                      "missing or unknown field, a\nvalue out of its bounds, "
                      "a bad id, an unknown, repeated or malformed\nquery "
                      "parameter, a `limit` out of range, a malformed "
                      "`X-Min-Seq` or a\nmalformed `Idempotency-Key`; the "
                      "message says which.\n")},
      {"Unauthorized", unauthorized},
      {"NotFound", error_response("`not_found`: no row with this id.")},
      {"ReadNotFound", read_not_found},
      {"DuplicateValue", error_response(std::string{duplicate} + "\n")},
      {"StillReferenced", error_response(std::string{referenced} + "\n")},
      {"DuplicateValueOrStillReferenced",
       error_response(std::string{duplicate} + " Or " + referenced + "\n")},
      {"PayloadTooLarge",
       error_response(
           "`payload_too_large`: the body is over `http.max_body_bytes`.")},
      {"UriTooLong",
       error_response("`uri_too_long`: the request target (path and query "
                      "string) is over\n8192 bytes. Any route may answer "
                      "it.\n")},
      {"UnsupportedMediaType",
       error_response("`unsupported_media_type`: the body's Content-Type is "
                      "not\napplication/json.\n")},
      {"IdempotencyKeyReused",
       error_response(
           "`idempotency_key_reused`: the `Idempotency-Key` was already "
           "used for\na different request (another method, path or body) "
           "within\n`command.idempotency_ttl_s`. Nothing was applied; use a "
           "new key.\n")},
      {"MissingReferenceOrKeyReused",
       error_response(
           "`missing_reference`: a field names a row that does not exist; "
           "or\n`idempotency_key_reused`: the `Idempotency-Key` was already "
           "used for a\ndifferent request. Nothing was applied.\n")},
      {"Unavailable", unavailable},
      {"MinSeqTimeout",
       error_response("`min_seq_timeout`: the data could not reach "
                      "`X-Min-Seq` within\n`query.min_seq_timeout_ms`.\n")}};
}

// GET on a route that answers JSON to anyone who holds the read token.
json read_security() {
  return json::array({json::object(), {{"bearerAuth", json::array()}}});
}

} // namespace

json info(const domain& d) {
  json result{{"title", "cqrsd: the " + d.name + " domain"},
              {"version", CQRSD_VERSION},
              {"description", "The HTTP API of cqrsd serving the `" + d.name +
                                  "` domain.\n\n" + rules}};
  json domain_info{{"name", d.name}};
  if (!d.digest.empty())
    domain_info["digest"] = d.digest;
  result["x-cqrsd-domain"] = std::move(domain_info);
  return result;
}

json servers() {
  return json::array(
      {{{"url", "http://127.0.0.1:8080"},
        {"description", "config/default.yaml"}},
       {{"url", "https://127.0.0.1:8080"},
        {"description", "config/default.yaml with http.tls.cert_file and "
                        "http.tls.key_file set (HTTPS only)"}}});
}

json tags() {
  return json::array(
      {{{"name", "commands"},
        {"description",
         "Writes to the write model; each answers `{\"id\", \"seq\"}`."}},
       {{"name", "queries"},
        {"description", "Reads of the views, with `X-Seq` and `X-Min-Seq`."}},
       {{"name", "operations"},
        {"description",
         "Health, readiness, metrics, status and this document."}}});
}

json common_paths() {
  json too_long = response_ref("UriTooLong");
  json healthz{
      {"tags", {"operations"}},
      {"operationId", "healthz"},
      {"summary",
       "Liveness; answers 200 while the process runs, also under overload"},
      {"security", json::array()},
      {"responses",
       {{"200",
         {{"description", "The process is alive."},
          {"content",
           {{"application/json",
             {{"schema",
               {{"type", "object"},
                {"required", {"status"}},
                {"properties",
                 {{"status", {{"type", "string"}, {"enum", {"ok"}}}}}}}}}}}}}},
        {"414", too_long}}}};
  json readyz{
      {"tags", {"operations"}},
      {"operationId", "readyz"},
      {"summary", "Readiness; answers 200 once the node is serving"},
      {"security", json::array()},
      {"responses",
       {{"200",
         {{"description",
           "The node serves requests. The body also tells whether the node "
           "is\nlinked to its command node and whether its caches are in "
           "use\n(while unlinked, reads go to the database and writes answer "
           "503).\n"},
          {"content",
           {{"application/json", {{"schema", ref("schemas", "LinkState")}}}}}}},
        {"414", too_long},
        {"503",
         error_response("The node is not serving yet, or it is a query node "
                        "whose domain\ndiffers from its command node's "
                        "(`domain_mismatch`).\n")}}}};
  json metrics{
      {"tags", {"operations"}},
      {"operationId", "metrics"},
      {"summary", "Prometheus metrics"},
      {"description",
       "Prometheus text exposition: cache hits and misses, evictions,\n"
       "single-flight merges, stale fills refused, catch-ups and cache\n"
       "flushes, commits, the current seq, live query actors, actor "
       "restarts,\nHTTP requests by route and status, histograms of "
       "request duration\n(by route and method), fill duration and "
       "invalidation lag, and what\nthe overload protection did. The README "
       "lists every metric. Answered\neven while the node sheds load.\n"},
      {"security", json::array()},
      {"responses",
       {{"200",
         {{"description", "Metrics in the Prometheus text format."},
          {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}}},
        {"414", too_long}}}};
  json status{
      {"tags", {"operations"}},
      {"operationId", "status"},
      {"summary", "The node's state as JSON"},
      {"security", read_security()},
      {"responses",
       {{"200",
         {{"description", "Node name and role, the current seq, and each "
                          "query actor."},
          {"content",
           {{"application/json", {{"schema", ref("schemas", "Status")}}}}}}},
        {"400", response_ref("BadRequest")},
        {"401", response_ref("Unauthorized")},
        {"503", response_ref("Unavailable")}}}};
  json commits{
      {"tags", {"operations"}},
      {"operationId", "commits"},
      {"summary", "The commit log, a page at a time"},
      {"description",
       "Commits by ascending seq, each with the row keys it changed (the\n"
       "keys that invalidate cached views). Without `after`, the last\n"
       "`limit` commits the node knows of. Read from the node's database\n"
       "connection (a replica's, with `database.read_postgresql`).\n"},
      {"security", read_security()},
      {"parameters",
       {{{"name", "after"},
         {"in", "query"},
         {"required", false},
         {"description", "Only commits with a seq greater than this; pass "
                         "the previous page's\n`next_after` to get the next "
                         "page.\n"},
         {"schema",
          {{"type", "integer"}, {"format", "int64"}, {"minimum", 0}}}},
        {{"name", "limit"},
         {"in", "query"},
         {"required", false},
         {"description", "Page size; outside 1..500 answers 400."},
         {"schema",
          {{"type", "integer"},
           {"minimum", 1},
           {"maximum", 500},
           {"default", 20}}}}}},
      {"responses",
       {{"200",
         {{"description", "One page of the commit log."},
          {"content",
           {{"application/json",
             {{"schema", ref("schemas", "CommitsPage")}}}}}}},
        {"400", response_ref("BadRequest")},
        {"401", response_ref("Unauthorized")},
        {"503", response_ref("Unavailable")}}}};
  json openapi{
      {"tags", {"operations"}},
      {"operationId", "openapi"},
      {"summary", "This document, as JSON"},
      {"security", read_security()},
      {"responses",
       {{"200",
         {{"description", "The OpenAPI 3 document of the domain this node "
                          "serves."},
          {"content",
           {{"application/json", {{"schema", {{"type", "object"}}}}}}}}},
        {"400", response_ref("BadRequest")},
        {"401", response_ref("Unauthorized")},
        {"503", response_ref("Unavailable")}}}};
  return {
      {"/healthz", {{"get", healthz}}}, {"/readyz", {{"get", readyz}}},
      {"/metrics", {{"get", metrics}}}, {"/status", {{"get", status}}},
      {"/commits", {{"get", commits}}}, {"/openapi.json", {{"get", openapi}}}};
}

json shared_components() {
  return {{"securitySchemes", security_schemes()},
          {"parameters", parameters()},
          {"headers", headers()},
          {"schemas", schemas()},
          {"responses", responses()}};
}

} // namespace cqrs::openapi
