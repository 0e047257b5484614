#include "api/whoami.hpp"

#include <nlohmann/json.hpp>

namespace cfgd {

namespace {

nlohmann::json scope_names(unsigned scopes) {
  auto out = nlohmann::json::array();
  for (auto [bit, name] : {std::pair{scope_read, "read"},
                           std::pair{scope_write, "write"},
                           std::pair{scope_secrets, "secrets"}})
    if ((scopes & bit) != 0)
      out.push_back(name);
  return out;
}

} // namespace

void add_whoami_route(http::router& routes,
                      std::shared_ptr<const authorizer> auth) {
  routes.add(
    http::verb::get, "/whoami",
    [auth](const http::request_context& rc, http::responder respond) {
      nlohmann::json out{{"reads_need_token", auth->reads_need_token()},
                         {"writes_enabled", auth->writes_enabled()}};
      if (!authorizer::bearer(rc.req)) {
        out["name"] = "";
        out["scopes"] = nlohmann::json::array();
        return respond(http::json_response(rc.req, http::status::ok, out));
      }
      auto who = auth->identify(rc.req);
      if (!who)
        return respond(unauthorized(rc.req, "the token is not valid"));
      out["name"] = who->name;
      // write and secrets include read (auth.hpp).
      out["scopes"] = scope_names(who->scopes | scope_read);
      respond(http::json_response(rc.req, http::status::ok, out));
    });
}

} // namespace cfgd
