// Fuzzes the env source's mapping of variables to a layer (build_env_layer):
// names to paths, values to JSON coerced to a schema's types, `file://`
// secrets. Input: NAME=VALUE entries, one per line (or NUL-separated when
// the input holds a NUL). A first entry starting with '#' sets options:
// `schema` (coerce by a small schema) and `prefix=XYZ` (default CFG_).
// `file:///x` values are redirected to the file `x` in a directory of test
// secrets made at start, so the fuzzer never reads the machine's files.
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cfgactors/hash.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/schema.hpp"
#include "sources/env_layer.hpp"

#include "fuzz_check.hpp"

using namespace cfgactors;

namespace {

namespace fs = std::filesystem;

constexpr std::string_view scheme = "file://";

// One path per declared type, and the ways types_at finds them.
constexpr const char* schema_text = R"({
  "type": "object",
  "properties": {
    "i": {"type": "integer"}, "n": {"type": "number"},
    "b": {"type": "boolean"}, "s": {"type": "string"},
    "a": {"type": "array", "items": {"type": "integer"}},
    "u": {"type": ["boolean", "integer"]},
    "r": {"$ref": "#/definitions/port"},
    "o": {"type": "object", "properties": {"i": {"type": "integer"}},
          "additionalProperties": {"type": ["integer", "string"]}},
    "logging": {"type": "object",
                "properties": {"level": {"enum": ["DEBUG", "INFO"]}}}
  },
  "patternProperties": {"^p_": {"type": "number"}},
  "definitions": {"port": {"type": "integer", "minimum": 1}}
})";

const json_schema_ptr& schema() {
  static const json_schema_ptr instance = [] {
    std::string error;
    auto result = json_schema::compile(json::parse(schema_text), &error);
    if (!result) {
      std::fprintf(stderr, "fuzz schema: %s\n", error.c_str());
      std::abort();
    }
    return result;
  }();
  return instance;
}

// Distinctive contents ('{' is in no message), so a leak is recognizable.
const std::map<std::string, std::string> secret_files = {
  {"token", "tok{en}-secret"},   {"crlf", "crlf{secret}\r\n"},
  {"json", "{\"k\":[1,2]}\n"},  {"num", "42\n"},
  {"empty", ""},                 {"newline", "\n"},
  {"badutf8", "\xff\xfe{bad}"},  {"big", std::string((1u << 20) + 1, 'x')},
};

struct secrets_dir {
  fs::path path;

  secrets_dir() {
    char tmpl[] = "/tmp/cfgactors-fuzz-env-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr)
      std::abort();
    path = tmpl;
    for (auto& [name, content] : secret_files)
      std::ofstream{path / name, std::ios::binary} << content;
    fs::create_directory(path / "dir");
    ::mkfifo((path / "fifo").c_str(), 0600);
  }

  ~secrets_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

const fs::path& secrets() {
  static secrets_dir dir;
  return dir.path;
}

std::string lower(std::string_view text) {
  std::string result{text};
  for (auto& c : result)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return result;
}

// The keys of a name, as env_layer.hpp documents: the prefix dropped, `__`
// nests, lower case; nullopt without the prefix or with an empty key.
std::optional<config_path> keys_of(std::string_view name,
                                   std::string_view prefix) {
  if (name.substr(0, prefix.size()) != prefix)
    return std::nullopt;
  name.remove_prefix(prefix.size());
  config_path path;
  for (;;) {
    auto pos = name.find("__");
    auto key = name.substr(0, pos);
    if (key.empty())
      return std::nullopt;
    path.segments.emplace_back(lower(key));
    if (pos == std::string_view::npos)
      return path;
    name.remove_prefix(pos + 2);
  }
}

bool has_type(const json& value, const std::vector<std::string>& types) {
  if (types.empty() || value.is_null())
    return true;
  for (auto& type : types)
    if ((type == "integer" && value.is_number_integer())
        || (type == "number" && value.is_number())
        || (type == "boolean" && value.is_boolean())
        || (type == "string" && value.is_string())
        || (type == "object" && value.is_object())
        || (type == "array" && value.is_array()))
      return true;
  return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  auto sep = input.find('\0') != std::string_view::npos ? '\0' : '\n';
  std::vector<std::string_view> entries;
  for (std::size_t start = 0; start <= input.size();) {
    auto end = input.find(sep, start);
    if (end == std::string_view::npos)
      end = input.size();
    if (end > start)
      entries.push_back(input.substr(start, end - start));
    start = end + 1;
  }
  env_source_options options;
  options.poll_interval = std::chrono::milliseconds{0};
  if (!entries.empty() && entries.front().substr(0, 1) == "#") {
    auto line = entries.front().substr(1);
    entries.erase(entries.begin());
    if (line.find("schema") != std::string_view::npos)
      options.schema = schema();
    if (auto at = line.find("prefix="); at != std::string_view::npos) {
      auto value = line.substr(at + 7);
      options.prefix = std::string{value.substr(0, value.find(' '))};
    }
  }
  std::map<std::string, std::string> vars;
  for (auto entry : entries) {
    auto eq = entry.find('=');
    auto name = std::string{entry.substr(0, eq)};
    auto value = eq == std::string_view::npos ? std::string{}
                                              : std::string{entry.substr(eq + 1)};
    if (std::string_view{value}.substr(0, scheme.size()) == scheme) {
      auto file = value.substr(scheme.size());
      if (!file.empty() && file.front() == '/')
        value = std::string{scheme}
                + (secrets() / file.substr(file.rfind('/') + 1)).string();
    }
    vars.insert_or_assign(std::move(name), std::move(value));
  }

  auto build = detail::build_env_layer(vars, options);
  // The public wrapper builds the layer a second time: the same result.
  json layer;
  std::vector<std::string> secret_paths;
  std::string error;
  auto ok = env_layer(vars, options, layer, secret_paths, error);
  FUZZ_CHECK(ok == build.ok(), error);
  FUZZ_CHECK(ok ? layer == build.layer && secret_paths == build.secrets
                : error == build.error,
             error);
  // The canonical hash is the hash of the dump, with invalid UTF-8 (names
  // are not checked) replaced in both.
  FUZZ_CHECK(canonical_hash(build.layer)
               == fuzz::reference_hash(build.layer),
             fuzz::show(build.layer));

  // What messages may quote: names, the paths their keys spell, file names
  // (with and without the scheme).
  // They are cut out of the error before looking for values in it.
  std::vector<std::string> quotable{options.prefix, secrets().string()};
  for (auto& [name, value] : vars) {
    quotable.push_back(name);
    if (auto keys = keys_of(name, options.prefix)) {
      config_path prefix;
      for (auto& key : keys->segments) {
        prefix.segments.push_back(key);
        quotable.push_back(prefix.str());
      }
    }
    if (value.rfind(scheme, 0) == 0) {
      quotable.push_back(value);
      quotable.push_back(value.substr(scheme.size()));
    }
  }
  std::sort(quotable.begin(), quotable.end(),
            [](const std::string& x, const std::string& y) {
              return x.size() > y.size();
            });
  auto rest = build.error;
  for (auto& token : quotable)
    for (std::size_t at; !token.empty()
                         && (at = rest.find(token)) != std::string::npos;)
      rest.erase(at, token.size()); // the text shrinks: this ends
  // Only text that no message could hold by itself is looked for: at least
  // four bytes, one of them outside the messages' own alphabet.
  auto distinctive = [](std::string_view text) {
    if (text.size() < 4)
      return false;
    for (unsigned char c : text)
      if (!std::isalnum(c)
          && std::string_view{" '.:;,()/_-=\""}.find(static_cast<char>(c))
               == std::string_view::npos)
        return true;
    return false;
  };
  // Errors name variables, paths, files and types, never a value or a
  // secret (env_layer.cpp).
  for (auto& [name, value] : vars)
    if (value.rfind(scheme, 0) != 0 && distinctive(value))
      FUZZ_CHECK(rest.find(value) == std::string::npos,
                 name + " leaks into: " + build.error);
  static const auto leakable = [&distinctive] {
    std::vector<std::string> result;
    for (auto& [file, content] : secret_files)
      if (distinctive(content))
        result.push_back(content);
    return result;
  }();
  for (auto& content : leakable)
    FUZZ_CHECK(rest.find(content) == std::string::npos,
               "a secret leaks into: " + build.error);

  if (!build.ok())
    return 0;
  // Every variable lands at the path its name spells, with a value of a type
  // the schema declares there (null, which deletes, is always allowed).
  for (auto& [name, value] : vars) {
    auto keys = keys_of(name, options.prefix);
    FUZZ_CHECK(keys.has_value(), name + " was accepted");
    auto found = find(build.layer, *keys);
    FUZZ_CHECK(found != nullptr, name + " is not at " + keys->str());
    if (options.schema) {
      auto types = options.schema->types_at(*keys);
      FUZZ_CHECK(has_type(*found, types), name + ": " + fuzz::show(*found));
    }
    if (value.rfind(scheme, 0) == 0) {
      FUZZ_CHECK(build.secret_digests.count(name) == 1, name);
      auto text = keys->str();
      FUZZ_CHECK(std::find(build.secrets.begin(), build.secrets.end(), text)
                   != build.secrets.end(),
                 name + ": " + text);
    }
  }
  return 0;
}
