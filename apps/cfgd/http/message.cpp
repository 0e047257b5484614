#include "http/message.hpp"

#include <boost/beast/http/field.hpp>

namespace cfgd::http {

namespace bhttp = boost::beast::http;

const std::string* request_context::param(std::string_view key) const {
  auto i = query.find(key);
  return i != query.end() ? &i->second : nullptr;
}

response json_response(const request& req, status code,
                       const nlohmann::json& body) {
  response res{code, req.version()};
  res.set(bhttp::field::server, "cfgd");
  res.set(bhttp::field::content_type, "application/json");
  res.body() = body.dump(-1, ' ', false,
                         nlohmann::json::error_handler_t::replace);
  res.body() += '\n';
  return res;
}

response error_response(const request& req, status code, std::string error,
                        std::vector<std::string> details) {
  return json_response(req, code,
                       nlohmann::json{{"error", std::move(error)},
                                      {"details", std::move(details)}});
}

std::optional<std::string> url_decode(std::string_view text,
                                      bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size())
        return std::nullopt;
      auto hi = hex(text[i + 1]);
      auto lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

bool if_none_match(const request& req, std::string_view etag) {
  auto header = req[bhttp::field::if_none_match];
  std::string_view list{header.data(), header.size()};
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{}
                                           : list.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (item.substr(0, 2) == "W/")
      item.remove_prefix(2);
    if (item == "*" || item == etag)
      return true;
  }
  return false;
}

} // namespace cfgd::http
