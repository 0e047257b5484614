// http_source: polls `GET {endpoint}/config` of a config server (a `cfgd` or
// any server the seed's RemoteConfig talks to) and proposes the body as the
// layer `http:<endpoint>`.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/error.hpp>

#include "cfgactors/actor_types.hpp"

namespace cfgactors {

struct http_source_options {
  std::string endpoint; ///< `http://host:port[/base]` or `https://…`
  std::string token;    ///< sent as `Authorization: Bearer <token>` if set
  std::chrono::milliseconds interval{5000}; ///< between good polls
  /// The first delay after a failure, doubling from there (default:
  /// 2 × interval, as the seed's RemoteConfig).
  std::optional<std::chrono::milliseconds> error_backoff;
  std::chrono::milliseconds max_backoff{60000}; ///< cap of the doubling delay
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds read_timeout{5000};
  std::size_t max_body = 4 * 1024 * 1024; ///< larger bodies are refused
  // https: PEM files, read at the first poll. The server's certificate must
  // chain to `ca_file` (default: the system's CAs) and name the endpoint's
  // host (SNI is sent); `cert_file` + `key_file` are presented for mutual
  // TLS (`key_file` empty: the key is in `cert_file`).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

/// Checks the options without spawning: an empty error or why they are
/// unusable (an interval, backoff or timeout that is not positive), naming
/// the field. A cap below the first backoff is raised to it.
std::string options_error(const http_source_options& options);

/// Spawns the poller (in its own thread: HTTP calls block). The first poll
/// happens at once. 304 → unchanged; a failure keeps the last good layer and
/// retries after error_backoff × 2^n (capped, ±20 % jitter); a body that is
/// not a JSON object, or that the validator refuses, counts as a failure.
source_actor spawn_http_source(caf::actor_system& sys,
                               validator_actor validator,
                               http_source_options options);

/// Blocks until the first poll of `src` (an http source) succeeded (its
/// layer committed or unchanged) or failed for good, at most `timeout`.
/// Failed for good: the endpoint or a TLS file is unusable, the server's
/// certificate was refused (CA, name), the server refused ours or wants one,
/// or it answered 401, 403 or 404. Anything else (refused connection, 5xx, a
/// body the validator refuses) is retried until `timeout`. Returns an error
/// naming the URL and why: errc::unavailable, or errc::timeout with the
/// last failure.
caf::error await_first_poll(caf::actor_system& sys, const source_actor& src,
                            std::chrono::milliseconds timeout);

} // namespace cfgactors
