// Parsing documents into configuration trees: the size limit, the choice of
// reader by format or file extension, and reading files within the limit.
#include "cfgactors/parse.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>

#include <sys/stat.h>

#include "model/parse_readers.hpp"
#include "model/parse_text.hpp"

namespace cfgactors {

namespace {

// Reads at most `limit` bytes; returns an error message on failure.
std::optional<std::string> read_file(const std::string& path,
                                     std::size_t limit, std::string& out) {
  auto os_error = [](int code) {
    return std::error_code{code, std::generic_category()}.message();
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{
    std::fopen(path.c_str(), "rb"), &std::fclose};
  if (!file)
    return os_error(errno);
  struct stat st {};
  if (::fstat(::fileno(file.get()), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return os_error(EISDIR);
    if (S_ISREG(st.st_mode)) {
      auto size = static_cast<std::size_t>(st.st_size);
      if (size > limit)
        return detail::size_message(size, limit);
      out.reserve(size);
    }
  }
  // Loop until EOF rather than trusting st_size: pipes and /proc files report
  // 0, and the file may grow while we read.
  char chunk[64 * 1024];
  for (;;) {
    auto n = std::fread(chunk, 1, sizeof(chunk), file.get());
    out.append(chunk, n);
    if (out.size() > limit)
      return "document is more than " + std::to_string(limit)
             + " bytes, limit is " + std::to_string(limit);
    if (n < sizeof(chunk))
      break;
  }
  if (std::ferror(file.get()))
    return os_error(errno != 0 ? errno : EIO);
  return std::nullopt;
}

} // namespace

std::string parse_error::str() const {
  std::string out = source.empty() ? std::string{"<input>"} : source;
  if (line > 0) {
    out += ':';
    out += std::to_string(line);
    if (column > 0) {
      out += ':';
      out += std::to_string(column);
    }
  }
  out += ": ";
  out += message;
  return out;
}

parse_result parse_document(std::string_view text, document_format format,
                            std::string_view source_name,
                            const parse_limits& limits) {
  if (text.size() > limits.max_bytes)
    return detail::parse_failure(
      source_name, 0, 0, detail::size_message(text.size(), limits.max_bytes));
  if (format == document_format::json)
    return detail::parse_json(text, source_name, limits);
  if (format == document_format::toml)
    return detail::parse_toml(text, source_name, limits);
  return detail::parse_yaml(text, source_name, limits);
}

std::optional<document_format> format_for_path(std::string_view path) {
  auto slash = path.find_last_of('/');
  auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto dot = name.find_last_of('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  std::string ext{name.substr(dot + 1)};
  std::transform(ext.begin(), ext.end(), ext.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  if (ext == "json")
    return document_format::json;
  if (ext == "yaml" || ext == "yml")
    return document_format::yaml;
  if (ext == "toml")
    return document_format::toml;
  return std::nullopt;
}

parse_result parse_file(const std::string& path, const parse_limits& limits) {
  auto format = format_for_path(path);
  if (!format)
    return detail::parse_failure(
      path, 0, 0, "unknown file extension (expected .json, .yaml, .yml or .toml)");
  std::string text;
  errno = 0;
  if (auto err = read_file(path, limits.max_bytes, text))
    return detail::parse_failure(path, 0, 0, std::move(*err));
  return parse_document(text, *format, path, limits);
}

} // namespace cfgactors
