// GET /ofrep/v1/events: OFREP's optional Server-Sent Events stream. Every
// version whose change touched `features` is announced to every client as
// `event: message` with `data: {"type":"refetchEvaluation",...}`; changes
// elsewhere in the configuration send nothing. Clients then re-fetch
// through the evaluation endpoints: the stream carries no flag values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/node.hpp"

#include "api/context.hpp"
#include "http/router.hpp"

namespace cfgd {

class ofrep_stream;

/// Owns the event-stream clients and the subscription that feeds them.
/// Every member runs on the io thread; nothing here ever blocks it: a
/// client that does not keep up is dropped, never waited for.
class ofrep_events : public std::enable_shared_from_this<ofrep_events> {
public:
  /// At most `max_streams` clients at once; one more is answered 503.
  ofrep_events(std::shared_ptr<boost::asio::io_context> ioc,
               api_context_ptr ctx, std::size_t max_streams);

  /// Ends the feed actor if stop() did not.
  ~ofrep_events();

  /// Subscribes to changes under `features`; an error message if it
  /// cannot.
  std::optional<std::string> start();

  /// Closes every stream and ends the feed.
  void stop();

  /// The router's stream handler: takes the connection, or refuses it
  /// (503 past the limit or while stopping).
  std::optional<http::response> open(boost::beast::tcp_stream& stream,
                                     http::request& req,
                                     http::connection_ticket ticket);

  /// Announces `version`, committed at `committed_ms` (Unix epoch), to
  /// every client (called on the io thread).
  void publish(uint64_t version, int64_t committed_ms);

  void detach(ofrep_stream* s);

  /// Counts a client dropped for falling behind (GET /metrics shows it).
  void note_dropped() noexcept {
    ++dropped_;
  }

  std::size_t clients() const noexcept {
    return streams_.size();
  }

  /// Clients refused past the limit, and dropped as too slow, so far.
  uint64_t refused() const noexcept {
    return refused_;
  }

  uint64_t dropped() const noexcept {
    return dropped_;
  }

private:
  std::weak_ptr<boost::asio::io_context> ioc_;
  api_context_ptr ctx_;
  std::size_t max_streams_;
  cfgactors::subscriber_actor feed_actor_;
  cfgactors::subscription feed_;
  std::unordered_map<ofrep_stream*, std::weak_ptr<ofrep_stream>> streams_;
  uint64_t refused_ = 0;
  uint64_t dropped_ = 0;
  bool stopped_ = false;
};

} // namespace cfgd
