#include "cfgactors/operation.hpp"

namespace cfgactors {

std::string to_string(op_kind x) {
  switch (x) {
    case op_kind::set: return "set";
    case op_kind::unset: return "unset";
    case op_kind::reset: return "reset";
    case op_kind::merge_patch: return "merge_patch";
    case op_kind::replace_layer: return "replace_layer";
    case op_kind::remove_layer: return "remove_layer";
    case op_kind::flag: return "flag";
    case op_kind::rollback: return "rollback";
  }
  return "op_kind(" + std::to_string(static_cast<int>(x)) + ")";
}

namespace {

operation make(op_kind kind, std::string path, json value = nullptr,
               std::string layer = {}, uint64_t version = 0) {
  return operation{kind, std::move(path), std::move(value), std::move(layer),
                   version};
}

} // namespace

operation operation::set(std::string path, json value) {
  return make(op_kind::set, std::move(path), std::move(value));
}

operation operation::unset(std::string path) {
  return make(op_kind::unset, std::move(path));
}

operation operation::reset(std::string path) {
  return make(op_kind::reset, std::move(path));
}

operation operation::merge_patch(json patch, std::string path) {
  return make(op_kind::merge_patch, std::move(path), std::move(patch));
}

operation operation::replace_layer(std::string layer, json data) {
  return make(op_kind::replace_layer, {}, std::move(data), std::move(layer));
}

operation operation::remove_layer(std::string layer) {
  return make(op_kind::remove_layer, {}, nullptr, std::move(layer));
}

operation operation::flag(std::string name, bool enabled) {
  return make(op_kind::flag, std::move(name), enabled);
}

operation operation::rollback(uint64_t version) {
  return make(op_kind::rollback, {}, nullptr, {}, version);
}

} // namespace cfgactors
