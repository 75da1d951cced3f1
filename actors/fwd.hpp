// Forward declarations of the actors' message types, the atoms, and the CAF
// type IDs of the message types (the actor handles sent over the network
// continue them at the end of actors/interfaces.hpp). The error enum that
// actors answer with, `ec`, is CAF's "cqrs" error category; it lives in
// common/error.hpp because the stores below the actors build such errors too.
#pragma once

#include <memory>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/type_id.hpp>

#include "common/error.hpp"
#include "model/value.hpp"

namespace cqrs {

// -- message types ------------------------------------------------------------

// Defined in model/ and db/.
struct command;
struct write_result;
struct query;
struct commit_entry;

// Defined in actors/messages.hpp.
struct read_request;
struct read_answer;
struct fill_result;
struct invalidation;

class shared_query_cache;

/// A query actor's cache, as it subscribes to its node's hub. Local only.
using query_cache_ptr = std::shared_ptr<shared_query_cache>;

// -- registration -------------------------------------------------------------

/// Registers cqrsd's message types (this block and the actor handles of
/// actors/interfaces.hpp) and its error category with `cfg`. Defined in
/// actors/node.cpp, where every message type is complete.
void add_cqrs_types(caf::actor_system_config& cfg);

} // namespace cqrs

// -- type IDs -----------------------------------------------------------------

// CAF 0.17 registers each type under the name written here ("cqrs::command"),
// and nodes exchange those names, not the IDs: a new type or another order
// changes no wire format. Keep the order all the same; the actor handles that
// cross the network follow in actors/interfaces.hpp, from `cqrsd::end` on.

CAF_BEGIN_TYPE_ID_BLOCK(cqrsd, caf::first_custom_type_id)

// Atoms take no type ID in CAF 0.17: they leave the IDs below as they are.
CAF_ADD_ATOM(cqrsd, cqrs::atom, apply, "apply")
CAF_ADD_ATOM(cqrsd, cqrs::atom, flush, "flush")
CAF_ADD_ATOM(cqrsd, cqrs::atom, read, "read")
CAF_ADD_ATOM(cqrsd, cqrs::atom, fill, "fill")
CAF_ADD_ATOM(cqrsd, cqrs::atom, commits, "commits")
CAF_ADD_ATOM(cqrsd, cqrs::atom, invalidate, "invalidate")
CAF_ADD_ATOM(cqrsd, cqrs::atom, subscribe, "subscribe")
CAF_ADD_ATOM(cqrsd, cqrs::atom, sync, "sync")
CAF_ADD_ATOM(cqrsd, cqrs::atom, retry, "retry")
CAF_ADD_ATOM(cqrsd, cqrs::atom, heartbeat, "heartbeat")
CAF_ADD_ATOM(cqrsd, cqrs::atom, connected, "connected")
CAF_ADD_ATOM(cqrsd, cqrs::atom, disconnect, "disconnect")
CAF_ADD_ATOM(cqrsd, cqrs::atom, tick, "tick")
CAF_ADD_ATOM(cqrsd, cqrs::atom, ping, "ping")
CAF_ADD_ATOM(cqrsd, cqrs::atom, local, "local")
CAF_ADD_ATOM(cqrsd, cqrs::atom, refresh, "refresh")

CAF_ADD_TYPE_ID(cqrsd, (cqrs::command))
CAF_ADD_TYPE_ID(cqrsd, (cqrs::write_result))
CAF_ADD_TYPE_ID(cqrsd, (cqrs::query))
CAF_ADD_TYPE_ID(cqrsd, (cqrs::read_request))
CAF_ADD_TYPE_ID(cqrsd, (cqrs::invalidation))
CAF_ADD_TYPE_ID(cqrsd, (cqrs::commit_entry))
CAF_ADD_TYPE_ID(cqrsd, (std::vector<cqrs::commit_entry>))

CAF_END_TYPE_ID_BLOCK(cqrsd)

// Local only: these hold shared pointers and never leave the process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cqrs::read_answer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cqrs::fill_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cqrs::query_cache_ptr)
