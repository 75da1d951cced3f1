// The link of a node to its command node.
#include "actors/cluster_link.hpp"

#include <set>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/sec.hpp>

#include "actors/cluster_transport.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"

namespace cqrs {

namespace {

std::string where(const cluster_link_config& cfg,
                  const cluster_endpoint& remote) {
  return remote.address + (cfg.tls ? " (TLS)" : "");
}

long long millis(caf::timespan x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
}

void schedule_reconnect(cluster_link_ptr self) {
  auto& st = self->state;
  st.connecting = false;
  self->delayed_send(self, st.backoff, atom::retry_v);
  st.backoff = std::min(st.backoff * 2, st.cfg.max_backoff);
}

// Forgets the command node the link is up to, tells the hub and writes,
// and looks for the (new) leader.
void drop_current(cluster_link_ptr self, const std::string& why) {
  auto& st = self->state;
  CQRS_LOG(warning, "cluster_link",
           "lost the command node at " << st.current_where << " (" << why
                                       << "); writes answer 503 until a "
                                          "command node links");
  self->demonitor(st.current.address());
  st.current = nullptr;
  st.current_where.clear();
  st.route->clear();
  caf::anon_send(st.hub, atom::disconnect_v);
}

// One attempt of the current round failed; once all have, the round is
// over and the next one waits out the backoff.
void attempt_failed(cluster_link_ptr self, uint64_t round, std::string why) {
  auto& st = self->state;
  if (round != st.round || st.current)
    return;
  st.round_errors.push_back(std::move(why));
  auto attempts = st.cfg.local ? size_t{1} : st.cfg.remotes.size();
  if (st.round_errors.size() < attempts)
    return;
  std::string reasons;
  for (const auto& reason : st.round_errors)
    reasons += (reasons.empty() ? "" : "; ") + reason;
  CQRS_LOG(warning, "cluster_link",
           "cannot reach the command node: " << reasons << "; retrying in "
                                             << millis(st.backoff) << " ms");
  schedule_reconnect(self);
}

void ping(cluster_link_ptr self) {
  auto& st = self->state;
  if (!st.current || st.cfg.local || st.cfg.ping_interval.count() == 0)
    return;
  auto node = st.current;
  self->request(node, st.cfg.ping_timeout, atom::ping_v)
      .then(
          [self, node](seq_t) {
            auto& st = self->state;
            if (st.current == node)
              self->delayed_send(self, st.cfg.ping_interval, atom::tick_v);
          },
          [self, node](caf::error& err) {
            auto& st = self->state;
            if (st.current != node)
              return;
            drop_current(self, "it did not answer a ping within " +
                                   std::to_string(millis(st.cfg.ping_timeout)) +
                                   " ms: " + caf::to_string(err));
            schedule_reconnect(self);
          });
}

// Subscribes the hub at `node`; on success the link is up, unless another
// attempt of the round got there first.
void subscribe(cluster_link_ptr self, command_node_actor node,
               std::string place, uint64_t round) {
  auto& st = self->state;
  self->request(node, std::chrono::seconds{10}, atom::subscribe_v, st.hub,
                st.cfg.domain_digest)
      .then(
          [self, node, place, round](seq_t seq, std::string& leader) {
            auto& st = self->state;
            if (round != st.round || st.current)
              return; // Only one node leads; a late answer is from no leader.
            if (st.cfg.counters)
              node_counters::set(st.cfg.counters->domain_mismatch, 0);
            st.connecting = false;
            st.current = node;
            st.current_where = place;
            st.backoff = st.cfg.initial_backoff;
            self->monitor(node);
            st.route->set(node, leader);
            caf::anon_send(st.hub, atom::connected_v, seq);
            CQRS_LOG(info, "cluster_link",
                     "linked to " << place << " (leader '" << leader
                                  << "') at seq " << seq);
            ping(self);
          },
          [self, place, round](caf::error& err) {
            auto& st = self->state;
            if (err == ec::domain_mismatch) {
              if (st.cfg.counters)
                node_counters::set(st.cfg.counters->domain_mismatch, 1);
              CQRS_LOG(error, "cluster_link",
                       "the command node at "
                           << place
                           << " refused to link: " << error_message(err)
                           << "; every node of a cluster must serve the same "
                              "domain file. Writes answer 503 until it does");
            }
            attempt_failed(self, round,
                           "subscribing at " + place +
                               " failed: " + caf::to_string(err));
          });
}

void connect(cluster_link_ptr self) {
  auto& st = self->state;
  if (st.connecting || st.current || st.idle)
    return;
  st.connecting = true;
  auto round = ++st.round;
  st.round_errors.clear();
  if (st.cfg.local) {
    subscribe(self, st.cfg.local, "local command node", round);
    return;
  }
  if (st.cfg.remotes.empty()) {
    st.connecting = false; // Nothing to link to until this node leads.
    return;
  }
  auto mm = cluster_middleman(self->system(), st.cfg.tls);
  for (const auto& remote : st.cfg.remotes) {
    auto place = where(st.cfg, remote);
    self->request(mm, std::chrono::seconds{10}, caf::connect_atom::value,
                  remote.host, remote.port)
        .then(
            [self, place, round](const caf::node_id&,
                                 caf::strong_actor_ptr& ptr,
                                 const std::set<std::string>&) {
              if (!ptr) {
                attempt_failed(self, round, "nothing is published at " + place);
                return;
              }
              subscribe(self, caf::actor_cast<command_node_actor>(ptr), place,
                        round);
            },
            [self, place, round](caf::error& err) {
              // A refused certificate shows up as a dropped handshake.
              auto hint = self->state.cfg.tls &&
                                  err == caf::sec::disconnect_during_handshake
                              ? " (the peer may have refused this node's "
                                "certificate, or this node the peer's: both "
                                "need one signed by cluster.tls.ca_file)"
                              : "";
              attempt_failed(self, round,
                             place + ": " + caf::to_string(err) + hint);
            });
  }
}

// Starts over with the local command node `node`, or with the remote ones
// when `node` is invalid.
void relink(cluster_link_ptr self, command_node_actor node) {
  auto& st = self->state;
  if (st.cfg.local == node && !st.idle)
    return;
  st.idle = false;
  st.cfg.local = std::move(node);
  if (st.current)
    drop_current(self, st.cfg.local ? "this node leads now"
                                    : "this node stepped down");
  // Answers to a round in flight are for the old setting.
  ++st.round;
  st.connecting = false;
  st.backoff = st.cfg.initial_backoff;
  connect(self);
}

} // namespace

link_actor::behavior_type
cluster_link_impl(cluster_link_ptr self, cluster_link_config cfg, hub_actor hub,
                  std::shared_ptr<command_route> route) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.hub = std::move(hub);
  st.route = std::move(route);
  st.backoff = st.cfg.initial_backoff;
  st.idle = st.cfg.wait_for_local;
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source != st.current.address())
      return;
    drop_current(self, error_message(msg.reason));
    schedule_reconnect(self);
  });
  connect(self);
  return {
      [self](atom::retry) { connect(self); },
      [self](atom::tick) { ping(self); },
      [self](atom::local, command_node_actor& node) {
        relink(self, std::move(node));
      },
  };
}

} // namespace cqrs
