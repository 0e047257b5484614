#include "link/link_context.hpp"

#include "core/log.hpp"

namespace cfgactors::detail {

link_context::link_context()
  : work_(boost::asio::make_work_guard(io_)), thread_([this] {
      for (;;) {
        try {
          io_.run();
          return;
        } catch (const std::exception& e) {
          // A handler should never throw; keep the other links running.
          log().error("event=link_handler_failed error=\"{}\"", e.what());
        }
      }
    }) {
  // nop
}

link_context::~link_context() {
  stop();
}

void link_context::stop() {
  work_.reset();
  io_.stop();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
    thread_.join();
}

} // namespace cfgactors::detail
