// libFuzzer target: loading a configuration file. parse_settings must turn
// any text into either valid settings or an error that says what is wrong;
// it must never crash, throw out of itself or leak.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/settings.hpp"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "config_fuzzer: invariant broken: %s\n", what);
    std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // `${VAR}` substitution reads the environment: give the seeds' variables a
  // value so that the fuzzer reaches the settings behind them. Variables
  // that stay unset exercise the error path.
  setenv("CQRSD_POSTGRESQL", "host=127.0.0.1 dbname=cqrsd", 0);
  setenv("CQRSD_WRITE_TOKEN", "secret", 0);
  setenv("CQRSD_FUZZ_PORT", "8080", 0);
  setenv("CQRSD_FUZZ_EMPTY", "", 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text{reinterpret_cast<const char*>(data), size};
  cqrs::config_error err;
  auto parsed = cqrs::parse_settings(text, err);
  if (!parsed) {
    check(!err.message.empty(), "a rejected config without a message");
    check(!cqrs::to_string(err).empty(), "an error without text");
    return 0;
  }
  // Whatever parses must be settings a node can start with.
  const auto& s = *parsed;
  check(!s.node.name.empty(), "an empty node.name");
  check(s.http.threads >= 1 && s.http.threads <= 1024, "http.threads range");
  check(s.http.max_body_bytes >= 1, "http.max_body_bytes range");
  check(!s.http.host.empty(), "an empty http host");
  check(s.query.actors >= 1, "query.actors range");
  check(cqrs::to_string(s.node.role) != nullptr, "a role without a name");
  return 0;
}
