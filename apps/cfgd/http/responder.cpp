#include "http/responder.hpp"

#include <atomic>
#include <utility>

#include <spdlog/spdlog.h>

namespace cfgd::http {

struct responder::state {
  explicit state(sink x) : fn(std::move(x)) {
    // nop
  }

  /// A handler that lost every copy without answering is a bug; the client
  /// still gets an answer instead of a connection that hangs until timeout.
  ~state() {
    if (done.exchange(true))
      return;
    spdlog::error("event=http_no_answer");
    request req;
    req.version(11);
    fn(error_response(req, status::internal_server_error, "internal error",
                      {"the request was dropped without an answer"}));
  }

  sink fn;
  std::atomic<bool> done{false};
};

responder::responder(sink fn) : state_(std::make_shared<state>(std::move(fn))) {
  // nop
}

void responder::operator()(response res) const {
  if (!state_->done.exchange(true))
    state_->fn(std::move(res));
}

bool responder::answered() const noexcept {
  return state_->done.load();
}

} // namespace cfgd::http
