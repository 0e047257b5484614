// The inverse of the library's log line convention (core/log.hpp): every
// key=value becomes a JSON field, so log shippers need no regex of ours.
#include "cfgactors/log_fields.hpp"

#include <cctype>
#include <set>
#include <string>

namespace cfgactors {

namespace {

bool key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'
         || c == '.';
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// The text of a quoted value starting at `pos` (on the opening quote);
/// `pos` ends past the closing quote. False when it never closes.
bool read_quoted(std::string_view line, std::size_t& pos, std::string& out) {
  for (auto i = pos + 1; i < line.size(); ++i) {
    auto c = line[i];
    if (c == '"') {
      pos = i + 1;
      return true;
    }
    if (c != '\\' || i + 1 == line.size()) {
      out += c;
      continue;
    }
    auto e = line[++i];
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'x':
        if (i + 2 < line.size() && hex_digit(line[i + 1]) >= 0
            && hex_digit(line[i + 2]) >= 0) {
          out += static_cast<char>(hex_digit(line[i + 1]) * 16
                                   + hex_digit(line[i + 2]));
          i += 2;
        } else {
          out += "\\x";
        }
        break;
      case '"':
      case '\\':
        out += e;
        break;
      default: // not ours: keep it as written
        out += '\\';
        out += e;
    }
  }
  return false;
}

/// The end of a JSON array starting at `pos` (on its `[`), strings and
/// nesting considered; npos when it does not close on this line.
std::size_t array_end(std::string_view line, std::size_t pos) {
  int depth = 0;
  bool in_string = false;
  for (auto i = pos; i < line.size(); ++i) {
    auto c = line[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (--depth == 0)
        return i + 1;
    }
  }
  return std::string_view::npos;
}

/// A bare value: a JSON number (no leading zeros, so a hex hash that starts
/// with 0 stays text) or bool as such, anything else as a string.
nlohmann::ordered_json bare(std::string_view text) {
  if (text == "true")
    return true;
  if (text == "false")
    return false;
  auto digits = text;
  if (!digits.empty() && digits[0] == '-')
    digits.remove_prefix(1);
  if (!digits.empty() && std::isdigit(static_cast<unsigned char>(digits[0]))
      && text.size() <= 32) {
    auto parsed = nlohmann::ordered_json::parse(text, nullptr, false);
    if (parsed.is_number())
      return parsed;
  }
  return std::string{text};
}

/// Adds one field; a repeated key collects its values in an array (and
/// `msg`, which the line's prose takes, is kept as `msg_`).
void add(nlohmann::ordered_json& fields, std::set<std::string>& repeated,
         std::string key, nlohmann::ordered_json value) {
  if (key == "msg")
    key = "msg_";
  auto i = fields.find(key);
  if (i == fields.end()) {
    fields[std::move(key)] = std::move(value);
    return;
  }
  if (repeated.insert(key).second) {
    auto first = std::move(*i);
    *i = nlohmann::ordered_json::array();
    i->push_back(std::move(first));
  }
  i->push_back(std::move(value));
}

} // namespace

nlohmann::ordered_json log_fields(std::string_view line) {
  auto fields = nlohmann::ordered_json::object();
  std::set<std::string> repeated;
  std::string words; // free text between the fields
  std::size_t pos = 0;
  while (pos < line.size()) {
    if (line[pos] == ' ') {
      ++pos;
      continue;
    }
    auto key_end = pos;
    while (key_end < line.size() && key_char(line[key_end]))
      ++key_end;
    auto token_end = line.find(' ', pos);
    if (token_end == std::string_view::npos)
      token_end = line.size();
    if (key_end == pos || key_end >= line.size() || line[key_end] != '=') {
      // A word of prose.
      if (!words.empty())
        words += ' ';
      words.append(line.substr(pos, token_end - pos));
      pos = token_end;
      continue;
    }
    std::string key{line.substr(pos, key_end - pos)};
    auto vpos = key_end + 1;
    if (vpos < line.size() && line[vpos] == '"') {
      std::string text;
      auto end = vpos;
      if (read_quoted(line, end, text)) {
        add(fields, repeated, std::move(key), std::move(text));
        pos = end;
        continue;
      }
    } else if (vpos < line.size() && line[vpos] == '[') {
      auto end = array_end(line, vpos);
      if (end != std::string_view::npos) {
        auto parsed = nlohmann::ordered_json::parse(
          line.substr(vpos, end - vpos), nullptr, false);
        if (parsed.is_array()) {
          add(fields, repeated, std::move(key), std::move(parsed));
          pos = end;
          continue;
        }
      }
    }
    // A bare value, or a quote or array that did not close: up to the space.
    add(fields, repeated, std::move(key), bare(line.substr(vpos, token_end - vpos)));
    pos = token_end;
  }
  if (!words.empty())
    fields["msg"] = std::move(words);
  else if (fields.empty())
    fields["msg"] = std::string{line};
  else if (auto ev = fields.find("event");
           ev != fields.end() && ev->is_string()) {
    auto event = *ev; // a copy: inserting `msg` may move the fields
    fields["msg"] = std::move(event);
  }
  return fields;
}

} // namespace cfgactors
