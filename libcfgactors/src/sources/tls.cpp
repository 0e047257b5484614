#include "sources/tls.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace cfgactors::detail {

namespace {

namespace ssl = boost::asio::ssl;
using error_code = boost::system::error_code;

/// OpenSSL's reasons for a file it refused ("no start line") beat Asio's
/// generic ones; an unreadable file gets the system's reason instead.
bool readable(const std::string& what, const std::string& path,
              std::string& error) {
  std::ifstream in{path};
  if (in)
    return true;
  error = "cannot read the " + what + " '" + path + "': "
          + std::strerror(errno);
  return false;
}

} // namespace

std::optional<ssl::context> make_tls_context(const tls_files& files,
                                             std::string& error) {
  ssl::context ctx{ssl::context::tls_client};
  error_code ec;
  auto failed = [&](const std::string& what, const std::string& path) {
    error = "cannot load the " + what + " '" + path + "': " + ec.message();
    return std::nullopt;
  };
  if (files.ca_file.empty()) {
    ctx.set_default_verify_paths(ec);
    if (ec) {
      error = "cannot load the system's CA certificates: " + ec.message();
      return std::nullopt;
    }
  } else {
    if (!readable("CA file", files.ca_file, error))
      return std::nullopt;
    ctx.load_verify_file(files.ca_file, ec);
    if (ec)
      return failed("CA file", files.ca_file);
  }
  if (!files.cert_file.empty()) {
    if (!readable("client certificate", files.cert_file, error))
      return std::nullopt;
    ctx.use_certificate_chain_file(files.cert_file, ec);
    if (ec)
      return failed("client certificate", files.cert_file);
    auto key = files.key_file.empty() ? files.cert_file : files.key_file;
    if (!readable("client key", key, error))
      return std::nullopt;
    ctx.use_private_key_file(key, ssl::context::pem, ec);
    if (ec)
      return failed("client key", key);
  } else if (!files.key_file.empty()) {
    error = "a client key ('" + files.key_file
            + "') needs its client certificate";
    return std::nullopt;
  }
  ctx.set_verify_mode(ssl::verify_peer);
  return ctx;
}

bool expect_peer_name(SSL* ssl, const std::string& host, std::string& error) {
  // OpenSSL's own check (not Asio's host_name_verification callback): its
  // verify result then says *why* a certificate was refused.
  auto param = SSL_get0_param(ssl);
  error_code ec;
  boost::asio::ip::make_address(host, ec);
  auto ok = false;
  if (!ec) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  } else {
    X509_VERIFY_PARAM_set_hostflags(param,
                                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0) == 1
         && SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
  }
  if (!ok)
    error = "TLS setup: cannot verify the name '" + host + "'";
  return ok;
}

bool is_tls_error(const error_code& ec) {
  return ec.category() == boost::asio::error::get_ssl_category()
         || ec.category() == ssl::error::get_stream_category();
}

std::string tls_error_text(SSL* ssl, const error_code& ec) {
  auto out = ec.message();
  if (ssl) {
    auto result = SSL_get_verify_result(ssl);
    if (result != X509_V_OK)
      out += std::string{" ("} + X509_verify_cert_error_string(result) + ")";
  }
  return out;
}

bool peer_refused(SSL* ssl) {
  return ssl && SSL_get_verify_result(ssl) != X509_V_OK;
}

bool certificate_required(const error_code& ec) {
  if (ec.category() != boost::asio::error::get_ssl_category())
    return false;
  auto reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  return reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED;
}

} // namespace cfgactors::detail
