#include "client.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <iostream>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <httplib.h>

namespace cfgctl {

std::optional<endpoint> endpoint::parse(const std::string& url,
                                        std::string& error) {
  endpoint ep;
  auto sep = url.find("://");
  if (sep == std::string::npos) {
    error = "expected http://HOST:PORT, got '" + url + "'";
    return std::nullopt;
  }
  ep.scheme = url.substr(0, sep);
  if (ep.scheme != "http" && ep.scheme != "https") {
    error = "the URL scheme must be http or https, got '" + ep.scheme + "'";
    return std::nullopt;
  }
  auto rest = url.substr(sep + 3);
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  ep.base = slash == std::string::npos ? "" : rest.substr(slash);
  while (!ep.base.empty() && ep.base.back() == '/')
    ep.base.pop_back();
  ep.port = ep.scheme == "https" ? 443 : 80;
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    try {
      std::size_t used = 0;
      ep.port = std::stoi(authority.substr(colon + 1), &used);
      if (used != authority.size() - colon - 1 || ep.port < 1
          || ep.port > 65535)
        throw std::out_of_range("port");
    } catch (const std::exception&) {
      error = "bad port in '" + url + "'";
      return std::nullopt;
    }
    authority = authority.substr(0, colon);
  }
  if (authority.size() > 2 && authority.front() == '['
      && authority.back() == ']')
    authority = authority.substr(1, authority.size() - 2);
  if (authority.empty()) {
    error = "missing host in '" + url + "'";
    return std::nullopt;
  }
  ep.host = authority;
  return ep;
}

client::client(endpoint ep, std::string token,
               std::chrono::milliseconds timeout)
  : ep_(std::move(ep)), token_(std::move(token)), timeout_(timeout) {
  // nop
}

namespace {

reply to_reply(const httplib::Result& res, std::string what,
               bool out_of_time) {
  reply r;
  r.what = std::move(what);
  if (!res) {
    auto err = res.error();
    // Read after the whole timeout: connected, but no answer came; unlike
    // a refused or closed connection, a write may have committed meanwhile.
    r.timed_out = err == httplib::Error::Read && out_of_time;
    r.error = err == httplib::Error::Connection
                ? std::string{"connection refused or host unreachable"}
              : r.timed_out ? std::string{"connected, but no answer in time"}
              : err == httplib::Error::Read
                ? std::string{"the connection closed without an answer"}
                : httplib::to_string(err) + " error";
    return r;
  }
  r.status = res->status;
  r.text = res->body;
  r.version = res->get_header_value("X-Config-Version");
  if (!r.text.empty()) {
    try {
      r.body = nlohmann::json::parse(r.text);
    } catch (const nlohmann::json::exception&) {
      r.body = nullptr;
    }
  }
  return r;
}

template <class F>
reply with_client(const endpoint& ep, const std::string& token,
                  std::chrono::milliseconds timeout, const std::string& what,
                  const std::string& target, F f) {
  auto host = ep.host.find(':') == std::string::npos ? ep.host
                                                     : "[" + ep.host + "]";
  auto url = ep.scheme + "://" + host + ":" + std::to_string(ep.port);
  httplib::Client cli{url};
  auto secs = timeout.count() / 1000;
  auto usecs = (timeout.count() % 1000) * 1000;
  cli.set_connection_timeout(secs, usecs);
  cli.set_read_timeout(secs, usecs);
  cli.set_write_timeout(secs, usecs);
  httplib::Headers headers{{"X-Config-Origin", "cfgctl"}};
  if (!token.empty())
    headers.emplace("Authorization", "Bearer " + token);
  auto started = std::chrono::steady_clock::now();
  auto res = f(cli, headers);
  // (poll() may wake a little early: 90% of the timeout counts as all.)
  auto out_of_time
    = std::chrono::steady_clock::now() - started >= timeout * 9 / 10;
  return to_reply(res, what + " " + url + ep.base + target, out_of_time);
}

} // namespace

reply client::get(const std::string& target) const {
  return with_client(ep_, token_, timeout_, "GET", target,
                     [&](httplib::Client& cli, const httplib::Headers& h) {
                       return cli.Get(ep_.base + target, h);
                     });
}

reply client::send(const std::string& method, const std::string& target,
                   const std::string& body) const {
  return with_client(
    ep_, token_, timeout_, method, target,
    [&](httplib::Client& cli, httplib::Headers h) {
      if (!idempotency_key_.empty())
        h.emplace("Idempotency-Key", idempotency_key_);
      if (!reason_.empty())
        h.emplace("X-Change-Reason", reason_);
      if (!if_match_.empty())
        h.emplace("If-Match", "\"" + if_match_ + "\"");
      auto path = ep_.base + target;
      if (method == "PUT")
        return cli.Put(path, h, body, "application/json");
      if (method == "PATCH")
        return cli.Patch(path, h, body, "application/json");
      if (method == "DELETE")
        return cli.Delete(path, h, body, "application/json");
      return cli.Post(path, h, body, "application/json");
    });
}

bool is_loopback_host(const std::string& host, std::string& error) {
  auto name = host;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (name == "localhost")
    return true;
  // Any other name is judged by what it resolves to now: all loopback, or
  // the token stays here.
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (auto rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    error = "cannot resolve '" + host + "': " + gai_strerror(rc);
    return false;
  }
  auto loopback = [](const sockaddr* sa) {
    if (sa->sa_family == AF_INET) {
      auto& in = reinterpret_cast<const sockaddr_in*>(sa)->sin_addr;
      return (ntohl(in.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
      auto& in6 = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
      return IN6_IS_ADDR_LOOPBACK(&in6)
             || (IN6_IS_ADDR_V4MAPPED(&in6) && in6.s6_addr[12] == 127);
    }
    return false;
  };
  bool all = found != nullptr;
  for (auto i = found; i != nullptr; i = i->ai_next)
    if (!loopback(i->ai_addr)) {
      char text[INET6_ADDRSTRLEN] = "?";
      auto* addr = i->ai_family == AF_INET6
                     ? static_cast<const void*>(
                       &reinterpret_cast<sockaddr_in6*>(i->ai_addr)->sin6_addr)
                     : &reinterpret_cast<sockaddr_in*>(i->ai_addr)->sin_addr;
      inet_ntop(i->ai_family, addr, text, sizeof(text));
      error = host == text ? host + " is not a loopback address"
                           : host + " resolves to " + text
                               + ", not a loopback address";
      all = false;
      break;
    }
  freeaddrinfo(found);
  return all;
}

std::string url_encode(const std::string& text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'
        || c == '[' || c == ']')
      out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

int exit_code_of(const reply& r) {
  if (r.status == 0)
    return r.timed_out ? exit_no_answer : exit_unreachable;
  if (r.status == 401 || r.status == 403)
    return exit_auth;
  if (r.status == 409)
    return exit_conflict;
  if (r.status >= 500 || r.status == 429)
    return exit_unreachable;
  return exit_rejected;
}

int report_failure(const reply& r, bool json) {
  auto code = exit_code_of(r);
  nlohmann::json details = nlohmann::json::array();
  std::string error;
  if (r.status == 0) {
    error = r.error;
    std::cerr << "cfgctl: cannot reach cfgd: " << r.what << ": " << r.error
              << '\n';
  } else {
    error = r.body.is_object() && r.body.contains("error")
                && r.body["error"].is_string()
              ? r.body["error"].get<std::string>()
              : "HTTP " + std::to_string(r.status);
    if (r.body.is_object() && r.body.contains("details")
        && r.body["details"].is_array())
      details = r.body["details"];
    std::cerr << "cfgctl: " << r.what << ": " << error << " (HTTP "
              << r.status << ")\n";
    for (auto& d : details)
      std::cerr << "  " << (d.is_string() ? d.get<std::string>() : d.dump())
                << '\n';
  }
  if (json)
    std::cout << nlohmann::json{{"error", error},
                                {"details", details},
                                {"status", r.status},
                                {"request", r.what},
                                {"exit", code}}
                   .dump()
              << '\n';
  return code;
}

} // namespace cfgctl
