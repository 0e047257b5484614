// An etcd the benches run for themselves: one member, or a cluster of a few,
// on loopback over plain HTTP, data on /dev/shm (or --server-dir), each member
// stopped and its directory removed when the server goes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "process.hpp"

namespace bench {

class etcd_server {
public:
  /// `base`: where the members' temp dirs go (see temp_dir).
  explicit etcd_server(std::string base = {});
  ~etcd_server();

  /// The etcd binary in $PATH, or empty.
  static std::string program();

  /// Starts `members` members with default durability (an fsync per
  /// commit) and waits until each serves a linearizable read. Once started,
  /// returns how a member ended if one did, else empty. Empty on success,
  /// else why not.
  std::string start(int members = 1);

  /// The client URL of every member, `http://127.0.0.1:PORT`.
  const std::vector<std::string>& endpoints() const { return endpoints_; }

  /// The client port of member `i`.
  uint16_t port(size_t i = 0) const { return ports_.at(i); }

private:
  std::string base_;
  std::vector<std::unique_ptr<server_process>> members_;
  std::vector<std::string> endpoints_;
  std::vector<uint16_t> ports_;
};

} // namespace bench
