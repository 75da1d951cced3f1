// Every metric cqrsd exports on /metrics, declared once: its Prometheus name,
// type, labels and help. The counters that hold the values and the
// rendering of /metrics both come from this table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

// -- the table ----------------------------------------------------------------

// Each row is X(id, type, name, labels, help): `id` names the metric in C++
// (and, for the scalar rows, the counter member that holds its value),
// `labels` lists the label names, comma-separated, or is "" for none.

/// The node's counters and gauges, updated by the actors: each row is one
/// `std::atomic<uint64_t>` member of `node_counters` (actors/counters.hpp).
#define CQRSD_NODE_METRICS(X)                                                  \
  X(single_flight_merges, counter, "cqrsd_single_flight_merges_total", "",     \
    "Misses that joined a fill already in flight.")                            \
  X(stale_fills_refused, counter, "cqrsd_stale_fills_refused_total", "",       \
    "Fills answered but not cached because an invalidation overtook them.")    \
  X(cache_refreshes, counter, "cqrsd_cache_refreshes_total", "",               \
    "Fills of cache entries read again because a write evicted them after "    \
    "they were read.")                                                         \
  X(invalidation_evictions, counter, "cqrsd_invalidation_evictions_total", "", \
    "Cache entries evicted by invalidations.")                                 \
  X(invalidations_applied, counter, "cqrsd_invalidations_applied_total", "",   \
    "Invalidation batches applied, summed over the query actors.")             \
  X(capacity_evictions, counter, "cqrsd_capacity_evictions_total", "",         \
    "Cache entries evicted by the size bound.")                                \
  X(commits, counter, "cqrsd_commits_total", "",                               \
    "Commits (one per acknowledged write).")                                   \
  X(write_transactions, counter, "cqrsd_write_transactions_total", "",         \
    "Committed write transactions; each holds one or more commits "            \
    "(group commit).")                                                         \
  X(current_seq, gauge, "cqrsd_current_seq", "",                               \
    "Sequence number of the last durable commit; on a query node, the last "   \
    "one the node has heard of from the command node.")                        \
  X(applied_seq, gauge, "cqrsd_applied_seq", "",                               \
    "Sequence number the invalidation hub has fanned out.")                    \
  X(query_actors, gauge, "cqrsd_query_actors", "",                             \
    "Query actors of this node.")                                              \
  X(query_actor_restarts, counter, "cqrsd_query_actor_restarts_total", "",     \
    "Query actors respawned by the supervisor.")                               \
  X(command_actor_restarts, counter, "cqrsd_command_actor_restarts_total", "", \
    "Command actors respawned by the supervisor.")                             \
  X(catch_ups, counter, "cqrsd_catch_ups_total", "",                           \
    "Commit ranges the invalidation hub read back from commit_log.")           \
  X(cache_flushes, counter, "cqrsd_cache_flushes_total", "",                   \
    "Times the caches were flushed and reads sent to the database: lost "      \
    "command node, missed heartbeats or unreadable commit_log.")               \
  X(command_node_linked, gauge, "cqrsd_command_node_linked", "",               \
    "1 while the node is subscribed at its command node.")                     \
  X(caches_in_use, gauge, "cqrsd_caches_in_use", "",                           \
    "1 while query actors cache; 0 while reads go to the database.")           \
  X(leader, gauge, "cqrsd_leader", "",                                         \
    "1 while this node runs the command actor that writes.")                   \
  X(standby, gauge, "cqrsd_standby", "",                                       \
    "1 while this command-capable node is a standby: another one leads.")      \
  X(takeovers, counter, "cqrsd_takeovers_total", "",                           \
    "Times this node took the lead (command node failover).")

/// The node's counters by view: each row is one member of
/// `node_counters::view_reads`, one sample per view of the served domain.
#define CQRSD_VIEW_METRICS(X)                                                  \
  X(cache_hits, counter, "cqrsd_cache_hits_total", "view",                     \
    "Reads answered from a query actor's cache, by view.")                     \
  X(cache_misses, counter, "cqrsd_cache_misses_total", "view",                 \
    "Reads that needed a cache fill, by view.")

/// The gateway's overload counters and gauges: each row is one
/// `std::atomic<uint64_t>` member of `overload_counters` (http/metrics.hpp).
#define CQRSD_OVERLOAD_METRICS(X)                                              \
  X(read_timeouts, counter, "cqrsd_http_read_timeouts_total", "",              \
    "Requests not received within http.read_timeout_ms (408).")                \
  X(header_too_large, counter, "cqrsd_http_header_too_large_total", "",        \
    "Requests refused for an over-long request line or headers (414, 431).")   \
  X(connections, gauge, "cqrsd_http_connections", "",                          \
    "Connections a worker thread serves.")                                     \
  X(queued_connections, gauge, "cqrsd_http_queued_connections", "",            \
    "Accepted connections waiting for a worker thread.")                       \
  X(in_flight, gauge, "cqrsd_http_in_flight", "",                              \
    "Requests being handled, health probes aside.")

/// The node's histograms: each row is one `histogram` member of
/// `node_counters`, which gives its buckets.
#define CQRSD_NODE_HISTOGRAMS(X)                                               \
  X(fill_duration, histogram, "cqrsd_fill_duration_seconds", "",               \
    "Cache fills, from the query actor asking the DB reader pool until the "   \
    "answer arrived.")                                                         \
  X(invalidation_lag, histogram, "cqrsd_invalidation_lag_seconds", "",         \
    "From a batch's commit on the command node until a query actor of this "   \
    "node applied its invalidation.")

/// Every metric, in the order /metrics writes them. The rows outside the
/// lists above have labels; http/metrics.cpp writes their samples.
#define CQRSD_METRICS(X)                                                       \
  CQRSD_VIEW_METRICS(X)                                                        \
  CQRSD_NODE_METRICS(X)                                                        \
  X(http_shed, counter, "cqrsd_http_shed_total", "reason",                     \
    "Connections and requests answered 503 because the node was at "           \
    "capacity.")                                                               \
  CQRSD_OVERLOAD_METRICS(X)                                                    \
  X(http_requests, counter, "cqrsd_http_requests_total", "route,status",       \
    "HTTP requests by route and status.")                                      \
  X(http_request_duration, histogram, "cqrsd_http_request_duration_seconds",   \
    "route,method",                                                            \
    "Time the gateway took to answer a request, by route and method.")         \
  CQRSD_NODE_HISTOGRAMS(X)

namespace cqrs {

/// The Prometheus metric types cqrsd uses.
enum class metric_type : uint8_t { counter, gauge, histogram };

/// The name of `x` in a `# TYPE` line.
constexpr std::string_view to_string(metric_type x) noexcept {
  switch (x) {
  case metric_type::counter:
    return "counter";
  case metric_type::gauge:
    return "gauge";
  case metric_type::histogram:
    break;
  }
  return "histogram";
}

/// Every metric, by the `id` of its row in `CQRSD_METRICS`.
enum class metric : uint8_t {
#define CQRSD_METRIC_ID(ID, TYPE, NAME, LABELS, HELP) ID,
  CQRSD_METRICS(CQRSD_METRIC_ID)
#undef CQRSD_METRIC_ID
};

/// One row of the table.
struct metric_info {
  std::string_view name;
  metric_type type;
  /// Label names, comma-separated; "" for none.
  std::string_view labels;
  std::string_view help;
};

/// The rows of `CQRSD_METRICS`, indexed by `metric`.
inline constexpr metric_info metric_table[] = {
#define CQRSD_METRIC_ROW(ID, TYPE, NAME, LABELS, HELP)                         \
  {NAME, metric_type::TYPE, LABELS, HELP},
    CQRSD_METRICS(CQRSD_METRIC_ROW)
#undef CQRSD_METRIC_ROW
};

/// The row of `m`.
constexpr const metric_info& describe(metric m) noexcept {
  return metric_table[static_cast<size_t>(m)];
}

} // namespace cqrs
