// Private: a replica's side of the cluster link: connects to the primary's
// cluster port, proves the cluster secret and checks the primary's proof
// (link_crypto.hpp), then hands BASP its end of a tunnel.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "link/link_context.hpp"
#include "link/link_options.hpp"

namespace cfgactors::detail {

/// BASP's end of an open link, or why there is none.
struct link_result {
  int fd = -1;
  std::string error;
};

class link_dialer : public std::enable_shared_from_this<link_dialer> {
public:
  link_dialer(link_context_ptr ctx, link_options options);

  /// Connects to `host:port` within the connect timeout, runs the handshake
  /// within the handshake timeout and starts a tunnel; `done` runs once, on
  /// the link thread.
  void dial(const std::string& host, uint16_t port,
            std::function<void(link_result)> done);

  const link_options& options() const noexcept {
    return options_;
  }

private:
  link_context_ptr ctx_;
  link_options options_;
};

using link_dialer_ptr = std::shared_ptr<link_dialer>;

} // namespace cfgactors::detail
