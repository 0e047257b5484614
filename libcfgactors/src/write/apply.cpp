// Applying operations (set, unset, reset, merge_patch, replace_layer,
// remove_layer, flag) to a layer stack: the first step of every write.
#include "write/apply.hpp"

#include <string>
#include <variant>

#include "cfgactors/merge.hpp"
#include "cfgactors/path.hpp"
#include "model/config_tree.hpp"
#include "write/merged_value.hpp"

namespace cfgactors::detail {

namespace {

/// The runtime layer as a tree to edit: edits make what they change and
/// share the rest with the layer of the version before. A null or missing
/// layer starts as an empty object: a null contributes nothing
/// (layer_stack::effective), but as the start of a patch it would mean
/// "delete everything".
config_tree runtime_tree(const layer_stack& layers) {
  if (auto data = layers.data(runtime_layer)) {
    config_tree tree{data->tree()};
    if (!tree.root().is_null())
      return tree;
  }
  return config_tree{json::object()};
}

void put_runtime(layer_stack& layers, const config_tree& tree) {
  layers.put(std::string{runtime_layer}, layer_data{tree.root_ptr()});
}

/// Copies the first array on `path` from the merged layers into the runtime
/// layer: overlays replace arrays whole, so editing one element needs the
/// whole array in the overlay.
void materialize_arrays(config_tree& runtime, const layer_stack& layers,
                        const config_path& path) {
  config_path prefix;
  for (auto& seg : path.segments) {
    if (std::holds_alternative<std::size_t>(seg)) {
      auto existing = runtime.find(prefix);
      if (existing && existing->is_array())
        return;
      auto source = merged_value(layers, prefix);
      if (source && source->is_array())
        runtime.assign(prefix, *source);
      return;
    }
    prefix.segments.push_back(seg);
  }
}

/// merge_overlays(runtime at `at`, overlay, the lower layers at `at`) on
/// the runtime layer's tree, where both are objects: a member the overlay
/// holds as a value, a tombstone or an object the runtime layer lacks is
/// set; an object over an object recurses; an object over a value replaces
/// it, deleting the lower layers' other members there one by one, which
/// reads those layers at that path only (merged_value), not merged whole.
void merge_patch_tree(config_tree& runtime, const layer_stack& layers,
                      config_path& at, const json& overlay) {
  for (auto it = overlay.begin(); it != overlay.end(); ++it) {
    at.segments.emplace_back(it.key());
    auto node = runtime.find(at);
    if (!it->is_object() || node == nullptr) {
      runtime.assign(at, *it);
    } else if (node->is_object()) {
      merge_patch_tree(runtime, layers, at, *it);
    } else {
      auto target = to_json(*node);
      auto lower = merged_value(layers, at, runtime_layer).value_or(json{});
      merge_overlays(target, *it, lower);
      runtime.assign(at, target);
    }
    at.segments.pop_back();
  }
}

bool crosses_array(const config_path& path) {
  for (auto& seg : path.segments)
    if (std::holds_alternative<std::size_t>(seg))
      return true;
  return false;
}

/// Applies one operation; returns errc::none on success.
errc apply_one(layer_stack& layers, const operation& op,
               validation_errors& errors) {
  auto fail = [&](errc code, std::string path, std::string rule,
                  std::string msg) {
    errors.push_back({std::move(path), std::move(rule), std::move(msg)});
    return code;
  };
  auto parse_path = [&](const std::string& text) -> std::optional<config_path> {
    std::string err;
    auto path = config_path::parse(text, &err);
    if (!path)
      fail(errc::invalid_argument, text, "path", err);
    return path;
  };
  switch (op.kind) {
    case op_kind::set:
    case op_kind::flag: {
      auto text = op.kind == op_kind::flag ? "features." + op.path : op.path;
      if (op.kind == op_kind::flag && (op.path.empty() || !op.value.is_boolean()))
        return fail(errc::invalid_argument, text, "flag",
                    op.path.empty() ? "a flag needs a name"
                                    : "a flag is switched with true or false");
      auto path = parse_path(text);
      if (!path)
        return errc::invalid_argument;
      if (path->empty()) {
        if (!op.value.is_object())
          return fail(errc::invalid_argument, "", "type",
                      "the root of the configuration must be an object");
        layers.put(std::string{runtime_layer}, op.value);
        return errc::none;
      }
      if (op.kind == op_kind::flag) {
        // A flag with rollout or rules keeps them: only `enabled` flips.
        auto node = merged_value(layers, *path);
        if (node && node->is_object())
          path->segments.emplace_back(std::string{"enabled"});
      }
      auto runtime = runtime_tree(layers);
      materialize_arrays(runtime, layers, *path);
      std::string err;
      if (!runtime.assign(*path, op.value, &err))
        return fail(errc::invalid_argument, text, "path", err);
      put_runtime(layers, runtime);
      return errc::none;
    }
    case op_kind::unset: {
      auto path = parse_path(op.path);
      if (!path)
        return errc::invalid_argument;
      if (path->empty() || !merged_value(layers, *path))
        return fail(errc::not_found, op.path, "path",
                    "no value at this path");
      auto runtime = runtime_tree(layers);
      materialize_arrays(runtime, layers, *path);
      if (crosses_array(*path)) {
        runtime.erase(*path);
        put_runtime(layers, runtime);
        return errc::none;
      }
      std::string err;
      if (!runtime.assign(*path, json{}, &err))
        return fail(errc::invalid_argument, op.path, "path", err);
      put_runtime(layers, runtime);
      return errc::none;
    }
    case op_kind::reset: {
      auto path = parse_path(op.path);
      if (!path)
        return errc::invalid_argument;
      if (path->empty()) {
        layers.remove(runtime_layer);
        return errc::none;
      }
      auto data = layers.data(runtime_layer);
      config_tree runtime{data ? data->tree() : nullptr};
      if (!runtime.erase(*path))
        return fail(errc::not_found, op.path, "path",
                    "no runtime override at this path");
      put_runtime(layers, runtime);
      return errc::none;
    }
    case op_kind::merge_patch: {
      auto path = parse_path(op.path);
      if (!path)
        return errc::invalid_argument;
      if (path->empty() && !op.value.is_object())
        return fail(errc::invalid_argument, "", "type",
                    "a merge patch of the root must be an object");
      if (crosses_array(*path)) {
        // Below an array the runtime layer holds data, not a patch (its
        // array replaces the lower one whole): copy the array up and merge
        // into it in place.
        auto runtime = runtime_tree(layers);
        materialize_arrays(runtime, layers, *path);
        auto node = runtime.find(*path);
        auto target = node ? to_json(*node) : json::object();
        merge_into(target, op.value);
        std::string err;
        if (!runtime.assign(*path, target, &err))
          return fail(errc::invalid_argument, op.path, "path", err);
        put_runtime(layers, runtime);
        return errc::none;
      }
      // Object keys only: the patch is `value` under those keys, combined
      // with the whole runtime layer, so that a value or a deletion the
      // runtime layer holds at or above `path` keeps hiding what the layers
      // below hold there.
      auto patch = op.value;
      for (auto seg = path->segments.rbegin(); seg != path->segments.rend();
           ++seg) {
        auto outer = json::object();
        outer[std::get<std::string>(*seg)] = std::move(patch);
        patch = std::move(outer);
      }
      auto runtime = runtime_tree(layers);
      config_path root;
      merge_patch_tree(runtime, layers, root, patch);
      put_runtime(layers, runtime);
      return errc::none;
    }
    case op_kind::replace_layer: {
      if (op.layer.empty())
        return fail(errc::invalid_argument, "", "layer",
                    "a layer needs a name");
      if (!op.value.is_object() && !op.value.is_null())
        return fail(errc::invalid_argument, "", "type",
                    "layer '" + op.layer
                      + "' must be an object (a mapping at the top level)");
      layers.put(op.layer, op.value.is_null() ? json::object() : op.value);
      return errc::none;
    }
    case op_kind::remove_layer:
      if (!layers.remove(op.layer))
        return fail(errc::not_found, "", "layer",
                    "no layer named '" + op.layer + "'");
      return errc::none;
    case op_kind::rollback:
      return fail(errc::invalid_argument, "", "rollback",
                  "a rollback cannot be part of a transaction");
  }
  return fail(errc::invalid_argument, "", "operation", "unknown operation");
}

} // namespace

errc apply_operations(layer_stack& layers, const write_request& req,
                      std::size_t max_depth, validation_errors& errors) {
  for (auto& op : req.ops) {
    // Reject hostile nesting before anything recursive touches the value.
    if (auto depth = nesting_depth(op.value); depth > max_depth) {
      errors.push_back({op.path, "limit.depth",
                        "value nests " + std::to_string(depth)
                          + " levels; the limit is "
                          + std::to_string(max_depth)});
      return errc::too_deep;
    }
    if (auto code = apply_one(layers, op, errors); code != errc::none)
      return code;
  }
  return errc::none;
}

} // namespace cfgactors::detail
