// Private helper of the remote sources and the etcd client: a TLS client
// context from PEM files, the name check of the server's certificate, and
// messages that say why a handshake failed.
#pragma once

#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <openssl/ssl.h>

namespace cfgactors::detail {

/// PEM files; every one optional.
struct tls_files {
  std::string ca_file;   ///< CAs the server must chain to; empty: the system's
  std::string cert_file; ///< client certificate (chain) for mutual TLS
  std::string key_file;  ///< its private key; empty: `cert_file` holds it
};

/// A client context that verifies the server. Each file is read now: on
/// failure returns nothing and `error` names the file and why.
std::optional<boost::asio::ssl::context>
make_tls_context(const tls_files& files, std::string& error);

/// Makes the handshake on `ssl` check that the certificate names `host` (an
/// IP SAN for an address literal, else a DNS name, no partial wildcards) and
/// sends `host` as SNI. False (and why in `error`) if OpenSSL refuses.
bool expect_peer_name(SSL* ssl, const std::string& host, std::string& error);

/// Whether `ec` comes from OpenSSL (the handshake or a record).
bool is_tls_error(const boost::system::error_code& ec);

/// Asio's text of a TLS error plus OpenSSL's reason for refusing the
/// server's certificate ("certificate verify failed (hostname mismatch)"),
/// which Asio's message leaves out.
std::string tls_error_text(SSL* ssl, const boost::system::error_code& ec);

/// Whether the server's certificate was refused (wrong CA, wrong name,
/// expired): trying again cannot help until someone changes a file.
bool peer_refused(SSL* ssl);

/// Whether `ec` is the server's alert that it wants a client certificate
/// (TLS 1.3 sends it after the client finished its handshake: it shows on
/// the first read).
bool certificate_required(const boost::system::error_code& ec);

} // namespace cfgactors::detail
