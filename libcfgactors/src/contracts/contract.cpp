#include "cfgactors/contract.hpp"

#include <stdexcept>

#include "cfgactors/snapshot.hpp"

namespace cfgactors {

contract::~contract() {
  // nop
}

std::string contract::prefix() const {
  return {};
}

std::optional<semver> contract::min_schema_version() const {
  return std::nullopt;
}

validation_errors contract::validate(const json&) const {
  return {};
}

void contract::apply(const snapshot&) {
  // nop
}

std::optional<std::string> contract::health_check() {
  return std::nullopt;
}

namespace {

class function_contract : public contract {
public:
  function_contract(std::string name, std::string prefix,
                    std::optional<semver> min_version,
                    contract_builder::validate_fn validate,
                    contract_builder::apply_fn apply,
                    contract_builder::health_fn health)
    : name_(std::move(name)),
      prefix_(std::move(prefix)),
      min_version_(std::move(min_version)),
      validate_(std::move(validate)),
      apply_(std::move(apply)),
      health_(std::move(health)) {
    // nop
  }

  std::string name() const override {
    return name_;
  }

  std::string prefix() const override {
    return prefix_;
  }

  std::optional<semver> min_schema_version() const override {
    return min_version_;
  }

  validation_errors validate(const json& candidate) const override {
    return validate_ ? validate_(candidate) : validation_errors{};
  }

  void apply(const snapshot& snap) override {
    if (apply_)
      apply_(snap);
  }

  std::optional<std::string> health_check() override {
    return health_ ? health_() : std::nullopt;
  }

private:
  std::string name_;
  std::string prefix_;
  std::optional<semver> min_version_;
  contract_builder::validate_fn validate_;
  contract_builder::apply_fn apply_;
  contract_builder::health_fn health_;
};

} // namespace

contract_builder::contract_builder(std::string name) : name_(std::move(name)) {
  if (name_.empty())
    throw std::invalid_argument("a contract needs a name");
}

contract_builder& contract_builder::prefix(std::string path) {
  prefix_ = std::move(path);
  return *this;
}

contract_builder& contract_builder::min_schema_version(std::string_view text) {
  std::string err;
  auto version = semver::parse(text, &err);
  if (!version)
    throw std::invalid_argument("contract \"" + name_
                                + "\": min_schema_version: " + err);
  min_schema_version_ = std::move(*version);
  return *this;
}

contract_builder& contract_builder::validate(validate_fn fn) {
  validate_ = std::move(fn);
  return *this;
}

contract_builder& contract_builder::apply(apply_fn fn) {
  apply_ = std::move(fn);
  return *this;
}

contract_builder& contract_builder::health(health_fn fn) {
  health_ = std::move(fn);
  return *this;
}

std::shared_ptr<contract> contract_builder::build() const {
  return std::make_shared<function_contract>(name_, prefix_,
                                             min_schema_version_, validate_,
                                             apply_, health_);
}

} // namespace cfgactors
