#include "etcd/record_deflate.hpp"

#include <limits>
#include <stdexcept>

#include <zlib.h>

#include "etcd/version_record.hpp"

namespace cfgactors::detail {

namespace {

/// zlib counts in uInt: inputs beyond it are fed in steps.
constexpr std::size_t max_step = std::numeric_limits<uInt>::max();

uInt step(std::size_t left) {
  return static_cast<uInt>(left < max_step ? left : max_step);
}

} // namespace

bool is_deflated_record(std::string_view stored) noexcept {
  return !stored.empty() && static_cast<unsigned char>(stored[0]) == 0x78;
}

std::string deflate_record(std::string_view text) {
  z_stream zs{};
  if (deflateInit(&zs, Z_BEST_SPEED) != Z_OK)
    throw std::bad_alloc{};
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(text.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  auto in_left = text.size();
  auto out_left = out.size();
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.avail_in = step(in_left);
    zs.avail_out = step(out_left);
    auto in_before = zs.avail_in;
    auto out_before = zs.avail_out;
    rc = deflate(&zs, zs.avail_in == in_left ? Z_FINISH : Z_NO_FLUSH);
    in_left -= in_before - zs.avail_in;
    out_left -= out_before - zs.avail_out;
  }
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) // deflateBound is an upper bound: never here
    throw std::runtime_error("deflate failed");
  out.resize(out.size() - out_left);
  return out;
}

caf::expected<std::string> inflate_record(std::string_view stored,
                                          std::string_view key,
                                          std::size_t max_bytes) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK)
    return refused_record(key, "cannot inflate (out of memory)");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(stored.data()));
  auto in_left = stored.size();
  std::string out;
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.avail_in = step(in_left);
    auto in_before = zs.avail_in;
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    in_left -= in_before - zs.avail_in;
    auto made = sizeof(buf) - zs.avail_out;
    if (out.size() + made > max_bytes) {
      inflateEnd(&zs);
      return refused_record(key, "a deflated record of "
                                   + std::to_string(stored.size())
                                   + " bytes inflates beyond "
                                   + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, made);
    // Z_BUF_ERROR: no progress possible, here because the input ended.
    if (rc == Z_BUF_ERROR && in_left == 0)
      break;
  }
  auto msg = zs.msg ? std::string{zs.msg} : std::string{};
  inflateEnd(&zs);
  if (rc == Z_STREAM_END && in_left == 0)
    return out;
  if (rc == Z_STREAM_END)
    return refused_record(key,
                          std::to_string(in_left)
                            + " bytes after the end of its deflated stream");
  if (rc == Z_BUF_ERROR || rc == Z_OK)
    return refused_record(key, "its deflated stream ends early (after "
                                 + std::to_string(stored.size()) + " bytes)");
  if (msg.empty())
    msg = "zlib error " + std::to_string(rc);
  return refused_record(key, "not a valid deflated record (" + msg + ")");
}

} // namespace cfgactors::detail
