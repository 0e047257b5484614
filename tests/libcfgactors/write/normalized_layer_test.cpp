#define CAF_SUITE normalized_layer
// A layer a write edited, normalized where it changed, equals the layer
// normalized whole: over random writes of strings to paths that properties,
// patternProperties, additionalProperties, items, allOf and $ref give rules.
#include "cfgactors_test.hpp"

#include <random>
#include <string>

#include "cfgactors/schema.hpp"
#include "model/config_tree.hpp"
#include "write/apply.hpp"
#include "write/normalized_layer.hpp"

namespace normalized_layer_suite {

using namespace cfgactors;

namespace {

json_schema_ptr schema() {
  std::string err;
  auto result = json_schema::compile(json::parse(R"({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "definitions": {"code": {"x-normalize": ["trim", "upper"]}},
    "type": "object",
    "properties": {
      "logging": {"properties": {"level": {"x-normalize": "upper"}}},
      "names": {"additionalProperties": {"x-normalize": "trim"}},
      "codes": {"items": {"$ref": "#/definitions/code"}},
      "mixed": {"allOf": [{"$ref": "#/definitions/code"}]}
    },
    "patternProperties": {"^tag_": {"x-normalize": "lower"}}
  })"), &err);
  CAF_REQUIRE(result != nullptr);
  CAF_REQUIRE(result->normalizes());
  return result;
}

std::string random_text(std::mt19937& rng) {
  const char* words[] = {" Debug ", "info", "MiXed", "  x", "Y  ", "ok"};
  return words[rng() % std::size(words)];
}

operation random_write(std::mt19937& rng) {
  switch (rng() % 7) {
    case 0:
      return operation::set("logging.level", random_text(rng));
    case 1:
      return operation::set("names.n" + std::to_string(rng() % 4),
                            random_text(rng));
    case 2:
      return operation::set("codes",
                            json::array({random_text(rng), random_text(rng)}));
    case 3:
      return operation::set("mixed", random_text(rng));
    case 4:
      return operation::set("tag_" + std::to_string(rng() % 3),
                            random_text(rng));
    case 5:
      return operation::set("plain.p" + std::to_string(rng() % 3),
                            random_text(rng));
    default:
      return operation::merge_patch(
        json{{"names", {{"n" + std::to_string(rng() % 4), random_text(rng)}}},
             {"logging", {{"level", random_text(rng)}}}});
  }
}

} // namespace

CAF_TEST(normalizing where a write changed equals normalizing the layer) {
  auto rules = schema();
  std::mt19937 rng{17};
  layer_stack layers;
  layers.put(std::string{runtime_layer}, json::object());
  std::size_t rewrote = 0;
  for (int round = 0; round < 2000; ++round) {
    auto candidate = layers;
    validation_errors errors;
    write_request req{{random_write(rng)}, "test", 0, {}};
    CAF_REQUIRE_EQUAL(detail::apply_operations(candidate, req, 64, errors),
                      errc::none);
    auto& before = *layers.data(runtime_layer);
    auto& after = *candidate.data(runtime_layer);
    (void) before.tree(); // as apply left them: both trees
    CAF_REQUIRE(after.has_tree());
    auto got = detail::normalized_layer(*rules, before, after);
    auto want = rules->normalized(*after);
    CAF_CHECK_EQUAL(got.has_value(), want.has_value());
    if (got && want)
      CAF_CHECK_EQUAL(**got, *want);
    rewrote += got ? 1 : 0;
    layers.put(std::string{runtime_layer}, got ? *got : after);
  }
  CAF_MESSAGE(rewrote << " of 2000 writes needed a rule");
  CAF_CHECK_GREATER(rewrote, 500u);
  // And the layer is normalized: a whole pass finds nothing more.
  CAF_CHECK(!rules->normalized(*layers.get(runtime_layer)));
}

} // namespace normalized_layer_suite
