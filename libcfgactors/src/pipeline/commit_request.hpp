// Private: what the validator asks the store to commit: an admitted candidate.
#pragma once

#include <string>

#include <caf/allowed_unsafe_message_type.hpp>

#include <nlohmann/json.hpp>

#include "cfgactors/layer.hpp"
#include "cfgactors/secrets.hpp"

namespace cfgactors {

struct commit_request {
  layer_stack layers;
  json effective;
  std::string origin;
  secret_paths_ptr secrets; ///< in force for this version

  friend bool operator==(const commit_request& x, const commit_request& y) {
    return x.layers == y.layers && x.effective == y.effective
           && x.origin == y.origin;
  }
};

} // namespace cfgactors

// Validator and store always run in the same process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cfgactors::commit_request)
