// The link of a node to its command node.
#include "actors/cluster_link.hpp"

#include <set>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/sec.hpp>

#include "common/error.hpp"
#include "common/logging.hpp"

namespace cqrs {

namespace {

std::string where(const cluster_link_config& cfg) {
  if (cfg.local)
    return "local command node";
  return cfg.host + ":" + std::to_string(cfg.port) + (cfg.tls ? " (TLS)" : "");
}

void schedule_reconnect(cluster_link_ptr self) {
  auto& st = self->state;
  st.connecting = false;
  self->delayed_send(self, st.backoff, atom::retry_v);
  st.backoff = std::min(st.backoff * 2, st.cfg.max_backoff);
}

// Subscribes the hub at `node`; on success the link is up.
void subscribe(cluster_link_ptr self, command_node_actor node) {
  auto& st = self->state;
  self->request(node, std::chrono::seconds{10}, atom::subscribe_v, st.hub,
                st.cfg.domain_digest)
      .then(
          [self, node](seq_t seq) {
            auto& st = self->state;
            if (st.cfg.counters)
              node_counters::set(st.cfg.counters->domain_mismatch, 0);
            st.connecting = false;
            st.current = node;
            st.backoff = st.cfg.initial_backoff;
            self->monitor(node);
            st.route->set(node);
            caf::anon_send(st.hub, atom::connected_v, seq);
            CQRS_LOG(info, "cluster_link",
                     "linked to " << where(st.cfg) << " at seq " << seq);
          },
          [self](caf::error& err) {
            auto& st = self->state;
            if (err == ec::domain_mismatch) {
              if (st.cfg.counters)
                node_counters::set(st.cfg.counters->domain_mismatch, 1);
              CQRS_LOG(error, "cluster_link",
                       "the command node at "
                           << where(st.cfg)
                           << " refused to link: " << error_message(err)
                           << "; every node of a cluster must serve the same "
                              "domain file. Writes answer 503 until it does");
            } else {
              CQRS_LOG(warning, "cluster_link",
                       "subscribing at " << where(st.cfg)
                                         << " failed: " << caf::to_string(err));
            }
            schedule_reconnect(self);
          });
}

void connect(cluster_link_ptr self) {
  auto& st = self->state;
  if (st.connecting || st.current)
    return;
  st.connecting = true;
  if (st.cfg.local) {
    subscribe(self, st.cfg.local);
    return;
  }
  // The OpenSSL module's middleman actor speaks the same protocol over TLS.
  auto& sys = self->system();
  auto mm = st.cfg.tls ? sys.openssl_manager().actor_handle()
                       : sys.middleman().actor_handle();
  self->request(mm, std::chrono::seconds{10}, caf::connect_atom::value,
                st.cfg.host, st.cfg.port)
      .then(
          [self](const caf::node_id&, caf::strong_actor_ptr& ptr,
                 const std::set<std::string>&) {
            if (!ptr) {
              CQRS_LOG(warning, "cluster_link",
                       "nothing is published at " << where(self->state.cfg));
              schedule_reconnect(self);
              return;
            }
            subscribe(self, caf::actor_cast<command_node_actor>(ptr));
          },
          [self](caf::error& err) {
            // A refused certificate shows up as a dropped handshake.
            auto hint = self->state.cfg.tls &&
                                err == caf::sec::disconnect_during_handshake
                            ? " (the peer may have refused this node's "
                              "certificate, or this node the peer's: both "
                              "need one signed by cluster.tls.ca_file)"
                            : "";
            CQRS_LOG(
                warning, "cluster_link",
                "cannot reach the command node at "
                    << where(self->state.cfg) << ": " << caf::to_string(err)
                    << hint << "; retrying in "
                    << std::chrono::duration_cast<std::chrono::milliseconds>(
                           self->state.backoff)
                           .count()
                    << " ms");
            schedule_reconnect(self);
          });
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
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source != st.current.address())
      return;
    CQRS_LOG(warning, "cluster_link",
             "lost the command node at " << where(st.cfg) << " ("
                                         << caf::to_string(msg.reason)
                                         << "); writes answer 503 until it "
                                            "is back");
    st.current = nullptr;
    st.route->clear();
    caf::anon_send(st.hub, atom::disconnect_v);
    schedule_reconnect(self);
  });
  connect(self);
  return {
      [self](atom::retry) { connect(self); },
  };
}

} // namespace cqrs
