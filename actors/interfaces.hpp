// Every actor interface of cqrsd: the whole message protocol on one page.
#pragma once

#include <vector>

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include "actors/fwd.hpp"
#include "actors/messages.hpp"

namespace cqrs {

/// The single writer. It owns the write session, numbers commits and
/// publishes an invalidation after each durable commit.
using command_actor = caf::typed_actor<
    // Applies a command; answers only after its commit is durable.
    caf::replies_to<atom::apply, command>::with<write_result>,
    // Commits the commands queued so far (the actor sends this to itself).
    caf::reacts_to<atom::flush>,
    // The leader of command node failover keeps its session, and so the
    // leader lock, alive (the actor sends this to itself).
    caf::reacts_to<atom::tick>>;

/// A query actor: a private read-through cache of flat read models.
using query_actor = caf::typed_actor<
    // Answers a read from the cache or through a fill. (Invalidations do
    // not come as messages: the hub applies them to the actor's cache.)
    caf::replies_to<atom::read, read_request>::with<read_answer>,
    // Re-runs the fill for a cache key whose last snapshot was older than a
    // waiting read's X-Min-Seq (the actor sends this to itself after a pause).
    caf::reacts_to<atom::retry, std::string>,
    // The hub evicted entries that had been read: read them again
    // (`shared_query_cache::take_refreshes`).
    caf::reacts_to<atom::refresh>>;

/// A DB reader, or the pool that spreads work over several of them.
using reader_actor = caf::typed_actor<
    // Reads one view and its snapshot seq in one read transaction.
    caf::replies_to<atom::fill, query>::with<fill_result>,
    // Reads commit_log entries with after < seq <= up_to.
    caf::replies_to<atom::commits, seq_t,
                    seq_t>::with<std::vector<commit_entry>>>;

/// The invalidation hub of a node: applies commit batches in seq order,
/// repairs gaps from commit_log and fans out to the local query actors.
using hub_actor = caf::typed_actor<
    // A batch of commits, from the command actor.
    caf::reacts_to<atom::invalidate, invalidation>,
    // Registers a query actor and its cache. The hub advances the cache to
    // its applied seq, applies every later batch to it directly and switches
    // its caching on and off, until the actor goes down.
    caf::reacts_to<atom::subscribe, query_actor, query_cache_ptr>,
    // Answers once every commit up to the given seq has been fanned out,
    // catching up from commit_log if needed.
    caf::replies_to<atom::sync, seq_t>::with<seq_t>,
    // Re-reads commit_log for waiting syncs (the hub sends this to itself).
    caf::reacts_to<atom::retry>,
    // The command node's latest seq, sent every heartbeat interval.
    caf::reacts_to<atom::heartbeat, seq_t>,
    // The link to the command node is up and the hub is subscribed there;
    // the seq is the command node's latest. Caches are used again once the
    // hub has caught up.
    caf::reacts_to<atom::connected, seq_t>,
    // The link to the command node is down: flush caches and read from the
    // database until `connected`.
    caf::reacts_to<atom::disconnect>,
    // Checks that heartbeats still arrive (the hub sends this to itself).
    caf::reacts_to<atom::tick>>;

/// What a command node offers, locally and to query nodes over the network:
/// writes, and invalidations for every subscribed hub.
using command_node_actor = caf::typed_actor<
    // Applies a command; answers only after its commit is durable.
    caf::replies_to<atom::apply, command>::with<write_result>,
    // Registers a hub of a node serving the domain with the given digest;
    // answers the last committed seq and the command node's `node.name`, or
    // `ec::domain_mismatch` when the command node serves another domain.
    // From then on the hub receives every batch and heartbeat.
    caf::replies_to<atom::subscribe, hub_actor, std::string>::with<seq_t,
                                                                   std::string>,
    // Answers the last committed seq: the links of other nodes ask, to
    // learn that the command node still answers.
    caf::replies_to<atom::ping>::with<seq_t>,
    // A committed batch from the command actor, published to every hub.
    caf::reacts_to<atom::invalidate, invalidation>,
    // Sends a heartbeat to every hub (the node sends this to itself).
    caf::reacts_to<atom::heartbeat>>;

/// The link of a node to its command node: subscribes the node's hub there,
/// tells the hub when the link comes and goes, and reconnects with backoff.
using link_actor = caf::typed_actor<
    // Tries to (re)connect (the link sends this to itself).
    caf::reacts_to<atom::retry>,
    // Checks that the remote command node still answers (the link sends
    // this to itself).
    caf::reacts_to<atom::tick>,
    // This node leads now and runs the given command node: link to it.
    // An invalid handle: it stepped down, find the leader among the
    // remote command nodes.
    caf::reacts_to<atom::local, command_node_actor>>;

/// The query supervisor: spawns, monitors and respawns query actors. It
/// takes no messages, only exits, and so has no typed interface (CAF has no
/// typed actor without one).
using query_supervisor_actor = caf::actor;

} // namespace cqrs

// -- type IDs of the actor handles that cross the network ---------------------

// They continue the block of actors/fwd.hpp; `add_cqrs_types` registers both.

CAF_BEGIN_TYPE_ID_BLOCK(cqrsd_actors, caf::id_block::cqrsd::end)

CAF_ADD_TYPE_ID(cqrsd_actors, (cqrs::hub_actor))

CAF_END_TYPE_ID_BLOCK(cqrsd_actors)
