// Fuzzes what a node reads from etcd's versions/ keys (etcd/version_record,
// etcd/record_deflate): whoever may write the cluster's prefix in etcd
// chooses these bytes. Input: the first byte picks a mode.
//  - mode even: the rest is a stored record, as text or deflated, decoded as
//    every node decodes it; a record that decodes must encode to a text
//    that decodes to the same record (encode is a fixpoint), and a deflated
//    one must inflate within a bound of 1 MiB or be refused.
//  - mode odd: the rest is a record's text, stored as a node stores it
//    with a text limit of 16 KiB (deflated above, which a seed reaches by
//    repetition): it must read back to exactly the text, and decode as the
//    text decodes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "etcd/record_deflate.hpp"
#include "etcd/version_record.hpp"

#include "fuzz_check.hpp"

using namespace cfgactors::detail;

namespace {

constexpr std::string_view key
  = "/cfgactors/fuzz/versions/00000000000000000001";

/// A text limit that inputs reach (etcd's default is 1.5 MiB).
constexpr std::size_t text_limit = 16 * 1024;

/// The text stored_form would store for `text`, read back.
std::string round_trip(const std::string& text) {
  auto stored
    = text.size() > text_limit ? deflate_record(text) : text;
  if (!is_deflated_record(stored))
    return stored;
  auto back = inflate_record(stored, key);
  if (!back)
    cfgactors::fuzz::violated(__FILE__, __LINE__,
                              "a deflated text does not inflate",
                              std::to_string(text.size()) + " bytes");
  return *back;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  auto mode = data[0];
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode % 2 == 0) {
    if (is_deflated_record(rest)) {
      auto small = inflate_record(rest, key, 1024 * 1024);
      if (small && small->size() > 1024 * 1024)
        cfgactors::fuzz::violated(__FILE__, __LINE__,
                                  "inflated beyond its bound",
                                  std::to_string(small->size()));
    }
    auto rec = decode_version_record(rest, key);
    if (!rec)
      return 0;
    auto text = encode(*rec);
    auto again = decode_version_record(text, key);
    if (!again)
      cfgactors::fuzz::violated(__FILE__, __LINE__,
                                "an encoded record does not decode", text);
    if (encode(*again) != text)
      cfgactors::fuzz::violated(__FILE__, __LINE__,
                                "encode is not a fixpoint", text);
    return 0;
  }
  // Repeated up to 20 KiB, so that the deflated path is taken too.
  auto text = rest;
  if (!text.empty() && (mode & 0x02) != 0)
    while (text.size() <= text_limit)
      text += rest;
  if (text.empty() || text[0] == '\x78')
    return 0; // a text never starts with 0x78: it would read as deflated
  if (round_trip(text) != text)
    cfgactors::fuzz::violated(__FILE__, __LINE__,
                              "a stored text reads back changed",
                              std::to_string(text.size()) + " bytes");
  auto direct = decode_version_record(text, key);
  auto stored
    = text.size() > text_limit ? deflate_record(text) : text;
  auto through = decode_version_record(stored, key);
  if (static_cast<bool>(direct) != static_cast<bool>(through)
      || (direct && encode(*direct) != encode(*through)))
    cfgactors::fuzz::violated(__FILE__, __LINE__,
                              "a stored record decodes otherwise than its "
                              "text",
                              text.substr(0, 2000));
  return 0;
}
