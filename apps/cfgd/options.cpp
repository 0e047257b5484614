// Command line and options file of cfgd. The options file is YAML whose keys
// are the long flag names (`file: [a.yaml]`, `http: 127.0.0.1:7070`); CLI11
// reads it through a Config adapter, so flags given on the command line win
// and every validator applies to both.
#include "options.hpp"

#include <charconv>
#include <iterator>
#include <memory>
#include <iostream>
#include <utility>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cfgactors/parse.hpp"

namespace cfgd {

std::optional<host_port> host_port::parse(const std::string& text,
                                          std::string* error) {
  auto fail = [&](std::string msg) -> std::optional<host_port> {
    if (error)
      *error = std::move(msg);
    return std::nullopt;
  };
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size()
        || text[close + 1] != ':')
      return fail("expected [IPV6]:PORT, got '" + text + "'");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos)
      return fail("expected HOST:PORT, got '" + text + "'");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos)
      return fail("write an IPv6 address in brackets: [" + host + "]:" + port);
  }
  if (host.empty())
    return fail("missing host in '" + text + "'");
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(),
                                   value);
  if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size()
      || value > 65535)
    return fail("port must be a number in 0..65535, got '" + port + "'");
  return host_port{std::move(host), static_cast<uint16_t>(value)};
}

namespace {

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0')
    return "localhost";
  return buf;
}

/// Reads cfgd's YAML options file for CLI11: one ConfigItem per top-level
/// key; a list becomes several inputs of the same option.
class yaml_options_file : public CLI::Config {
public:
  explicit yaml_options_file(const CLI::App* app) : app_(app) {
    // nop
  }

  std::string to_config(const CLI::App*, bool, bool,
                        std::string) const override {
    return {}; // cfgd never writes its options back
  }

  std::vector<CLI::ConfigItem> from_config(std::istream& in) const override {
    std::string text{std::istreambuf_iterator<char>{in}, {}};
    auto source = source_name();
    auto doc = cfgactors::parse_document(text, cfgactors::document_format::yaml,
                                         source);
    if (!doc)
      throw CLI::ConfigError(doc.error->str());
    if (!doc.value.is_object())
      throw CLI::ConfigError(source + ": expected a mapping of option names");
    std::vector<CLI::ConfigItem> items;
    for (auto& [key, value] : doc.value.items()) {
      CLI::ConfigItem item;
      item.name = key;
      // `node_name` and `node-name` both name --node-name.
      for (auto& c : item.name)
        if (c == '_')
          c = '-';
      if (app_->get_option_no_throw("--" + item.name) == nullptr)
        throw CLI::ConfigError(source + ": unknown option '" + key + "'");
      if (value.is_null())
        continue;
      if (value.is_array()) {
        for (auto& x : value)
          item.inputs.push_back(scalar(source, key, x));
      } else {
        item.inputs.push_back(scalar(source, key, value));
      }
      items.push_back(std::move(item));
    }
    return items;
  }

private:
  std::string source_name() const {
    if (auto opt = app_->get_config_ptr(); opt && opt->count() > 0)
      return opt->as<std::string>();
    return "config-file";
  }

  static std::string scalar(const std::string& source, const std::string& key,
                            const cfgactors::json& x) {
    if (x.is_string())
      return x.get<std::string>();
    if (x.is_boolean() || x.is_number())
      return x.dump();
    throw CLI::ConfigError(source + ": option '" + key
                           + "' takes a value or a list of values");
  }

  const CLI::App* app_;
};

} // namespace

std::optional<options> parse_options(int argc, char** argv, int& exit_code) {
  options opts;
  opts.node_name = hostname();
  std::string http = "127.0.0.1:7070";
  std::string logs = "text";
  CLI::App app{"cfgd: the cfgactors configuration daemon. Runs the config "
               "pipeline and serves it over HTTP.",
               "cfgd"};
  app.set_config("--config-file", "",
                 "cfgd's own options as YAML; keys are the long flag names "
                 "(flags given here win)")
    ->type_name("PATH");
  app.config_formatter(std::make_shared<yaml_options_file>(&app));
  app.add_option("--file", opts.files,
                 "configuration file (YAML or JSON), one layer each, lowest "
                 "precedence first; repeatable. Without it cfgd runs on its "
                 "embedded example config")
    ->type_name("PATH")
    ->allow_extra_args(false);
  app.add_option("--schema", opts.schema,
                 "JSON Schema (draft 7) every config must satisfy")
    ->type_name("PATH");
  app
    .add_option("--http", http,
                "HTTP address HOST:PORT (port 0 picks a free port)")
    ->type_name("HOST:PORT")
    ->capture_default_str()
    ->check(CLI::Validator(
      [](std::string& text) {
        std::string error;
        return host_port::parse(text, &error) ? std::string{} : error;
      },
      "", "host_port"));
  app.add_option("--node-name", opts.node_name, "name of this node")
    ->type_name("NAME")
    ->capture_default_str();
  app.add_option("--log-format", logs, "log lines as text (key=value) or json")
    ->type_name("text|json")
    ->capture_default_str()
    ->check(CLI::IsMember({"text", "json"}).description(""));
  app
    .add_option("--scheduler", opts.scheduler,
                "CAF scheduler policy (work stealing spins on idle cores)")
    ->type_name("sharing|stealing")
    ->capture_default_str()
    ->check(CLI::IsMember({"sharing", "stealing"}).description(""));
  app.add_option("--history", opts.history,
                 "versions kept in history (1..1000000)")
    ->type_name("N")
    ->capture_default_str()
    ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}).description(""));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e) == 0 ? exit_ok : exit_usage;
    return std::nullopt;
  }
  opts.config_file = app.get_config_ptr()->count() > 0
                       ? app.get_config_ptr()->as<std::string>()
                       : std::string{};
  opts.http = *host_port::parse(http);
  opts.logs = logs == "json" ? log_format::json : log_format::text;
  if (opts.node_name.empty()) {
    std::cerr << "--node-name: must not be empty\n";
    exit_code = exit_usage;
    return std::nullopt;
  }
  return opts;
}

} // namespace cfgd
