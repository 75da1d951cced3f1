// The faults of cqrsd-testing.
#include "app/faults.hpp"

#include <cstdlib>
#include <string>

#include "actors/messages.hpp"
#include "common/error.hpp"
#include "common/logging.hpp"

namespace cqrs {

namespace {

// Fails a query actor on every `every`th read it receives.
class crash_every_nth_read : public read_fault {
public:
  crash_every_nth_read(uint32_t index, uint32_t every)
      : index_(index), every_(every) {
    // nop
  }

  caf::error on_read() override {
    if (++reads_ % every_ != 0)
      return {};
    return make_cqrs_error(
        ec::internal, "fault injection: query actor " + std::to_string(index_) +
                          " crashed on read " + std::to_string(reads_));
  }

private:
  uint32_t index_;
  uint32_t every_;
  uint64_t reads_ = 0;
};

// Fails the command actor on every `every`th command it receives.
class crash_every_nth_command : public command_fault {
public:
  explicit crash_every_nth_command(uint32_t every) : every_(every) {
    // nop
  }

  caf::error on_command(size_t queued) override {
    if (++commands_ % every_ != 0)
      return {};
    return make_cqrs_error(ec::internal,
                           "fault injection: command actor crashed on "
                           "command " +
                               std::to_string(commands_) + " with " +
                               std::to_string(queued) + " queued");
  }

private:
  uint32_t every_;
  uint64_t commands_ = 0;
};

// Discards the next `count` batches a hub receives.
class drop_next_batches : public batch_fault {
public:
  explicit drop_next_batches(uint32_t count) : left_(count) {
    // nop
  }

  bool drop(const invalidation& inv) override {
    if (left_ == 0)
      return false;
    --left_;
    CQRS_LOG(warning, "invalidation_hub",
             "fault injection: dropped the batch of seqs "
                 << inv.from_seq << ".." << inv.to_seq);
    return true;
  }

private:
  uint32_t left_;
};

// The faults of the switches that are set; 0 switches a fault off.
class environment_faults : public fault_injector {
public:
  uint32_t drop_batches = 0;
  uint32_t crash_query_actor_every = 0;
  uint32_t crash_command_actor_every = 0;
  bool no_fencing = false;

  bool fencing_disabled() override { return no_fencing; }

  std::unique_ptr<read_fault> query_actor(uint32_t index) override {
    if (crash_query_actor_every == 0)
      return nullptr;
    return std::make_unique<crash_every_nth_read>(index,
                                                  crash_query_actor_every);
  }

  std::unique_ptr<command_fault> command_actor() override {
    if (crash_command_actor_every == 0)
      return nullptr;
    return std::make_unique<crash_every_nth_command>(crash_command_actor_every);
  }

  std::unique_ptr<batch_fault> hub() override {
    if (drop_batches == 0)
      return nullptr;
    return std::make_unique<drop_next_batches>(drop_batches);
  }
};

} // namespace

fault_injector_ptr faults_from_environment() {
  auto faults = std::make_shared<environment_faults>();
  bool any = false;
  if (auto drop = std::getenv("CQRSD_FAULT_DROP_BATCHES")) {
    any = true;
    faults->drop_batches =
        static_cast<uint32_t>(std::strtoul(drop, nullptr, 10));
    CQRS_LOG(warning, "main",
             "fault injection: the hub drops the next " << faults->drop_batches
                                                        << " batches");
  }
  // CQRSD_FAULT_CRASH_*_EVERY=N: an actor fails with an error exit on every
  // Nth message of `unit` it handles.
  auto every = [&any](const char* name, const char* who, const char* unit,
                      uint32_t& out) {
    if (auto value = std::getenv(name)) {
      any = true;
      out = static_cast<uint32_t>(std::strtoul(value, nullptr, 10));
      if (out != 0)
        CQRS_LOG(warning, "main",
                 "fault injection: " << who << " crashes once every " << out
                                     << ' ' << unit << 's');
    }
  };
  every("CQRSD_FAULT_CRASH_QUERY_ACTOR_EVERY", "each query actor", "read",
        faults->crash_query_actor_every);
  every("CQRSD_FAULT_CRASH_COMMAND_ACTOR_EVERY", "the command actor", "command",
        faults->crash_command_actor_every);
  if (auto off = std::getenv("CQRSD_FAULT_NO_FENCING")) {
    any = true;
    faults->no_fencing = std::string{off} == "1";
    if (faults->no_fencing)
      CQRS_LOG(warning, "main",
               "fault injection: fencing is off; a deposed leader reconnects "
               "and writes without the leader lock");
  }
  if (!any)
    return nullptr;
  return faults;
}

} // namespace cqrs
