// The transport of cluster links.
#include "actors/cluster_transport.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/send.hpp>

namespace cqrs {

caf::io::middleman_actor cluster_middleman(caf::actor_system& sys, bool tls) {
  return tls ? sys.openssl_manager().actor_handle()
             : sys.middleman().actor_handle();
}

caf::expected<uint16_t> publish_command_node(caf::actor_system& sys,
                                             const command_node_actor& node,
                                             const std::string& host,
                                             uint16_t port, bool tls) {
  return tls ? caf::openssl::publish(node, port, host.c_str(), true)
             : sys.middleman().publish(node, port, host.c_str(), true);
}

void unpublish_command_node(caf::actor_system& sys,
                            const command_node_actor& node, uint16_t port,
                            bool tls) {
  caf::anon_send(cluster_middleman(sys, tls), caf::unpublish_atom::value,
                 node.address(), port);
}

const char* published_transport(bool tls) {
  return tls ? " (TLS, peers need a certificate signed by "
               "cluster.tls.ca_file)"
             : " (plain TCP)";
}

} // namespace cqrs
