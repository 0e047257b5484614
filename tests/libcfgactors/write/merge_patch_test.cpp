#define CAF_SUITE merge_patch
// A merge patch reads the layers below the runtime layer only where the
// patch goes: the runtime layer it leaves is the one a patch against the
// whole merge of those layers leaves, on random stacks and patches.
#include "cfgactors_test.hpp"

#include <random>
#include <string>

#include "cfgactors/merge.hpp"
#include "write/apply.hpp"

namespace merge_patch_suite {

using namespace cfgactors;

namespace {

std::string key(std::mt19937& rng) {
  return std::string(1, static_cast<char>('a' + rng() % 3));
}

json random_value(std::mt19937& rng, int depth, bool tombstones) {
  switch (rng() % (depth < 3 ? 6 : 3)) {
    case 0:
      return tombstones ? json{} : json(7);
    case 1:
      return static_cast<int>(rng() % 4);
    case 2:
      return json::array({static_cast<int>(rng() % 3)});
    default: {
      json obj = json::object();
      for (auto n = rng() % 4; n > 0; --n)
        obj[key(rng)] = random_value(rng, depth + 1, tombstones);
      return obj;
    }
  }
}

json random_object(std::mt19937& rng, bool tombstones) {
  json obj = json::object();
  for (auto n = 1 + rng() % 3; n > 0; --n)
    obj[key(rng)] = random_value(rng, 1, tombstones);
  return obj;
}

// The runtime layer after patching `patch` at `path` against the whole
// merge of the layers below it (what apply did before it read them along
// the patch only).
json reference(const layer_stack& layers, const json& patch,
               const std::vector<std::string>& path) {
  auto lower = json::object();
  for (auto& l : layers)
    if (l.name != runtime_layer && !l.data->is_null())
      merge_into(lower, *l.data);
  auto runtime = layers.get(runtime_layer) && !layers.get(runtime_layer)->is_null()
                   ? *layers.get(runtime_layer)
                   : json::object();
  auto wrapped = patch;
  for (auto k = path.rbegin(); k != path.rend(); ++k)
    wrapped = json{{*k, std::move(wrapped)}};
  merge_overlays(runtime, wrapped, lower);
  return runtime;
}

} // namespace

CAF_TEST(a merge patch leaves the runtime layer a whole merge would) {
  std::mt19937 rng{99};
  std::size_t tombstoned = 0;
  for (int round = 0; round < 3000; ++round) {
    layer_stack layers;
    layers.put("defaults", random_object(rng, false));
    if (rng() % 2 == 0)
      layers.put("file:a", random_object(rng, true));
    if (rng() % 4 != 0)
      layers.put("runtime", random_object(rng, true));
    std::vector<std::string> path;
    for (auto n = rng() % 3; n > 0; --n)
      path.push_back(key(rng));
    auto patch = random_object(rng, true);
    std::string dotted;
    for (auto& k : path)
      dotted += (dotted.empty() ? "" : ".") + k;
    auto want = reference(layers, patch, path);
    validation_errors errors;
    write_request req{{operation::merge_patch(patch, dotted)}, "test", 0, {}};
    auto candidate = layers;
    auto code = detail::apply_operations(candidate, req, 64, errors);
    CAF_REQUIRE_EQUAL(code, errc::none);
    auto got = *candidate.get(runtime_layer);
    if (got != want)
      CAF_MESSAGE("layers " << layers.to_json().dump() << " patch "
                            << patch.dump() << " at '" << dotted << "'");
    CAF_CHECK_EQUAL(got, want);
    // Tombstones: the patch deletes lower members (its own nulls, or one
    // by one where an object of it replaces a value of the runtime layer).
    if (want.dump().find("null") != std::string::npos)
      ++tombstoned;
  }
  CAF_MESSAGE(tombstoned << " of 3000 runtime layers hold tombstones");
  CAF_CHECK_GREATER(tombstoned, 300u);
}

} // namespace merge_patch_suite
