#include "caf_settings.hpp"

#include <cstdlib>

#include <caf/atom.hpp>

namespace bench {

void apply(const caf_settings& x, caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom_from_string(x.scheduler));
  if (x.threads > 0)
    cfg.set("scheduler.max-threads", x.threads);
  if (x.io_workers >= 0)
    cfg.set("middleman.workers", x.io_workers);
}

std::vector<std::string> to_args(const caf_settings& x) {
  return {"--scheduler=" + x.scheduler,
          "--threads=" + std::to_string(x.threads),
          "--io-workers=" + std::to_string(x.io_workers)};
}

std::vector<std::string> worker_args(const caf_settings& x, uint16_t port) {
  auto args = to_args(x);
  args.push_back("--host=127.0.0.1");
  args.push_back("--port=" + std::to_string(port));
  return args;
}

caf_settings caf_settings_from(const arg_map& args) {
  caf_settings x;
  x.scheduler = arg_or(args, "scheduler", "sharing");
  x.threads = std::atoi(arg_or(args, "threads", "0").c_str());
  x.io_workers = std::atoi(arg_or(args, "io-workers", "-1").c_str());
  return x;
}

std::string to_string(const caf_settings& x) {
  return "scheduler.policy=" + x.scheduler + " scheduler.max-threads="
         + (x.threads > 0 ? std::to_string(x.threads) : "default")
         + " middleman.workers="
         + (x.io_workers >= 0 ? std::to_string(x.io_workers) : "default");
}

} // namespace bench
