// cfgctl push FILE: the seed's RemoteConfig.push_config. The file (YAML or
// JSON, by its extension) becomes cfgd's runtime layer through PUT /config,
// checked locally for syntax first so that a typo is named by line and
// column before anything is sent.
#include <iostream>

#include "cfgactors/parse.hpp"

#include "commands.hpp"

namespace cfgctl {

int cmd_push(const context& ctx, const std::string& file) {
  if (!cfgactors::format_for_path(file)) {
    std::cerr << "cfgctl: " << file
              << ": push takes a .yaml, .yml or .json file\n";
    return exit_usage;
  }
  auto doc = cfgactors::parse_file(file);
  if (!doc) {
    // `file:line:column: reason`, as cmd_validate prints it.
    std::cerr << "cfgctl: " << doc.error->str() << '\n';
    return exit_usage;
  }
  if (!doc.value.is_object()) {
    std::cerr << "cfgctl: " << file
              << ": the pushed config must be a mapping (an object) at its "
                 "top level, got "
              << doc.value.type_name() << '\n';
    return exit_usage;
  }
  return write_outcome(ctx, ctx.cli.send("PUT", "/config" + query(ctx),
                                         doc.value.dump()));
}

} // namespace cfgctl
