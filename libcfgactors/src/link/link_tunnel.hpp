// Private: one authenticated link after its handshake. It pumps BASP's bytes
// between a local stream socket (BASP's end of a socket pair) and the TCP
// connection to the other node, sealed in frames (link_crypto.hpp), with
// heartbeats both ways.
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "link/link_crypto.hpp"
#include "link/link_options.hpp"

namespace cfgactors::detail {

/// Starts the pump on the link thread. It ends, closing both sockets (BASP
/// then sees its connection close), when either side closes, a frame fails
/// to open, or the remote end stays silent for `options.idle_timeout`;
/// `on_close` gets why.
void start_tunnel(boost::asio::ip::tcp::socket remote,
                  boost::asio::local::stream_protocol::socket local,
                  const link_key& seal_key, const link_key& open_key,
                  const link_options& options,
                  std::function<void(const char* why)> on_close);

/// A connected pair of local stream sockets: the first for the tunnel, the
/// second (a plain descriptor, close-on-exec) for BASP. False with errno
/// set if the system has no descriptors left.
bool make_basp_pair(boost::asio::io_context& io,
                    boost::asio::local::stream_protocol::socket& ours,
                    int& basp_fd);

} // namespace cfgactors::detail
