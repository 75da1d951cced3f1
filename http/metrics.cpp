// Prometheus text rendering of cqrsd's metrics.
#include "http/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <initializer_list>
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

void emit_header(std::ostream& out, const metric_info& row) {
  out << "# HELP " << row.name << ' ' << row.help << '\n'
      << "# TYPE " << row.name << ' ' << to_string(row.type) << '\n';
}

void emit(std::ostream& out, metric m, const std::atomic<uint64_t>& value) {
  const auto& row = describe(m);
  emit_header(out, row);
  out << row.name << ' ' << value.load(std::memory_order_relaxed) << '\n';
}

// The labels of a sample of `row`: its label names, in order, with `values`,
// e.g. `route="/objects",status="200"`.
std::string labels_of(const metric_info& row,
                      std::initializer_list<std::string_view> values) {
  std::string result;
  auto names = row.labels;
  for (auto value : values) {
    auto comma = names.find(',');
    if (!result.empty())
      result += ',';
    result += names.substr(0, comma);
    result += "=\"";
    result += value;
    result += '"';
    names = comma == std::string_view::npos ? std::string_view{}
                                            : names.substr(comma + 1);
  }
  return result;
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

std::string render_metrics(const domain& d, const node_counters& node,
                           const route_table& routes,
                           const request_counters& requests,
                           const overload_counters& overload) {
  std::ostringstream out;
  // One sample per view, zeros included, so that a view's series exists
  // from the start.
  auto views = std::min(node.view_count, d.views.size());
#define CQRSD_EMIT_VIEW(ID, TYPE, NAME, LABELS, HELP)                          \
  emit_header(out, describe(metric::ID));                                      \
  for (size_t v = 0; v < views; ++v)                                           \
    out << NAME << '{'                                                         \
        << labels_of(describe(metric::ID), {d.views[v].segment}) << "} "       \
        << node_counters::get(node.by_view[v].ID) << '\n';
  CQRSD_VIEW_METRICS(CQRSD_EMIT_VIEW)
#undef CQRSD_EMIT_VIEW
#define CQRSD_EMIT_NODE(ID, TYPE, NAME, LABELS, HELP)                          \
  emit(out, metric::ID, node.ID);
  CQRSD_NODE_METRICS(CQRSD_EMIT_NODE)
#undef CQRSD_EMIT_NODE
  const auto& shed = describe(metric::http_shed);
  emit_header(out, shed);
  out << shed.name << '{' << labels_of(shed, {"queue_full"}) << "} "
      << overload.shed_connections.load(std::memory_order_relaxed) << '\n'
      << shed.name << '{' << labels_of(shed, {"in_flight"}) << "} "
      << overload.shed_requests.load(std::memory_order_relaxed) << '\n';
#define CQRSD_EMIT_OVERLOAD(ID, TYPE, NAME, LABELS, HELP)                      \
  emit(out, metric::ID, overload.ID);
  CQRSD_OVERLOAD_METRICS(CQRSD_EMIT_OVERLOAD)
#undef CQRSD_EMIT_OVERLOAD
  const auto& counted = describe(metric::http_requests);
  emit_header(out, counted);
  for (uint16_t rt = 0; rt < requests.routes(); ++rt) {
    for (int status = request_counters::min_status;
         status <= request_counters::max_status; ++status) {
      if (auto n = requests.get(rt, status); n > 0)
        out << counted.name << '{'
            << labels_of(counted, {routes.pattern(rt), std::to_string(status)})
            << "} " << n << '\n';
    }
  }
  const auto& timed = describe(metric::http_request_duration);
  emit_header(out, timed);
  for (uint16_t r = 0; r < requests.routes(); ++r) {
    for (size_t m = 0; m < method_count; ++m) {
      auto h = requests.durations(r, static_cast<method>(m));
      if (h.count() == 0)
        continue;
      render_histogram(
          out, timed.name,
          labels_of(timed, {routes.pattern(r), label(static_cast<method>(m))}),
          h);
    }
  }
#define CQRSD_EMIT_NODE_HISTOGRAM(ID, TYPE, NAME, LABELS, HELP)                \
  emit_header(out, describe(metric::ID));                                      \
  render_histogram(out, describe(metric::ID).name, "", node.ID.read());
  CQRSD_NODE_HISTOGRAMS(CQRSD_EMIT_NODE_HISTOGRAM)
#undef CQRSD_EMIT_NODE_HISTOGRAM
  return out.str();
}

} // namespace cqrs::http
