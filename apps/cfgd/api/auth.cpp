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

/// Tokens are compared by their digests: equal length, so CRYPTO_memcmp's
/// constant time covers the length of the token too.
std::vector<std::string> digests(const std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  for (auto& t : tokens)
    out.push_back(cfgactors::sha256_hex(t));
  return out;
}

http::response unauthorized(const http::request& req, std::string detail) {
  auto res = http::error_response(req, http::status::unauthorized,
                                  "unauthorized", {std::move(detail)});
  res.set(boost::beast::http::field::www_authenticate,
          "Bearer realm=\"cfgd\"");
  return res;
}

} // namespace

authorizer::authorizer(std::vector<std::string> write_tokens,
                       std::vector<std::string> read_tokens)
  : write_(digests(write_tokens)), read_(digests(read_tokens)) {
  // nop
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

bool authorizer::matches(const std::string& token,
                         const std::vector<std::string>& tokens) {
  auto digest = cfgactors::sha256_hex(token);
  bool found = false;
  for (auto& t : tokens) // no early exit: the time does not say which one
    found |= t.size() == digest.size()
             && CRYPTO_memcmp(t.data(), digest.data(), digest.size()) == 0;
  return found;
}

std::optional<http::response> authorizer::check(const http::request& req,
                                                access what) const {
  if (what == access::read && read_.empty())
    return std::nullopt;
  if (what == access::write && write_.empty())
    return http::error_response(req, http::status::forbidden,
                                "writes disabled",
                                {"this cfgd has no write token: start it with "
                                 "--token-file PATH or CFGD_TOKEN"});
  auto token = bearer(req);
  if (!token)
    return unauthorized(req, "this request needs an `Authorization: Bearer "
                             "<token>` header");
  // A write token may read too.
  if (matches(*token, write_)
      || (what == access::read && matches(*token, read_)))
    return std::nullopt;
  return unauthorized(req, what == access::write
                             ? "the token is not a write token"
                             : "the token is not valid");
}

std::optional<std::vector<std::string>>
load_tokens(const std::string& file, const char* env_var, std::string& error) {
  std::vector<std::string> tokens;
  if (file.empty()) {
    if (auto value = std::getenv(env_var); value && *value)
      tokens.push_back(trim(value));
    return tokens;
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
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    if (!line.empty() && line.front() != '#')
      tokens.push_back(line);
  }
  if (tokens.empty()) {
    error = file + ": the token file holds no token";
    return std::nullopt;
  }
  return tokens;
}

http::gate token_gate(std::shared_ptr<const authorizer> auth, access what) {
  return [auth = std::move(auth), what](const http::request& req) {
    return auth->check(req, what);
  };
}

} // namespace cfgd
