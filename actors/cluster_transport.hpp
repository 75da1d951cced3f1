// The transport of cluster links: CAF's middleman over plain TCP, or its
// OpenSSL module over TLS (`cluster.tls`), chosen in one place.
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman_actor.hpp>

#include "actors/interfaces.hpp"

namespace cqrs {

/// The middleman actor that connects and publishes on cluster links: the
/// OpenSSL module's with `tls` (it speaks the same protocol), else the
/// plain one.
caf::io::middleman_actor cluster_middleman(caf::actor_system& sys, bool tls);

/// Publishes `node` on `host`:`port`; with `tls`, only peers holding a
/// certificate signed by the cluster CA complete the handshake. Blocks
/// until the port is open; returns it.
caf::expected<uint16_t> publish_command_node(caf::actor_system& sys,
                                             const command_node_actor& node,
                                             const std::string& host,
                                             uint16_t port, bool tls);

/// Closes the port `publish_command_node` opened for `node`, without
/// waiting. (CAF 0.17.6's own caf::openssl::unpublish does not compile.)
void unpublish_command_node(caf::actor_system& sys,
                            const command_node_actor& node, uint16_t port,
                            bool tls);

/// What the log says about a published port: " (TLS, peers need ...)" or
/// " (plain TCP)".
const char* published_transport(bool tls);

} // namespace cqrs
