// Fuzzes the cluster link's frames (link/link_crypto.hpp), what any peer
// that passed the handshake, or anyone on the path, can put on the wire.
// Input: the first byte picks a mode, the next 32 are the key.
//  - mode even: the rest is a stream of frames as the tunnel reads it
//    (header, then length + tag bytes), opened in order until one fails (the
//    key is the input's, so valid frames are reachable); a length beyond the
//    cap must be refused before anything is read, and nothing may crash or
//    overrun.
//  - mode odd: the rest is plaintext, sealed in frames of at most the cap;
//    each must open to the same bytes, and with one bit of it flipped (at
//    a position the input picks) must not.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "link/link_crypto.hpp"

#include "fuzz_check.hpp"

using namespace cfgactors::detail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 + 32)
    return 0;
  auto mode = data[0];
  link_key key;
  std::memcpy(key.data(), data + 1, key.size());
  data += 33;
  size -= 33;
  if (mode % 2 == 0) {
    frame_cipher in{key};
    std::size_t pos = 0;
    while (size - pos >= link_header_size) {
      const unsigned char* header = data + pos;
      auto length = frame_cipher::frame_length(header);
      if (length < 0) {
        uint32_t n = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16)
                     | (uint32_t{header[2]} << 8) | uint32_t{header[3]};
        if (n <= link_max_frame)
          cfgactors::fuzz::violated(__FILE__, __LINE__,
                                    "a length within the cap refused",
                                    std::to_string(n));
        return 0; // the tunnel closes
      }
      pos += link_header_size;
      auto need = static_cast<std::size_t>(length) + link_tag_size;
      if (size - pos < need)
        return 0;
      std::vector<unsigned char> body(data + pos, data + pos + need);
      pos += need;
      if (!in.open(header, body.data(), static_cast<std::size_t>(length)))
        return 0; // a frame that does not open ends the link
    }
    return 0;
  }
  // One frame of the input (libFuzzer's inputs are far below the cap),
  // then the same frame with one bit flipped, each opened by a fresh
  // receiver at the same sequence number.
  auto n = std::min(size, link_max_frame);
  frame_cipher out{key};
  std::vector<unsigned char> frame;
  if (!out.seal(data, n, frame))
    cfgactors::fuzz::violated(__FILE__, __LINE__, "seal failed",
                              std::to_string(n));
  if (frame.size() != link_header_size + n + link_tag_size
      || frame_cipher::frame_length(frame.data()) != static_cast<long>(n))
    cfgactors::fuzz::violated(__FILE__, __LINE__, "frame size",
                              std::to_string(frame.size()));
  auto changed = frame;
  auto at = (n > 0 ? data[0] * 131u + data[n - 1] : 0u) % changed.size();
  changed[at] ^= 1;
  {
    frame_cipher in{key};
    if (!in.open(frame.data(), frame.data() + link_header_size, n))
      cfgactors::fuzz::violated(__FILE__, __LINE__, "own frame did not open",
                                std::to_string(n));
    if (n > 0 && std::memcmp(frame.data() + link_header_size, data, n) != 0)
      cfgactors::fuzz::violated(__FILE__, __LINE__, "plaintext changed",
                                std::to_string(n));
  }
  {
    frame_cipher in{key};
    auto length = frame_cipher::frame_length(changed.data());
    if (length == static_cast<long>(n)
        && in.open(changed.data(), changed.data() + link_header_size, n))
      cfgactors::fuzz::violated(__FILE__, __LINE__, "a changed frame opened",
                                "bit at " + std::to_string(at));
  }
  return 0;
}
