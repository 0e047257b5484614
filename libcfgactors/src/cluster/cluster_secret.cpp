#include "cluster/cluster_secret.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfgactors/errc.hpp"

namespace cfgactors::detail {

namespace {

caf::error fail(const std::string& path, const std::string& why) {
  return make_error(errc::invalid_argument,
                    "cluster secret file " + path + ": " + why);
}

} // namespace

caf::expected<std::string> read_cluster_secret(const std::string& path) {
  // Checked on the descriptor that is read: no swap between check and read.
  auto fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(path, std::string{"cannot open: "} + std::strerror(errno));
  struct closer {
    int fd;
    ~closer() {
      ::close(fd);
    }
  } close_at_exit{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return fail(path, "not a regular file");
  if (st.st_uid != ::geteuid() && st.st_uid != 0)
    return fail(path, "belongs to uid " + std::to_string(st.st_uid)
                        + ", not to this process's user (uid "
                        + std::to_string(::geteuid()) + ") or root");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o",
                  static_cast<unsigned>(st.st_mode & 07777));
    return fail(path, std::string{"group or others may access it (mode "}
                        + mode + "); chmod 600 it");
  }
  // One byte more than a secret file may hold: a longer file is refused,
  // not read in part.
  char buf[4097];
  std::size_t size = 0;
  for (ssize_t n; size < sizeof(buf)
                  && (n = ::read(fd, buf + size, sizeof(buf) - size)) != 0;) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fail(path, std::string{"cannot read: "} + std::strerror(errno));
    }
    size += static_cast<std::size_t>(n);
  }
  if (size == sizeof(buf))
    return fail(path, "holds more than 4096 bytes");
  std::string text{buf, size};
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  if (text.find('\n') != std::string::npos)
    return fail(path, "must hold one line");
  if (text.size() < min_cluster_secret)
    return fail(path, "must hold at least "
                        + std::to_string(min_cluster_secret)
                        + " bytes (openssl rand -hex 32)");
  return text;
}

bool is_loopback_address(const std::string& address) {
  if (address == "localhost")
    return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, address.c_str(), &v6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

} // namespace cfgactors::detail
