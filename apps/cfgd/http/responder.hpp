// How a handler answers a request: at once or later, from any thread,
// exactly once. Handlers that ask actors answer from the actor's thread; the
// session writes the response on its io thread.
#pragma once

#include <functional>
#include <memory>

#include "http/message.hpp"

namespace cfgd::http {

class responder {
public:
  using sink = std::function<void(response)>;

  /// `fn` receives the response (on whatever thread answers).
  explicit responder(sink fn);

  /// Sends `res`; only the first call of all copies counts.
  void operator()(response res) const;

  /// True once a copy answered.
  bool answered() const noexcept;

private:
  struct state;
  std::shared_ptr<state> state_; ///< answers 500 if dropped unanswered
};

} // namespace cfgd::http
