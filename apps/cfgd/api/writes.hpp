// The config server's write routes: every change enters the pipeline through
// the validator, needs a write token, and answers with the new version or
// with every reason it was refused.
#pragma once

#include <memory>

#include "cfgactors/cluster_messages.hpp"

#include "api/auth.hpp"
#include "api/reads.hpp"
#include "http/server.hpp"

namespace cfgd {

/// The header that says why a write is made (docs: stable name); each
/// write route takes it, the WebSocket actions take a `reason` field.
inline constexpr const char* change_reason_header = "X-Change-Reason";

/// PUT /config (replace the runtime layer, the top one: the document is
/// served as pushed, paths it leaves out come from file/env/remote below,
/// a null removes a path; cfgctl push, cfgactors::config_client::push),
/// PATCH /config (merge patch),
/// PUT|DELETE /config/<path>, POST /features/<name>, POST /rollback/<version>.
/// Each takes `?dry_run=1`: full admission (schema, rules, contracts,
/// If-Match), no version; answered `{"status":"accepted"|"unchanged",
/// "dry_run":true, "version", "hash", "changes", "patch"}` (the seed's
/// `{path: {old,new}}` view and RFC 6902, from the running version, secrets
/// masked for a token without the secrets scope) or the refusal with every
/// reason. DELETE /nodes/<name> and POST /cluster/resync refuse `dry_run`.
void add_write_routes(http::router& routes, api_context_ptr ctx,
                      std::shared_ptr<const authorizer> auth);

/// The HTTP status of a refused write: 422 validation, 409 conflict, 404,
/// 413, 400, 503.
http::status status_of(cfgactors::errc code);

/// `{"status":"committed","version":n,"hash":…}` or the error shape with
/// every reason.
http::response write_response(const http::request& req,
                              const cfgactors::write_result& result);

/// A write with a consistency level: as above, plus `consistency`,
/// `satisfied` and the replicas that `acked` and are `missing`.
http::response write_response(const http::request& req,
                              const cfgactors::consistent_write_result& x);

} // namespace cfgd
