// Private: the primary's side of the cluster link. It owns the cluster port:
// a new connection gets a challenge and nothing else until it has proved the
// cluster secret (link_crypto.hpp); only then is BASP given the connection,
// through a tunnel. A peer that stalls, sends anything else or proves
// nothing is closed without BASP ever reading a byte of it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <caf/expected.hpp>

#include "link/link_context.hpp"
#include "link/link_options.hpp"

namespace cfgactors::detail {

class link_gate : public std::enable_shared_from_this<link_gate> {
public:
  /// Gets BASP's end of each authenticated link (a connected stream socket
  /// it then owns), on the link thread.
  using admit_fn = std::function<void(int basp_fd)>;

  /// Listens on `address:port` (port 0: any free one).
  static caf::expected<std::shared_ptr<link_gate>>
  open(link_context_ptr ctx, const std::string& address, uint16_t port,
       link_options options, admit_fn admit);

  link_gate(boost::asio::io_context& io, link_options options,
            admit_fn admit);

  ~link_gate();

  uint16_t port() const noexcept {
    return port_;
  }

  /// Connections refused by reason (`link_bad_magic`, `link_bad_proof`,
  /// `link_handshake_timeout`, `link_too_many_pending`, `link_too_many`).
  std::map<std::string, uint64_t> refused() const;

  /// Handshakes under way and links open.
  std::size_t pending() const noexcept {
    return pending_.load();
  }
  std::size_t links() const noexcept {
    return links_.load();
  }

  /// Stops accepting and frees the port before it returns (links already
  /// open stay).
  void close();

private:
  friend class gate_handshake;

  void accept();
  void refuse(const std::string& address, const char* reason);
  void handshake_done(const std::string& address, bool admitted);

  // Not the link_context: handlers hold the gate, and the context holds the
  // handlers.
  boost::asio::io_context& io_;
  link_options options_;
  admit_fn admit_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_; ///< accepting again after a failure
  uint16_t port_ = 0;
  // Touched on the link thread only.
  std::map<std::string, std::size_t> pending_by_address_;
  std::set<std::string> logged_;
  // Read from other threads.
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::size_t> links_{0};
  mutable std::mutex mtx_;
  std::map<std::string, uint64_t> refused_;
};

using link_gate_ptr = std::shared_ptr<link_gate>;

} // namespace cfgactors::detail
