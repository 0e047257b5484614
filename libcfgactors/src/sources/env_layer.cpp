// Maps prefixed environment variables into a layer: names to paths, values to
// JSON (coerced to the schema's types), `file://` values to secrets read from
// files. Errors name variables, paths, files and types, never a value.
#include "sources/env_layer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include "cfgactors/hash.hpp"
#include "cfgactors/parse.hpp"
#include "cfgactors/path.hpp"

namespace cfgactors {

namespace detail {

namespace {

constexpr std::string_view secret_scheme = "file://";

/// Secrets are tokens and keys, not documents.
constexpr std::size_t max_secret_bytes = 1u << 20;

std::string_view trim(std::string_view text) {
  auto blank = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  };
  while (!text.empty() && blank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && blank(text.back()))
    text.remove_suffix(1);
  return text;
}

std::string lower(std::string_view text) {
  std::string result{text};
  for (auto& c : result)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return result;
}

std::string join(const std::vector<std::string>& xs, const char* sep) {
  std::string result;
  for (auto& x : xs) {
    if (!result.empty())
      result += sep;
    result += x;
  }
  return result;
}

/// `CFG_LOGGING__LEVEL` → {"logging", "level"} by the prefix rule; nullopt
/// (with `why`) if the name lacks the prefix or a key is empty.
std::optional<std::vector<std::string>>
split_name(const std::string& var, const env_source_options& options,
           std::string& why) {
  auto& prefix = options.prefix;
  auto& sep = options.separator;
  std::string_view rest{var};
  if (rest.substr(0, prefix.size()) != prefix) {
    why = "the name does not start with the prefix " + prefix;
    return std::nullopt;
  }
  rest.remove_prefix(prefix.size());
  std::vector<std::string> keys;
  for (;;) {
    auto pos = rest.find(sep);
    auto key = rest.substr(0, pos);
    if (key.empty()) {
      why = "the name has an empty key after the prefix " + prefix + " ('"
            + sep + "' separates non-empty keys)";
      return std::nullopt;
    }
    keys.push_back(options.key_case == env_key_case::lower ? lower(key)
                                                           : std::string{key});
    if (pos == std::string_view::npos)
      return keys;
    rest.remove_prefix(pos + sep.size());
  }
}

/// The keys of a mapped path; nullopt (with `why`) if it does not parse or
/// names an index or a wildcard: the env layer sets object keys only.
std::optional<std::vector<std::string>> mapped_keys(const std::string& path,
                                                    std::string& why) {
  std::string err;
  auto parsed = config_path::parse(path, &err);
  if (!parsed || parsed->empty()) {
    why = "'" + path + "' is not a path"
          + (err.empty() ? std::string{" (it is empty)"} : " (" + err + ")");
    return std::nullopt;
  }
  std::vector<std::string> keys;
  for (auto& seg : parsed->segments) {
    auto key = std::get_if<std::string>(&seg);
    if (key == nullptr || *key == "*") {
      why = "'" + path + "' names an index or '*' (the environment sets "
            "object keys only)";
      return std::nullopt;
    }
    keys.push_back(*key);
  }
  return keys;
}

/// The keys of `var`: its mapping if any, else the prefix rule.
std::optional<std::vector<std::string>>
keys_of(const std::string& var, const env_source_options& options,
        std::string& why) {
  if (auto i = options.map.find(var); i != options.map.end())
    return mapped_keys(i->second, why);
  return split_name(var, options, why);
}

/// Reads a secret file without blocking on a FIFO or reading a device.
bool read_secret(const std::string& file, std::string& content,
                 std::string& why) {
  if (file.empty() || file.front() != '/') {
    why = "the secret reference must name an absolute path (file:///path), "
          "got file://" + file;
    return false;
  }
  auto fail = [&](std::string text) {
    why = std::move(text);
    return false;
  };
  auto fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return fail("cannot open the secret file " + file + ": "
                + std::generic_category().message(errno));
  struct closer {
    int fd;
    ~closer() {
      ::close(fd);
    }
  } guard{fd};
  struct stat info;
  if (::fstat(fd, &info) != 0)
    return fail("cannot read the secret file " + file + ": "
                + std::generic_category().message(errno));
  if (!S_ISREG(info.st_mode))
    return fail("the secret file " + file + " is not a regular file");
  content.clear();
  char buf[4096];
  for (;;) {
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return fail("cannot read the secret file " + file + ": "
                  + std::generic_category().message(errno));
    if (n == 0)
      break;
    content.append(buf, static_cast<std::size_t>(n));
    if (content.size() > max_secret_bytes)
      return fail("the secret file " + file + " is larger than "
                  + std::to_string(max_secret_bytes) + " bytes");
  }
  // `echo secret > file` adds one newline; anything else is the secret's.
  if (!content.empty() && content.back() == '\n') {
    content.pop_back();
    if (!content.empty() && content.back() == '\r')
      content.pop_back();
  }
  if (content.empty())
    return fail("the secret file " + file + " is empty");
  return true;
}

bool valid_utf8(const std::string& text) {
  try {
    static_cast<void>(json(text).dump());
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

/// `text` as JSON, if it is a JSON document within the parser's limits.
std::optional<json> as_json(const std::string& text) {
  // accept() first: most values (`DEBUG`) are not JSON, and it does not throw.
  if (trim(text).empty() || !json::accept(text))
    return std::nullopt;
  auto parsed = parse_document(text, document_format::json, "env");
  if (!parsed)
    return std::nullopt;
  return std::move(parsed.value);
}

std::optional<json> integral(const json& x) {
  if (x.is_number_integer())
    return x;
  if (!x.is_number_float())
    return std::nullopt;
  auto d = x.get<double>();
  // 2^63 is exact as a double; anything at or beyond it overflows int64.
  if (!std::isfinite(d) || std::trunc(d) != d || d < -9223372036854775808.0
      || d >= 9223372036854775808.0)
    return std::nullopt;
  return json(static_cast<int64_t>(d));
}

std::string_view unsigned_text(std::string_view text) {
  text = trim(text);
  if (text.size() > 1 && text.front() == '+' && text[1] != '-')
    text.remove_prefix(1);
  return text;
}

std::optional<json> to_integer(std::string_view text) {
  text = unsigned_text(text);
  auto first = text.data();
  auto last = first + text.size();
  int64_t i = 0;
  if (auto [end, ec] = std::from_chars(first, last, i);
      !text.empty() && ec == std::errc{} && end == last)
    return json(i);
  uint64_t u = 0;
  if (auto [end, ec] = std::from_chars(first, last, u);
      !text.empty() && ec == std::errc{} && end == last)
    return json(u);
  return std::nullopt;
}

std::optional<json> to_number(std::string_view text) {
  if (auto i = to_integer(text))
    return i;
  text = unsigned_text(text);
  double d = 0;
  auto first = text.data();
  auto last = first + text.size();
  if (auto [end, ec] = std::from_chars(first, last, d);
      !text.empty() && ec == std::errc{} && end == last && std::isfinite(d))
    return json(d);
  return std::nullopt;
}

std::optional<json> to_boolean(std::string_view text) {
  auto word = lower(trim(text));
  if (word == "true" || word == "1" || word == "yes" || word == "on")
    return json(true);
  if (word == "false" || word == "0" || word == "no" || word == "off")
    return json(false);
  return std::nullopt;
}

bool declares(const std::vector<std::string>& types, std::string_view type) {
  return std::find(types.begin(), types.end(), type) != types.end();
}

/// The value of `text` for a path the schema types as `types` (none: JSON if
/// it parses, else the text). JSON `null` always stays null: it deletes.
std::optional<json> coerce(const std::string& text,
                           const std::vector<std::string>& types) {
  auto parsed = as_json(text);
  if (parsed && parsed->is_null())
    return parsed;
  if (types.empty())
    return parsed ? std::move(*parsed) : json(text);
  // A JSON value of a declared type wins, except a JSON string: a string type
  // keeps the raw text (`"x"` stays with its quotes).
  if (parsed) {
    for (auto& type : types) {
      if (type == "integer") {
        if (auto i = integral(*parsed))
          return i;
      } else if ((type == "number" && parsed->is_number())
                 || (type == "boolean" && parsed->is_boolean())
                 || (type == "object" && parsed->is_object())
                 || (type == "array" && parsed->is_array())) {
        return parsed;
      }
    }
  }
  if (declares(types, "string"))
    return json(text);
  for (auto& type : types) {
    std::optional<json> result;
    if (type == "integer")
      result = to_integer(text);
    else if (type == "number")
      result = to_number(text);
    else if (type == "boolean")
      result = to_boolean(text);
    if (result)
      return result;
  }
  return std::nullopt;
}

struct entry {
  std::string var;
  std::vector<std::string> keys;
  json value;
  bool secret = false;
};

std::string dotted(const std::vector<std::string>& keys, std::size_t n) {
  config_path path;
  for (std::size_t i = 0; i < n && i < keys.size(); ++i)
    path.segments.emplace_back(keys[i]);
  return path.str();
}

/// Puts every entry into `out.layer`. Two variables collide when they set the
/// same path, or when one sets a non-object where another needs an object; a
/// variable may add keys to an object another one set.
void assemble(std::vector<entry>& entries, env_build& out,
              std::vector<std::string>& errors) {
  // Parents sort before their children, so a variable can only collide with
  // one placed before it; equal paths keep the order of the names.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const entry& x, const entry& y) {
                     return x.keys < y.keys;
                   });
  std::map<std::vector<std::string>, const std::string*> owners;
  // The variable that set the deepest of the first `n` keys.
  auto owner_of = [&owners](const std::vector<std::string>& keys,
                            std::size_t n) -> std::string {
    for (; n > 0; --n) {
      auto i = owners.find({keys.begin(), keys.begin() + n});
      if (i != owners.end())
        return *i->second;
    }
    return "?";
  };
  for (auto& e : entries) {
    auto* node = &out.layer;
    auto placed = true;
    for (std::size_t i = 0; i < e.keys.size() && placed; ++i) {
      auto last = i + 1 == e.keys.size();
      auto& key = e.keys[i];
      auto existing = node->find(key);
      if (existing == node->end()) {
        node = &((*node)[key] = last ? e.value : json::object());
        if (last)
          owners.emplace(e.keys, &e.var);
        continue;
      }
      if (last) {
        auto owner = owner_of(e.keys, e.keys.size());
        if (owners.count(e.keys) > 0)
          errors.push_back(owner + " and " + e.var + " both set '"
                           + dotted(e.keys, e.keys.size()) + "'");
        else
          errors.push_back(e.var + " sets '" + dotted(e.keys, e.keys.size())
                           + "', which the value of " + owner
                           + " already holds");
        placed = false;
      } else if (!existing->is_object()) {
        errors.push_back(owner_of(e.keys, i + 1) + " sets '"
                         + dotted(e.keys, i + 1)
                         + "' to a value that is not an object, so " + e.var
                         + " cannot set '" + dotted(e.keys, e.keys.size())
                         + "'");
        placed = false;
      } else {
        node = &*existing;
      }
    }
    if (placed && e.secret)
      out.secrets.push_back(dotted(e.keys, e.keys.size()));
  }
}

} // namespace

env_build build_env_layer(const std::map<std::string, std::string>& vars,
                          const env_source_options& options) {
  env_build out;
  if (auto bad = check_env_options(options); !bad.empty()) {
    out.error = "the env source's options: " + bad;
    return out;
  }
  std::vector<std::string> errors;
  std::vector<entry> entries;
  for (auto& [var, raw] : vars) {
    std::string why;
    auto keys = keys_of(var, options, why);
    if (!keys) {
      errors.push_back(var + ": " + why);
      continue;
    }
    entry e{var, std::move(*keys), json{}, false};
    auto text = raw;
    std::string what = "the value";
    if (std::string_view{raw}.substr(0, secret_scheme.size())
        == secret_scheme) {
      e.secret = true;
      auto file = raw.substr(secret_scheme.size());
      std::string why;
      if (!read_secret(file, text, why)) {
        errors.push_back(var + ": " + why);
        continue;
      }
      out.secret_digests[var] = sha256_hex(text);
      what = "the secret in " + file;
    }
    if (!valid_utf8(text)) {
      errors.push_back(var + ": " + what + " is not valid UTF-8");
      continue;
    }
    std::vector<std::string> types;
    if (options.schema) {
      config_path path;
      for (auto& key : e.keys)
        path.segments.emplace_back(key);
      types = options.schema->types_at(path);
    }
    auto value = coerce(text, types);
    if (!value) {
      errors.push_back(var + ": " + what + " is not of type "
                       + join(types, " or ") + ", which the schema declares "
                       + "for '" + dotted(e.keys, e.keys.size()) + "'");
      continue;
    }
    e.value = std::move(*value);
    entries.push_back(std::move(e));
  }
  assemble(entries, out, errors);
  out.error = join(errors, "; ");
  return out;
}

} // namespace detail

std::string check_env_options(const env_source_options& options) {
  std::vector<std::string> errors;
  auto has_eq = [](const std::string& x) {
    return x.find('=') != std::string::npos
           || x.find('\0') != std::string::npos;
  };
  if (options.separator.empty())
    errors.emplace_back("the separator is empty");
  else if (has_eq(options.separator))
    errors.emplace_back("the separator holds '=' or a NUL");
  if (has_eq(options.prefix))
    errors.emplace_back("the prefix holds '=' or a NUL");
  std::map<std::vector<std::string>, std::string> targets;
  for (auto& [name, path] : options.map) {
    if (name.empty() || has_eq(name)) {
      errors.push_back("the mapped name '" + name
                       + "' is empty or holds '=' or a NUL");
      continue;
    }
    std::string why;
    auto keys = detail::mapped_keys(path, why);
    if (!keys) {
      errors.push_back(name + " maps to " + why);
      continue;
    }
    auto [at, fresh] = targets.emplace(*keys, name);
    if (!fresh)
      errors.push_back(at->second + " and " + name + " both map to '" + path
                       + "'");
  }
  return detail::join(errors, "; ");
}

std::optional<config_path> env_path(const std::string& name,
                                    const env_source_options& options,
                                    std::string* why) {
  std::string reason;
  auto keys = detail::keys_of(name, options, reason);
  if (!keys) {
    if (why != nullptr)
      *why = std::move(reason);
    return std::nullopt;
  }
  config_path result;
  for (auto& key : *keys)
    result.segments.emplace_back(std::move(key));
  return result;
}

bool env_layer(const std::map<std::string, std::string>& vars,
               const env_source_options& options, json& layer,
               std::vector<std::string>& secrets, std::string& error) {
  auto build = detail::build_env_layer(vars, options);
  if (!build.ok()) {
    error = std::move(build.error);
    return false;
  }
  layer = std::move(build.layer);
  secrets = std::move(build.secrets);
  return true;
}

} // namespace cfgactors
