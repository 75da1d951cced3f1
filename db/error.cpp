// Reading the code and the message back out of a caf::error.
#include "db/error.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>

namespace cqrs {

namespace {

bool is_cqrs(const caf::error& err) {
  return err.category() == caf::atom("cqrs");
}

} // namespace

std::string error_message(const caf::error& err) {
  if (!err)
    return "no error";
  if (is_cqrs(err)) {
    const auto& ctx = err.context();
    if (ctx.size() > 0 && ctx.match_element<std::string>(0))
      return ctx.get_as<std::string>(0);
    return to_string(static_cast<ec>(err.code()));
  }
  return caf::to_string(err);
}

ec error_code(const caf::error& err) {
  if (!err)
    return ec::none;
  if (is_cqrs(err))
    return static_cast<ec>(err.code());
  return ec::internal;
}

} // namespace cqrs
