// The points where a testing build injects faults into the actors. The product
// defines no fault: cqrsd passes no injector, and each point costs an actor
// one null check per message. cqrsd-testing's faults are in app/faults.cpp.
#pragma once

#include <cstdint>
#include <memory>

#include <caf/error.hpp>

#include "actors/fwd.hpp"

namespace cqrs {

/// A fault in one query actor, asked about each read the actor receives.
class read_fault {
public:
  virtual ~read_fault() = default;

  /// The error the actor fails with on this read, which it leaves pending;
  /// none to serve the read.
  virtual caf::error on_read() = 0;
};

/// A fault in one command actor, asked about each command it receives.
class command_fault {
public:
  virtual ~command_fault() = default;

  /// The error the actor fails with on this command, with the `queued`
  /// commands of its batch (this one included) uncommitted; none to go on.
  virtual caf::error on_command(size_t queued) = 0;
};

/// A fault in an invalidation hub, asked about each batch from the command
/// node.
class batch_fault {
public:
  virtual ~batch_fault() = default;

  /// Whether the hub discards `inv`, as if the network had lost it.
  virtual bool drop(const invalidation& inv) = 0;
};

/// Makes the fault of each actor as it starts: a respawned actor gets a new
/// one, whose counts start over. Called from the actors' threads.
class fault_injector {
public:
  virtual ~fault_injector() = default;

  /// The fault of the query actor at `index`; null for none.
  virtual std::unique_ptr<read_fault> query_actor(uint32_t index) = 0;

  /// The fault of the command actor; null for none.
  virtual std::unique_ptr<command_fault> command_actor() = 0;

  /// The fault of the invalidation hub; null for none.
  virtual std::unique_ptr<batch_fault> hub() = 0;

  /// Whether the leader of command node failover goes on writing after
  /// losing its session, without the lock: the fault that fencing prevents.
  virtual bool fencing_disabled() { return false; }
};

/// Null everywhere in the product.
using fault_injector_ptr = std::shared_ptr<fault_injector>;

} // namespace cqrs
