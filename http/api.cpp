// The API's handlers.
#include "http/api.hpp"

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

#include <caf/sec.hpp>
#include <httplib.h>

#include "actors/node.hpp"
#include "common/error.hpp"
#include "db/read_store.hpp"
#include "http/actor_bridge.hpp"
#include "http/idempotency.hpp"
#include "http/replies.hpp"
#include "http/request_values.hpp"
#include "http/server/admission_server.hpp"
#include "model/json.hpp"

namespace cqrs::http {

namespace {

/// How long a fill may take, on top of the X-Min-Seq wait.
constexpr auto fill_timeout = std::chrono::seconds{30};

/// How often a read retries when its query actor died under it.
constexpr int read_attempts = 3;

// Sets `X-Seq: seq` on the answer, and raises the connection's floor.
void answer_seq(exchange& x, seq_t seq) {
  x.res.set_header("X-Seq", std::to_string(seq));
  if (x.session != nullptr)
    x.session->seq = std::max(x.session->seq, seq);
}

// The newest seq the node knows: its last commit, or on a query node what
// it heard from the command node, and never less than what it applied.
seq_t known_seq(node_counters& c) {
  return std::max(node_counters::get(c.current_seq),
                  node_counters::get(c.applied_seq));
}

/// What `take_page_parameter` made of one query parameter.
enum class page_parameter { other, taken, bad };

// Takes the paging parameter `name` of a list (`after`, a non-negative
// `what`, or `limit`, in 1..max_limit) into `after` or `limit`. Answers 400
// when its value is bad; `other` for any other parameter.
page_parameter take_page_parameter(exchange& x, const std::string& name,
                                   const std::string& value, const char* what,
                                   uint64_t max_limit, uint64_t& after,
                                   uint64_t& limit) {
  if (name != "after" && name != "limit")
    return page_parameter::other;
  auto number = parse_u64(value);
  if (name == "after") {
    if (!number || *number > static_cast<uint64_t>(INT64_MAX)) {
      reply_error(x.res, ec::bad_request,
                  std::string{"after must be a non-negative integer "} + what);
      return page_parameter::bad;
    }
    after = *number;
  } else {
    if (!number || *number < 1 || *number > max_limit) {
      reply_error(x.res, ec::bad_request,
                  "limit must be an integer in 1.." +
                      std::to_string(max_limit));
      return page_parameter::bad;
    }
    limit = *number;
  }
  return page_parameter::taken;
}

// Answers the read `q` through the query actor that the node's routes pick.
void read(exchange& x, const query& q) {
  // A plain read on a connection is served at its session's seq or later;
  // X-Min-Seq raises that floor, never lowers it.
  seq_t min_seq = x.session != nullptr ? x.session->seq : 0;
  if (x.req.has_header("X-Min-Seq")) {
    auto parsed = parse_u64(x.req.get_header_value("X-Min-Seq"));
    if (!parsed) {
      reply_error(x.res, ec::bad_request,
                  "header X-Min-Seq must be a non-negative integer");
      return;
    }
    min_seq = std::max(min_seq, *parsed);
  }
  read_request rr{q, cache_key(q), min_seq};
  auto timeout =
      fill_timeout + std::chrono::milliseconds{x.cfg.query.min_seq_timeout_ms};
  auto answer = [&](const read_answer& a) {
    answer_seq(x, a.seq);
    if (a.found) {
      reply(x.res, 200, *a.body);
      return;
    }
    const auto& d = x.n.served_domain();
    const auto& root = d.tables[d.views[q.view].scope.sources[0].table];
    reply_error(x.res, ec::not_found,
                root.name + " " + std::to_string(q.id) + " does not exist");
  };
  for (int attempt = 1; attempt <= read_attempts; ++attempt) {
    auto route = x.n.routes().pick(rr.key);
    if (!route) {
      reply_error(x.res, ec::actor_unavailable, "no query actor is running");
      return;
    }
    // A hit is answered from the actor's cache on this thread, without a
    // message round trip. Misses, and reads ahead of the actor's applied
    // seq, go to the actor.
    if (auto hit = route.cache->hit(rr.key, rr.min_seq)) {
      x.n.counters().hit(q.view);
      answer(*hit);
      return;
    }
    auto self = x.bridge.acquire();
    bool retry = false;
    auto asked =
        actor_bridge::request(self.get(), route.actor, atom::read_v, rr);
    actor_bridge::receive_within(
        self.get(), asked.id(), timeout, [&](read_answer& a) { answer(a); },
        [&](caf::error& err) {
          // The actor died under us: its successor takes over shortly.
          retry = (err == caf::sec::request_receiver_down ||
                   err == ec::actor_unavailable) &&
                  attempt < read_attempts;
          if (!retry)
            reply_error(x.res, to_api_error(err));
          if (err == caf::sec::request_timeout)
            self.discard();
        });
    if (!retry)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds{10 * attempt});
  }
}

} // namespace

void read_item(exchange& x, const route_match& m) {
  if (!check_params(x.req, x.res, {}))
    return;
  query q;
  q.kind = query_kind::item;
  q.view = *m.view;
  q.id = m.id;
  read(x, q);
}

void read_list(exchange& x, const route_match& m) {
  const auto& d = x.n.served_domain();
  const auto& view = d.views[*m.view];
  const auto& list = *view.list;
  query q;
  q.kind = query_kind::list;
  q.view = *m.view;
  q.filters.resize(list.filters.size());
  if (auto name = repeated_parameter(x.req); !name.empty()) {
    reply_error(x.res, ec::bad_request,
                "query parameter '" + name + "' is repeated");
    return;
  }
  uint64_t after = 0;
  uint64_t limit = list.default_limit;
  for (const auto& [name, value] : x.req.params) {
    auto page =
        take_page_parameter(x, name, value, "id", list.max_limit, after, limit);
    if (page == page_parameter::bad)
      return;
    if (page == page_parameter::taken)
      continue;
    size_t i = 0;
    while (i < list.filters.size() && list.filters[i].name != name)
      ++i;
    if (i == list.filters.size()) {
      reply_error(x.res, ec::bad_request,
                  "unknown query parameter '" + name + "'");
      return;
    }
    const auto& f = list.filters[i];
    const auto& column =
        d.tables[view.scope.sources[f.source].table].columns[f.column_index];
    std::string why;
    auto parsed = parse_filter_value(column, name, value, why);
    if (!parsed) {
      reply_error(x.res, ec::bad_request, why);
      return;
    }
    q.filters[i] = std::move(*parsed);
  }
  q.after = static_cast<row_id>(after);
  q.limit = static_cast<int32_t>(limit);
  read(x, q);
}

void write(exchange& x, const route_match& m) {
  const auto& token = x.cfg.http.write_token;
  if (!token.empty() && !bearer_matches(x.req, {&token})) {
    reply_unauthorized(x.res, "writes need 'Authorization: Bearer <token>'");
    return;
  }
  auto op = x.req.method == "POST"  ? operation::create
            : x.req.method == "PUT" ? operation::update
                                    : operation::remove;
  if (op != operation::remove && x.req.has_header("Content-Type") &&
      !is_json_media_type(x.req.get_header_value("Content-Type"))) {
    reply_error(x.res, ec::unsupported_media_type,
                "request body must be application/json, got '" +
                    x.req.get_header_value("Content-Type") + "'");
    return;
  }
  // After the media type: cpp-httplib turns a form-encoded body into
  // parameters, and that deserves a 415.
  if (!check_params(x.req, x.res, {}))
    return;
  // Idempotency-Key: a retry of a successful write answers the first answer.
  std::string idempotency_key;
  if (x.req.has_header("Idempotency-Key")) {
    if (x.req.get_header_value_count("Idempotency-Key") > 1) {
      reply_error(x.res, ec::bad_request, "header Idempotency-Key is repeated");
      return;
    }
    idempotency_key = x.req.get_header_value("Idempotency-Key");
    if (auto why = check_idempotency_key(idempotency_key)) {
      reply_error(x.res, ec::bad_request, *why);
      return;
    }
  }
  validation_error verr;
  auto cmd = parse_command(x.n.served_domain(), op, *m.resource, m.id,
                           x.req.body, verr);
  if (!cmd) {
    reply_error(x.res, ec::bad_request, verr.message);
    return;
  }
  if (!idempotency_key.empty()) {
    // DELETE ignores its body, so the body does not tell requests apart.
    cmd->request_hash =
        request_hash(x.req.method, x.req.path,
                     op == operation::remove ? std::string_view{}
                                             : std::string_view{x.req.body});
    cmd->idempotency_key = std::move(idempotency_key);
  }
  auto route = x.n.commands().current();
  const auto& command_node = route->node;
  if (!command_node) {
    bool other_domain = node_counters::get(x.n.counters().domain_mismatch) != 0;
    reply_error(
        x.res, other_domain ? ec::domain_mismatch : ec::actor_unavailable,
        other_domain ? "the command node serves another domain and refused to "
                       "link; writes are refused until every node serves the "
                       "same domain file"
                     : "the command node is unreachable; writes are refused "
                       "until the link is back");
    return;
  }
  auto self = x.bridge.acquire();
  auto answer = actor_bridge::request(self.get(), command_node, atom::apply_v,
                                      std::move(*cmd));
  // Losing the link answers the write at once, as `command_node_lost`.
  auto ticket = x.n.commands().track(
      *route, caf::actor_cast<caf::strong_actor_ptr>(self.get()), answer.id());
  if (ticket == 0) {
    self.discard();
    reply_error(x.res, ec::command_node_lost, command_node_lost_message);
    return;
  }
  actor_bridge::receive_within(
      self.get(), answer.id(),
      std::chrono::milliseconds{x.cfg.command.timeout_ms},
      [&](write_result& r) {
        answer_seq(x, r.seq);
        if (r.replayed)
          x.res.set_header("Idempotent-Replayed", "true");
        reply(x.res, op == operation::create ? 201 : 200, to_json(r));
      },
      [&](caf::error& err) {
        reply_error(x.res, to_api_error(err));
        // A late answer may still come to this actor's mailbox.
        if (err == caf::sec::request_timeout)
          self.discard();
      });
  // `clear` took the ticket: its error was the answer, or is on its way to a
  // mailbox that a later request would find it in.
  if (!x.n.commands().forget(ticket))
    self.discard();
}

namespace {

/// Commits per page of /commits: by default, and at most.
constexpr uint64_t default_commits_limit = 20;
constexpr uint64_t max_commits_limit = 500;

/// How long /commits waits for the DB reader pool.
constexpr auto commits_timeout = std::chrono::seconds{30};

} // namespace

void commits(exchange& x) {
  if (auto name = repeated_parameter(x.req); !name.empty()) {
    reply_error(x.res, ec::bad_request,
                "query parameter '" + name + "' is repeated");
    return;
  }
  uint64_t after = 0;
  uint64_t limit = default_commits_limit;
  bool has_after = false;
  for (const auto& [name, value] : x.req.params) {
    auto page = take_page_parameter(x, name, value, "seq", max_commits_limit,
                                    after, limit);
    if (page == page_parameter::bad)
      return;
    if (page == page_parameter::other) {
      reply_error(x.res, ec::bad_request,
                  "unknown query parameter '" + name + "'");
      return;
    }
    has_after = has_after || name == "after";
  }
  // Without `after`: the last `limit` commits the node knows of.
  auto newest = known_seq(x.n.counters());
  seq_t from = has_after ? after : (newest > limit ? newest - limit : 0);
  // Seqs are gapless: one commit past the page tells whether another follows.
  seq_t up_to = from + std::min<seq_t>(limit + 1, INT64_MAX - from);
  auto self = x.bridge.acquire();
  auto asked = actor_bridge::request(self.get(), x.n.readers(), atom::commits_v,
                                     from, up_to);
  actor_bridge::receive_within(
      self.get(), asked.id(), commits_timeout,
      [&](std::vector<commit_entry>& entries) {
        bool more = entries.size() > limit;
        if (more)
          entries.resize(limit);
        auto items = nlohmann::json::array();
        for (auto& e : entries)
          items.push_back({{"seq", e.seq}, {"keys", std::move(e.changed)}});
        nlohmann::json next = nullptr;
        if (more)
          next = entries.back().seq;
        reply(x.res, 200,
              nlohmann::json{{"items", std::move(items)},
                             {"next_after", std::move(next)}}
                  .dump());
      },
      [&](caf::error& err) {
        reply_error(x.res, to_api_error(err));
        if (err == caf::sec::request_timeout)
          self.discard();
      });
}

nlohmann::json link_state(node& n) {
  auto& c = n.counters();
  const char* link = node_counters::get(c.command_node_linked) != 0 ? "linked"
                     : node_counters::get(c.domain_mismatch) != 0
                         ? "another_domain"
                         : "unreachable";
  const char* leadership = "standalone";
  switch (n.config().node.role) {
  case node_role::standalone:
    break;
  case node_role::query:
    leadership = "query";
    break;
  case node_role::command:
    leadership = !n.elected() || node_counters::get(c.leader) != 0 ? "leader"
                                                                   : "standby";
    break;
  }
  auto target = n.commands().current();
  nlohmann::json leader = nullptr;
  if (target->node && !target->leader.empty())
    leader = target->leader;
  return {{"command_node", link},
          {"caches",
           node_counters::get(c.caches_in_use) != 0 ? "in_use" : "bypassed"},
          {"leadership", leadership},
          {"leader", std::move(leader)},
          {"takeovers", node_counters::get(c.takeovers)}};
}

namespace {

// /status lists at most this many query actors (the first ones); the
// totals cover all of them.
constexpr size_t max_listed_query_actors = 1000;

} // namespace

void status(exchange& x) {
  using nlohmann::json;
  auto& c = x.n.counters();
  auto applied = node_counters::get(c.applied_seq);
  const auto& d = x.n.served_domain();
  json body{{"node", x.cfg.node.name},
            {"role", to_string(x.cfg.node.role)},
            {"domain", {{"name", d.name}, {"digest", d.digest}}},
            {"seq", known_seq(c)},
            {"applied_seq", applied}};
  body.update(link_state(x.n));
  // Straight from the routing table and the shared caches, without a
  // message to each query actor: /status stays cheap with 100,000 of them.
  auto routes = x.n.routes().snapshot();
  auto actors = json::array();
  uint64_t entries = 0;
  for (size_t i = 0; i < routes->size(); ++i) {
    const auto& cache = (*routes)[i].cache;
    if (!cache)
      continue;
    auto size = cache->size();
    entries += size;
    if (actors.size() < max_listed_query_actors)
      actors.push_back({{"index", i},
                        {"cache_entries", size},
                        {"applied_seq", cache->applied_seq()}});
  }
  body["query_actor_count"] = routes->size();
  body["cache_entries"] = entries;
  body["query_actors"] = std::move(actors);
  reply(x.res, 200, body.dump());
}

} // namespace cqrs::http
