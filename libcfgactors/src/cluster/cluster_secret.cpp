#include "cluster/cluster_secret.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfgactors/errc.hpp"
#include "core/private_file.hpp"

namespace cfgactors::detail {

namespace {

caf::error fail(const std::string& path, const std::string& why) {
  return make_error(errc::invalid_argument,
                    "cluster secret file " + path + ": " + why);
}

} // namespace

caf::expected<std::string> read_cluster_secret(const std::string& path) {
  std::string why;
  auto content = read_private_line(path, why);
  if (!content)
    return fail(path, why);
  auto& text = *content;
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
