// The faults of cqrsd-testing, switched on by environment variables. Compiled
// into cqrsd-testing only, never into cqrsd.
#pragma once

#include "actors/fault_hooks.hpp"

namespace cqrs {

/// The faults that the CQRSD_FAULT_* environment variables ask for (README,
/// "Fault switches"), each logged as it is switched on; null when none is
/// set.
///
/// - CQRSD_FAULT_DROP_BATCHES=N: the hub discards the next N batches from
///   the command node.
/// - CQRSD_FAULT_CRASH_QUERY_ACTOR_EVERY=N: each query actor fails with an
///   error exit on every Nth read it receives, with that read pending.
/// - CQRSD_FAULT_CRASH_COMMAND_ACTOR_EVERY=N: the command actor fails with an
///   error exit on every Nth command, with its batch queued and uncommitted.
///
/// Counts are per actor and start over when a supervisor respawns it.
fault_injector_ptr faults_from_environment();

} // namespace cqrs
