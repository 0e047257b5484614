#include "api/context.hpp"

#include <charconv>
#include <string>

#include "cfgactors/errc.hpp"

#include "api/writes.hpp"

namespace cfgd {

using http::status;

namespace {

bool is_sec(const caf::error& err, caf::sec code) {
  return err.category() == caf::atom("system")
         && err.code() == static_cast<uint8_t>(code);
}

} // namespace

http::response actor_error(const api_context& ctx, const http::request& req,
                           const caf::error& err) {
  auto text = ctx.sys.render(err);
  // A 503 is worth a retry soon: say when (RFC 9110, Retry-After).
  auto retry_soon = [](http::response res) {
    res.set(boost::beast::http::field::retry_after, "1");
    return res;
  };
  if (err.category() == cfgactors::errc_category) {
    auto code = static_cast<cfgactors::errc>(err.code());
    auto name = code == cfgactors::errc::not_found ? std::string{"not found"}
                                                   : to_string(code);
    auto res = http::error_response(req, status_of(code), name, {text});
    if (res.result() == status::service_unavailable)
      return retry_soon(std::move(res));
    return res;
  }
  if (is_sec(err, caf::sec::request_timeout))
    return retry_soon(http::error_response(
      req, status::service_unavailable, "unavailable",
      {"the config store did not answer within "
       + std::to_string(ctx.timeout.count()) + " ms"}));
  if (is_sec(err, caf::sec::request_receiver_down))
    return retry_soon(http::error_response(req, status::service_unavailable,
                                           "unavailable", {text}));
  return http::error_response(req, status::internal_server_error,
                              "internal error", {text});
}

cfgactors::json replica_json(const std::string& name,
                             const cfgactors::replica_status& st) {
  return cfgactors::json{{"name", name},
                         {"role", "replica"},
                         {"version", st.version},
                         {"hash", st.hash},
                         {"state", to_string(st.state())},
                         {"stale", st.stale},
                         {"reason", st.reason},
                         {"cluster_id", st.cluster_id},
                         {"epoch", st.epoch},
                         {"resyncs", st.resyncs},
                         {"reconnects", st.reconnects}};
}

std::optional<uint64_t> to_u64(std::string_view text) {
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(),
                                   value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size())
    return std::nullopt;
  return value;
}

bool never_synced(const api_context& ctx) {
  return !ctx.node.is_primary() && ctx.node.version() == 0;
}

http::gate readers_gate(api_context_ptr ctx, credentials from) {
  return [token = token_gate(ctx->auth, access::read, from),
          ctx](const http::request& req) -> std::optional<http::response> {
    if (auto refusal = token(req))
      return refusal;
    if (never_synced(*ctx))
      return http::error_response(
        req, status::service_unavailable, "not synced",
        {"this replica has not synced with its primary yet"});
    return std::nullopt;
  };
}

} // namespace cfgd
