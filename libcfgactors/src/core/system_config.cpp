#include "cfgactors/system_config.hpp"

#include "cfgactors/actor_types.hpp"
#include "cfgactors/errc.hpp"

namespace cfgactors {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<op_kind>("cfgactors::op_kind");
  cfg.add_message_type<operation>("cfgactors::operation");
  cfg.add_message_type<write_request>("cfgactors::write_request");
  cfg.add_message_type<write_status>("cfgactors::write_status");
  cfg.add_message_type<errc>("cfgactors::errc");
  cfg.add_message_type<validation_error>("cfgactors::validation_error");
  cfg.add_message_type<write_result>("cfgactors::write_result");
  cfg.add_message_type<version_info>("cfgactors::version_info");
  cfg.add_message_type<diff_result>("cfgactors::diff_result");
  cfg.add_message_type<validator_stats>("cfgactors::validator_stats");
  cfg.add_message_type<router_stats>("cfgactors::router_stats");
  cfg.add_message_type<delivery_mode>("cfgactors::delivery_mode");
  cfg.add_message_type<delivery>("cfgactors::delivery");
  cfg.add_message_type<guard_stats>("cfgactors::guard_stats");
  cfg.add_message_type<source_state>("cfgactors::source_state");
  cfg.add_message_type<source_status>("cfgactors::source_status");
  cfg.add_message_type<hello>("cfgactors::hello");
  cfg.add_message_type<replicated_change>("cfgactors::replicated_change");
  cfg.add_message_type<full_snapshot>("cfgactors::full_snapshot");
  cfg.add_message_type<ack>("cfgactors::ack");
  cfg.add_message_type<auth_challenge>("cfgactors::auth_challenge");
  cfg.add_message_type<auth_proof>("cfgactors::auth_proof");
  cfg.add_message_type<auth_accept>("cfgactors::auth_accept");
  cfg.add_message_type<linked_write>("cfgactors::linked_write");
  cfg.add_message_type<cluster_stats>("cfgactors::cluster_stats");
  cfg.add_message_type<consistency>("cfgactors::consistency");
  cfg.add_message_type<consistent_write_result>(
    "cfgactors::consistent_write_result");
  cfg.add_message_type<replica_info>("cfgactors::replica_info");
  cfg.add_message_type<std::vector<replica_info>>(
    "std::vector<cfgactors::replica_info>");
  cfg.add_message_type<replica_status>("cfgactors::replica_status");
  // snapshot_ptr, change and commit_request never leave the process: CAF
  // needs no registration for them.
  cfg.add_error_category(errc_category, [](uint8_t code, caf::atom_value,
                                           const caf::message& ctx) {
    auto out = "cfgactors." + to_string(static_cast<errc>(code));
    if (ctx.match_elements<std::string>())
      out += ": " + ctx.get_as<std::string>(0);
    else if (!ctx.empty())
      out += ": " + to_string(ctx);
    return out;
  });
}

system_config::system_config() {
  cfgactors::add_message_types(*this);
  // CAF's default lets an actor run until its mailbox is empty. Under a
  // stream of writes on one thread (cfgd's default) the validator then
  // never yields: the router's mailbox holds every version published
  // meanwhile, whole trees included, none comes back to be built in, and
  // each write copies the config (bench/journal, 16 writers, 10,000 keys:
  // 810 commits/s; with this bound 32,152).
  set("scheduler.max-throughput", static_cast<int64_t>(fair_throughput));
}

} // namespace cfgactors
