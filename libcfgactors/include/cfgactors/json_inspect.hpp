// Lets a JSON member travel in CAF messages as its compact text.
#pragma once

#include <string>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/none.hpp>
#include <caf/sec.hpp>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors {

/// A view on a json member for inspect(); use as `json_field{x.value}`.
struct json_field {
  json& ref;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, json_field x) {
  std::string text;
  if constexpr (Inspector::reads_state)
    text = x.ref.dump(-1, ' ', false, json::error_handler_t::replace);
  auto load = [&]() -> caf::error {
    x.ref = json::parse(text, nullptr, false);
    if (x.ref.is_discarded())
      return caf::make_error(caf::sec::invalid_argument, "malformed JSON");
    return caf::none;
  };
  return f(text, caf::meta::load_callback(load));
}

} // namespace cfgactors
