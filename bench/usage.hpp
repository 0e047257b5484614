// How every bench answers its command line: --help (or -h) prints the usage
// on stdout and exits 0; a refused command line says what was wrong, then
// the usage, on stderr, and exits 2 before anything runs. The test
// bench.command_lines holds every bench to both.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace bench {

/// Whether the command line asks for the usage: --help or -h anywhere.
inline bool wants_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg{argv[i]};
    if (arg == "--help" || arg == "-h")
      return true;
  }
  return false;
}

/// The usage, asked for: on stdout, exit code 0.
inline int help(const char* usage) {
  std::fputs(usage, stdout);
  return 0;
}

/// "NAME: WHY" and the usage on stderr: exit code 2.
inline int refuse(const char* name, const std::string& why,
                  const char* usage) {
  std::fprintf(stderr, "%s: %s\n%s", name, why.c_str(), usage);
  return 2;
}

} // namespace bench
