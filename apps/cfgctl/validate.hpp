// `cfgctl validate`: offline checks of a file (syntax, and a JSON Schema).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace cfgctl {

struct validate_options {
  std::string file;
  std::string schema;
  /// `file` holds a JSON array whose elements are validated one by one.
  bool each = false;
  /// URI=DIR: `$ref`s under URI are read from files under DIR.
  std::vector<std::string> ref_dirs;
};

/// Adds `validate`'s arguments to its subcommand `cmd`, filling `opts`.
void add_validate_options(CLI::App& cmd, validate_options& opts);

/// Parses the file and checks it against the schema, printing every error
/// with its line and column or path. With `each`, one line per element.
int cmd_validate(const validate_options& opts, bool json);

} // namespace cfgctl
