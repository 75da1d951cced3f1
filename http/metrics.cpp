// Prometheus text rendering of cqrsd's metrics.
#include "http/metrics.hpp"

#include <charconv>
#include <sstream>

namespace cqrs::http {

namespace {

using namespace std::chrono_literals;

// Writes `ns` as seconds, in the shortest form that reads back exactly and
// as the Prometheus client libraries write it (Go's 'g' format): "0.0001",
// "10", "5e-05". The `le` label must not change its spelling between
// versions, or Prometheus sees new series.
void write_seconds(std::ostream& out, double ns) {
  auto seconds = ns / 1e9;
  auto format = seconds == 0 || (seconds >= 1e-4 && seconds < 1e21)
                    ? std::chars_format::fixed
                    : std::chars_format::scientific;
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), seconds, format);
  out.write(buf, end - buf);
}

void emit_header(std::ostream& out, const char* name, const char* type,
                 const char* help) {
  out << "# HELP " << name << ' ' << help << '\n'
      << "# TYPE " << name << ' ' << type << '\n';
}

void emit(std::ostream& out, const char* name, const char* type,
          const char* help, uint64_t value) {
  emit_header(out, name, type, help);
  out << name << ' ' << value << '\n';
}

} // namespace

method to_method(std::string_view name) noexcept {
  if (name == "GET")
    return method::get;
  if (name == "HEAD")
    return method::head;
  if (name == "POST")
    return method::post;
  if (name == "PUT")
    return method::put;
  if (name == "DELETE")
    return method::del;
  if (name == "PATCH")
    return method::patch;
  if (name == "OPTIONS")
    return method::options;
  return method::other;
}

std::string_view label(method m) noexcept {
  switch (m) {
  case method::get:
    return "GET";
  case method::head:
    return "HEAD";
  case method::post:
    return "POST";
  case method::put:
    return "PUT";
  case method::del:
    return "DELETE";
  case method::patch:
    return "PATCH";
  case method::options:
    return "OPTIONS";
  case method::other:
    break;
  }
  return "other";
}

request_duration::request_duration()
    : histogram{50us, 100us, 250us, 500us, 1ms, 2500us, 5ms, 10ms, 25ms,
                50ms, 100ms, 250ms, 500ms, 1s,  2500ms, 5s,  10s} {
  // nop
}

void render_histogram(std::ostream& out, std::string_view name,
                      std::string_view labels, const histogram::snapshot& h) {
  auto sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i <= h.bounds; ++i) {
    out << name << "_bucket{" << labels << sep << "le=\"";
    if (i < h.bounds)
      write_seconds(out, static_cast<double>(h.upper_ns[i]));
    else
      out << "+Inf";
    out << "\"} " << h.cumulative[i] << '\n';
  }
  auto braces = [&] {
    if (!labels.empty())
      out << '{' << labels << '}';
  };
  out << name << "_sum";
  braces();
  out << ' ';
  write_seconds(out, static_cast<double>(h.sum_ns));
  out << '\n' << name << "_count";
  braces();
  out << ' ' << h.count() << '\n';
}

std::string render_metrics(const node_counters& node, const route_table& routes,
                           const request_counters& requests,
                           const overload_counters& overload) {
  using c = node_counters;
  std::ostringstream out;
  emit(out, "cqrsd_cache_hits_total", "counter",
       "Reads answered from a query actor's cache.", c::get(node.cache_hits));
  emit(out, "cqrsd_cache_misses_total", "counter",
       "Reads that needed a cache fill.", c::get(node.cache_misses));
  emit(out, "cqrsd_single_flight_merges_total", "counter",
       "Misses that joined a fill already in flight.",
       c::get(node.single_flight_merges));
  emit(out, "cqrsd_stale_fills_refused_total", "counter",
       "Fills answered but not cached because an invalidation overtook them.",
       c::get(node.stale_fills_refused));
  emit(out, "cqrsd_invalidation_evictions_total", "counter",
       "Cache entries evicted by invalidations.",
       c::get(node.invalidation_evictions));
  emit(out, "cqrsd_invalidations_applied_total", "counter",
       "Invalidation batches applied, summed over the query actors.",
       c::get(node.invalidations_applied));
  emit(out, "cqrsd_capacity_evictions_total", "counter",
       "Cache entries evicted by the size bound.",
       c::get(node.capacity_evictions));
  emit(out, "cqrsd_commits_total", "counter",
       "Commits (one per acknowledged write).", c::get(node.commits));
  emit(out, "cqrsd_write_transactions_total", "counter",
       "Committed write transactions; each holds one or more commits "
       "(group commit).",
       c::get(node.write_transactions));
  emit(out, "cqrsd_current_seq", "gauge",
       "Sequence number of the last durable commit.", c::get(node.current_seq));
  emit(out, "cqrsd_applied_seq", "gauge",
       "Sequence number the invalidation hub has fanned out.",
       c::get(node.applied_seq));
  emit(out, "cqrsd_query_actors", "gauge", "Query actors of this node.",
       c::get(node.query_actors));
  emit(out, "cqrsd_query_actor_restarts_total", "counter",
       "Query actors respawned by the supervisor.",
       c::get(node.query_actor_restarts));
  emit(out, "cqrsd_command_actor_restarts_total", "counter",
       "Command actors respawned by the supervisor.",
       c::get(node.command_actor_restarts));
  emit(out, "cqrsd_catch_ups_total", "counter",
       "Commit ranges the invalidation hub read back from commit_log.",
       c::get(node.catch_ups));
  emit(out, "cqrsd_cache_flushes_total", "counter",
       "Times the caches were flushed and reads sent to the database: lost "
       "command node, missed heartbeats or unreadable commit_log.",
       c::get(node.cache_flushes));
  emit(out, "cqrsd_command_node_linked", "gauge",
       "1 while the node is subscribed at its command node.",
       c::get(node.command_node_linked));
  emit(out, "cqrsd_caches_in_use", "gauge",
       "1 while query actors cache; 0 while reads go to the database.",
       c::get(node.caches_in_use));
  auto get = [](const std::atomic<uint64_t>& x) {
    return x.load(std::memory_order_relaxed);
  };
  out << "# HELP cqrsd_http_shed_total Connections and requests answered 503 "
         "because the node was at capacity.\n"
         "# TYPE cqrsd_http_shed_total counter\n"
         "cqrsd_http_shed_total{reason=\"queue_full\"} "
      << get(overload.shed_connections) << '\n'
      << "cqrsd_http_shed_total{reason=\"in_flight\"} "
      << get(overload.shed_requests) << '\n';
  emit(out, "cqrsd_http_read_timeouts_total", "counter",
       "Requests not received within http.read_timeout_ms (408).",
       get(overload.read_timeouts));
  emit(out, "cqrsd_http_header_too_large_total", "counter",
       "Requests refused for an over-long request line or headers (414, 431).",
       get(overload.header_too_large));
  emit(out, "cqrsd_http_connections", "gauge",
       "Connections a worker thread serves.", get(overload.connections));
  emit(out, "cqrsd_http_queued_connections", "gauge",
       "Accepted connections waiting for a worker thread.",
       get(overload.queued_connections));
  emit(out, "cqrsd_http_in_flight", "gauge",
       "Requests being handled, health probes aside.", get(overload.in_flight));
  out << "# HELP cqrsd_http_requests_total HTTP requests by route and status.\n"
         "# TYPE cqrsd_http_requests_total counter\n";
  for (uint16_t rt = 0; rt < requests.routes(); ++rt) {
    for (int status = request_counters::min_status;
         status <= request_counters::max_status; ++status) {
      if (auto n = requests.get(rt, status); n > 0)
        out << "cqrsd_http_requests_total{route=\"" << routes.pattern(rt)
            << "\",status=\"" << status << "\"} " << n << '\n';
    }
  }
  emit_header(out, "cqrsd_http_request_duration_seconds", "histogram",
              "Time the gateway took to answer a request, by route and "
              "method.");
  std::string labels;
  for (uint16_t r = 0; r < requests.routes(); ++r) {
    for (size_t m = 0; m < method_count; ++m) {
      auto h = requests.durations(r, static_cast<method>(m));
      if (h.count() == 0)
        continue;
      labels = "route=\"";
      labels += routes.pattern(r);
      labels += "\",method=\"";
      labels += label(static_cast<method>(m));
      labels += '"';
      render_histogram(out, "cqrsd_http_request_duration_seconds", labels, h);
    }
  }
  emit_header(out, "cqrsd_fill_duration_seconds", "histogram",
              "Cache fills, from the query actor asking the DB reader pool "
              "until the answer arrived.");
  render_histogram(out, "cqrsd_fill_duration_seconds", "",
                   node.fill_duration.read());
  emit_header(out, "cqrsd_invalidation_lag_seconds", "histogram",
              "From a batch's commit on the command node until a query actor "
              "of this node applied its invalidation.");
  render_histogram(out, "cqrsd_invalidation_lag_seconds", "",
                   node.invalidation_lag.read());
  return out.str();
}

} // namespace cqrs::http
