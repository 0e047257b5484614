#define CAF_SUITE apply_sharing
// A write edits the runtime layer's tree: the layer it leaves shares every
// node the write did not change with the layer before, whatever the kind
// of write, and its diff against that layer names just what changed.
#include "cfgactors_test.hpp"

#include <string>

#include "model/config_tree.hpp"
#include "tree_parts.hpp"
#include "write/apply.hpp"
#include "write/touched.hpp"

namespace apply_sharing_suite {

using namespace cfgactors;
using detail::config_node;

namespace {

json sections(std::size_t keys) {
  json result = json::object();
  for (std::size_t i = 0; i < keys; ++i)
    result["s" + std::to_string(i / 100)]["k" + std::to_string(i % 100)] = i;
  result["features"]["beta"] = false;
  result["list"] = json::array({1, 2, 3});
  return result;
}

} // namespace

CAF_TEST(every kind of write shares the rest of a large runtime layer) {
  layer_stack layers;
  layers.put("defaults", json::parse(R"({"list": [1, 2, 3]})"));
  layers.put(std::string{runtime_layer}, sections(20000));
  // As the validator has it after a first write: the layer as a tree.
  auto& before = *layers.data(runtime_layer)->tree();
  struct {
    operation op;
    const char* touched;
  } writes[] = {
    {operation::set("s7.k3", 1), "s7.k3"},
    {operation::set("s7.new", 1), "s7.new"},
    {operation::unset("s7.k3"), "s7.k3"},
    {operation::reset("s7.k3"), "s7.k3"},
    {operation::flag("beta", true), "features.beta"},
    {operation::merge_patch(json{{"k3", 5}}, "s7"), "s7.k3"},
    {operation::merge_patch(json{{"s7", {{"k3", nullptr}}}}), "s7.k3"},
    {operation::set("list[1]", 9), "list"},
  };
  for (auto& w : writes) {
    auto candidate = layers;
    validation_errors errors;
    write_request req{{w.op}, "test", 0, {}};
    CAF_REQUIRE_EQUAL(detail::apply_operations(candidate, req, 64, errors),
                      errc::none);
    auto& after = *candidate.data(runtime_layer)->tree();
    auto n = test::parts_made(before, after);
    CAF_MESSAGE(w.touched << ": " << n << " nodes and blocks made");
    // The path's nodes and its blocks: the root (3 levels of blocks for
    // 200 sections: 2), the section (2), the value.
    CAF_CHECK_LESS_OR_EQUAL(n, 10u);
    auto touched = detail::touched_paths(layers, candidate);
    CAF_CHECK_EQUAL(touched, std::vector<std::string>{w.touched});
  }
}

} // namespace apply_sharing_suite
