#include "write/redact.hpp"

#include <functional>

#include "cfgactors/path.hpp"

namespace cfgactors::detail {

void redact_errors(validation_errors& errors, const json& effective,
                   const secret_paths& secrets) {
  // A message may quote a long value cut short ("got \"abcd..."), so a run
  // of the secret's first 16 or more characters is masked as well.
  auto mask = [&](const std::string& secret) {
    if (secret.empty())
      return;
    auto probe = secret.substr(0, 16);
    for (auto& err : errors) {
      auto& msg = err.message;
      for (auto pos = msg.find(probe); pos != std::string::npos;
           pos = msg.find(probe, pos + 3)) {
        auto n = probe.size();
        while (n < secret.size() && pos + n < msg.size()
               && msg[pos + n] == secret[n])
          ++n;
        msg.replace(pos, n, "***");
      }
    }
  };
  // A secret object or array is secret in every part: a message about a
  // value inside it quotes that value, not the whole.
  std::function<void(const json&)> hide = [&](const json& value) {
    if (value.is_string()) {
      // The dumped form first: it may escape characters of the raw one.
      mask(value.dump());
      mask(value.get<std::string>());
      return;
    }
    if (auto text = value.dump(); text.size() >= 6)
      mask(text); // shorter numbers would mask unrelated digits
    if (value.is_structured())
      for (auto& x : value)
        hide(x);
  };
  secrets.for_each(effective,
                   [&](const config_path&, const json& value) { hide(value); });
}

} // namespace cfgactors::detail
