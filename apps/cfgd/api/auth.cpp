#include "api/auth.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <openssl/crypto.h>

#include "cfgactors/hash.hpp"

namespace cfgd {

namespace {

std::string trim(const std::string& text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return {};
  auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

} // namespace

http::response unauthorized(const http::request& req, std::string detail) {
  auto res = http::error_response(req, http::status::unauthorized,
                                  "unauthorized", {std::move(detail)});
  res.set(boost::beast::http::field::www_authenticate,
          "Bearer realm=\"cfgd\"");
  return res;
}

std::optional<unsigned> parse_scopes(std::string_view text,
                                     std::string& error) {
  unsigned scopes = 0;
  while (true) {
    auto comma = text.find(',');
    auto name = text.substr(0, comma);
    if (name == "read")
      scopes |= scope_read;
    else if (name == "write")
      scopes |= scope_write | scope_read;
    else if (name == "secrets")
      scopes |= scope_secrets | scope_read;
    else {
      error = "unknown scope '" + std::string{name.substr(0, 32)}
              + "' (scopes are read, write, secrets)";
      return std::nullopt;
    }
    if (comma == std::string_view::npos)
      return scopes;
    text.remove_prefix(comma + 1);
  }
}

std::string to_string_scopes(unsigned scopes) {
  std::string out;
  for (auto [bit, name] : {std::pair{scope_read, "read"},
                           std::pair{scope_write, "write"},
                           std::pair{scope_secrets, "secrets"}})
    if ((scopes & bit) != 0)
      out += (out.empty() ? "" : ",") + std::string{name};
  return out;
}

std::optional<std::vector<token_entry>>
parse_tokens(const std::string& text, unsigned default_scopes,
             const std::string& source, std::string& error) {
  std::vector<token_entry> out;
  std::istringstream in{text};
  std::size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    line = trim(line);
    if (line.empty() || line.front() == '#')
      continue;
    auto where = source + " line " + std::to_string(number) + ": ";
    auto colon = line.find(':');
    if (colon == std::string::npos) {
      out.push_back(
        token_entry{{}, default_scopes, cfgactors::sha256_hex(line)});
      continue;
    }
    // NAME:SCOPES:TOKEN. A line with a colon is never taken for a bare
    // token: a typo in the scopes must not grant the file's defaults.
    auto second = line.find(':', colon + 1);
    if (second == std::string::npos || second + 1 == line.size()) {
      error = where + "expected NAME:SCOPES:TOKEN (a token file line with "
                      "a ':' names its token), or a bare token";
      return std::nullopt;
    }
    auto name = line.substr(0, colon);
    auto valid_name
      = !name.empty() && name.size() <= 64
        && name.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
             == std::string::npos;
    if (!valid_name) {
      error = where + "a token name is 1..64 letters, digits, '_', '.' or "
                      "'-'";
      return std::nullopt;
    }
    std::string why;
    auto scopes = parse_scopes(
      std::string_view{line}.substr(colon + 1, second - colon - 1), why);
    if (!scopes) {
      error = where + "token '" + name + "': " + why;
      return std::nullopt;
    }
    for (auto& other : out)
      if (other.name == name) {
        error = where + "token name '" + name + "' appears twice";
        return std::nullopt;
      }
    out.push_back(token_entry{name, *scopes,
                              cfgactors::sha256_hex(line.substr(second + 1))});
  }
  return out;
}

authorizer::authorizer(std::vector<token_entry> tokens, bool reads_need_token)
  : tokens_(std::move(tokens)), reads_need_token_(reads_need_token) {
  // nop
}

bool authorizer::writes_enabled() const noexcept {
  for (auto& t : tokens_)
    if ((t.scopes & scope_write) != 0)
      return true;
  return false;
}

std::optional<std::string> authorizer::bearer(const http::request& req) {
  auto it = req.find(boost::beast::http::field::authorization);
  if (it == req.end())
    return std::nullopt;
  std::string value{it->value().data(), it->value().size()};
  constexpr std::string_view scheme = "bearer ";
  if (value.size() <= scheme.size())
    return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) != scheme[i])
      return std::nullopt;
  auto token = trim(value.substr(scheme.size()));
  if (token.empty())
    return std::nullopt;
  return token;
}

std::optional<std::string> authorizer::token(const http::request& req,
                                             credentials from) {
  if (auto found = bearer(req))
    return found;
  if (from != credentials::bearer_or_api_key)
    return std::nullopt;
  auto it = req.find("X-API-Key");
  if (it == req.end())
    return std::nullopt;
  auto key = trim(std::string{it->value().data(), it->value().size()});
  if (key.empty())
    return std::nullopt;
  return key;
}

std::optional<identity> authorizer::identify(const http::request& req,
                                             credentials from) const {
  auto token = authorizer::token(req, from);
  if (!token)
    return std::nullopt;
  // Compared by digests, of equal length, so CRYPTO_memcmp's constant time
  // covers the length of the token too; no early exit, so the time does not
  // say which token matched.
  auto digest = cfgactors::sha256_hex(*token);
  const token_entry* found = nullptr;
  for (auto& t : tokens_)
    if (t.digest.size() == digest.size()
        && CRYPTO_memcmp(t.digest.data(), digest.data(), digest.size()) == 0)
      found = &t;
  if (found == nullptr)
    return std::nullopt;
  return identity{found->name, found->scopes};
}

bool authorizer::may_read_secrets(const http::request& req,
                                  credentials from) const {
  auto who = identify(req, from);
  return who && who->has(scope_secrets);
}

std::optional<http::response> authorizer::check(const http::request& req,
                                                access what,
                                                credentials from) const {
  if (what == access::read && !reads_need_token_)
    return std::nullopt;
  if (what == access::write && !writes_enabled())
    return http::error_response(req, http::status::forbidden,
                                "writes disabled",
                                {"this cfgd has no write token: start it with "
                                 "--token-file PATH or CFGD_TOKEN"});
  if (!token(req, from))
    return unauthorized(req, from == credentials::bearer_or_api_key
                               ? "this request needs an `Authorization: "
                                 "Bearer <token>` or an `X-API-Key: <token>` "
                                 "header"
                               : "this request needs an `Authorization: "
                                 "Bearer <token>` header");
  auto who = identify(req, from);
  if (!who)
    return unauthorized(req, "the token is not valid");
  if (what == access::write && !who->has(scope_write))
    return http::error_response(req, http::status::forbidden, "forbidden",
                                {"the token has no write scope"});
  return std::nullopt;
}

std::optional<std::string> read_token_source(const std::string& file,
                                             const char* env_var,
                                             std::string& error) {
  if (file.empty()) {
    auto value = std::getenv(env_var);
    return std::string{value ? value : ""};
  }
  // Whoever may write the file may grant themselves access: it must belong
  // to cfgd's user (or root, as mounted secrets do) and be writable by no
  // one else. A symlink is followed (Kubernetes mounts secrets so).
  // Checked on the descriptor that is read, so the file cannot be swapped
  // between the check and the read.
  auto fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = file + ": cannot read the token file: " + std::strerror(errno);
    return std::nullopt;
  }
  struct closer {
    int fd;
    ~closer() {
      ::close(fd);
    }
  } close_at_exit{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = file + ": the token file is not a regular file";
    return std::nullopt;
  }
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    error = file + ": the token file belongs to uid " + std::to_string(st.st_uid)
            + ", not to cfgd's user (uid " + std::to_string(::geteuid())
            + ") or root";
    return std::nullopt;
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o",
                  static_cast<unsigned>(st.st_mode & 07777));
    error = file + ": the token file is writable by group or others (mode "
            + mode + "); chmod go-w it";
    return std::nullopt;
  }
  // Tokens are short: a file of more than 64 KiB is a mistake, not tokens.
  constexpr std::size_t max_size = 64 * 1024;
  std::string text(max_size + 1, '\0');
  std::size_t size = 0;
  for (ssize_t n; size < text.size()
                  && (n = ::read(fd, text.data() + size, text.size() - size))
                       != 0;) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      error = file + ": cannot read the token file: " + std::strerror(errno);
      return std::nullopt;
    }
    size += static_cast<std::size_t>(n);
  }
  if (size > max_size) {
    error = file + ": the token file is larger than 64 KiB";
    return std::nullopt;
  }
  text.resize(size);
  return text;
}

std::optional<std::vector<std::string>>
load_tokens(const std::string& file, const char* env_var, std::string& error) {
  auto text = read_token_source(file, env_var, error);
  if (!text)
    return std::nullopt;
  std::vector<std::string> tokens;
  std::istringstream in{*text};
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    if (!line.empty() && line.front() != '#')
      tokens.push_back(line);
  }
  if (tokens.empty() && !file.empty()) {
    error = file + ": the token file holds no token";
    return std::nullopt;
  }
  return tokens;
}

http::gate token_gate(std::shared_ptr<const authorizer> auth, access what,
                      credentials from) {
  return [auth = std::move(auth), what, from](const http::request& req) {
    return auth->check(req, what, from);
  };
}

} // namespace cfgd
