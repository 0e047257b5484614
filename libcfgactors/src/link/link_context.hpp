// Private: the thread that runs the cluster link's sockets (handshakes and
// tunnels) of one node, outside CAF's multiplexer.
#pragma once

#include <memory>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace cfgactors::detail {

class link_context {
public:
  link_context();
  ~link_context();

  link_context(const link_context&) = delete;
  link_context& operator=(const link_context&) = delete;

  boost::asio::io_context& io() noexcept {
    return io_;
  }

  /// Closes every socket of the link and joins the thread; idempotent.
  void stop();

private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
    work_;
  std::thread thread_;
};

using link_context_ptr = std::shared_ptr<link_context>;

} // namespace cfgactors::detail
