// `cfgctl eval`: fetches the flags from cfgd and evaluates them here, with
// the library's feature_flags and the same OFREP mapping cfgd serves. A
// second path to the same evaluator: where cfgd's OFREP answer and this
// one differ, one of the two paths is wrong.
#include "commands.hpp"

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "cfgactors/flags.hpp"
#include "cfgactors/ofrep.hpp"

namespace cfgctl {

using nlohmann::json;

namespace {

/// The answer as one JSON object: the OFREP body, plus the library's own
/// reason beside the protocol's.
json eval_json(const cfgactors::ofrep_answer& a) {
  auto out = a.body;
  out["status"] = a.status;
  if (a.result)
    out["cfgactors_reason"] = a.result->reason;
  return out;
}

void print_human(const cfgactors::ofrep_answer& a) {
  auto& b = a.body;
  if (b.contains("errorCode")) {
    std::cout << "error: " << b["errorCode"].get<std::string>() << ": "
              << b.value("errorDetails", "") << '\n';
    return;
  }
  std::cout << "value: "
            << (b.contains("value") ? b["value"].dump()
                                    : std::string{"(code default)"})
            << '\n'
            << "variant: " << b.value("variant", "-") << '\n'
            << "reason: " << b.value("reason", "?") << " ("
            << (a.result ? a.result->reason : std::string{"?"}) << ")\n";
}

} // namespace

int cmd_eval(const context& ctx, const std::string& name,
             const std::vector<std::string>& attributes,
             const std::string& keys_file) {
  json context = json::object();
  for (auto& attr : attributes) {
    auto eq = attr.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "cfgctl: eval: '" << attr
                << "' is not an attribute; expected NAME=VALUE\n";
      return exit_usage;
    }
    context[attr.substr(0, eq)] = attr.substr(eq + 1);
  }
  std::ifstream keys;
  if (!keys_file.empty()) {
    keys.open(keys_file);
    if (!keys) {
      std::cerr << "cfgctl: eval: cannot read --targeting-keys file '"
                << keys_file << "'\n";
      return exit_usage;
    }
  }
  // Only the flags travel; a config without `features` has no flags.
  auto r = ctx.cli.get("/config/features");
  json config = json::object();
  if (r.status == 200)
    config["features"] = std::move(r.body);
  else if (r.status != 404)
    return report_failure(r, ctx.json);
  cfgactors::feature_flags flags{config};
  if (keys.is_open()) {
    // One line per key, always JSON: the batch is for scripts and tests.
    for (std::string key; std::getline(keys, key);) {
      if (!key.empty() && key.back() == '\r')
        key.pop_back();
      if (key.empty())
        continue;
      context["targetingKey"] = key;
      auto out = eval_json(cfgactors::ofrep_evaluate(flags, name, context));
      out["targetingKey"] = key;
      std::cout << out.dump() << '\n';
    }
    return exit_ok;
  }
  auto a = cfgactors::ofrep_evaluate(flags, name, context);
  if (ctx.json)
    std::cout << eval_json(a).dump() << '\n';
  else
    print_human(a);
  return a.status == 200 ? exit_ok : exit_rejected;
}

} // namespace cfgctl
