// Prometheus text rendering of cqrsd's metrics.
#include "http/metrics.hpp"

#include <sstream>

namespace cqrs::http {

namespace {

void emit(std::ostringstream& out, const char* name, const char* type,
          const char* help, uint64_t value) {
  out << "# HELP " << name << ' ' << help << '\n'
      << "# TYPE " << name << ' ' << type << '\n'
      << name << ' ' << value << '\n';
}

} // namespace

std::string render_metrics(const node_counters& node,
                           const request_counters& requests) {
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
  emit(out, "cqrsd_command_node_linked", "gauge",
       "1 while the node is subscribed at its command node.",
       c::get(node.command_node_linked));
  emit(out, "cqrsd_caches_in_use", "gauge",
       "1 while query actors cache; 0 while reads go to the database.",
       c::get(node.caches_in_use));
  out << "# HELP cqrsd_http_requests_total HTTP requests by route and status.\n"
         "# TYPE cqrsd_http_requests_total counter\n";
  for (size_t r = 0; r < route_count; ++r) {
    auto rt = static_cast<route>(r);
    for (int status = request_counters::min_status;
         status <= request_counters::max_status; ++status) {
      if (auto n = requests.get(rt, status); n > 0)
        out << "cqrsd_http_requests_total{route=\"" << pattern(rt)
            << "\",status=\"" << status << "\"} " << n << '\n';
    }
  }
  return out.str();
}

} // namespace cqrs::http
