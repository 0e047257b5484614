#include "flip_subscriber.hpp"

#include "cfgactors/change.hpp"

#include "report.hpp"

namespace bench {

cfgactors::subscriber_actor::behavior_type
flip_subscriber(cfgactors::subscriber_actor::pointer, int id) {
  return {
    [id](const cfgactors::change& c) {
      auto now = monotonic_ns();
      auto& value = c.new_value();
      auto flip = value.find("flip");
      if (flip == value.end() || !flip->is_object())
        return;
      auto i = flip->value("i", uint64_t{0});
      auto t = flip->value("t", int64_t{0});
      report_flip(id, i, now - t);
    },
  };
}

} // namespace bench
