#define CAF_SUITE link
// The cluster link below BASP, over real loopback sockets: its wire format
// (pinned), the frames' integrity, and what the gate does with peers that
// stall, speak anything else, or prove a wrong secret.
#include "cfgactors_test.hpp"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <optional>
#include <mutex>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "link/link_crypto.hpp"
#include "link/link_dialer.hpp"
#include "link/link_gate.hpp"

namespace link_suite {

using namespace cfgactors;
using namespace cfgactors::detail;
using namespace std::chrono_literals;

namespace {

constexpr const char* secret = "link-test-secret-0123456789abcdef";
// Same length, one byte off.
constexpr const char* wrong_secret = "link-test-secret-0123456789abcdeF";

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0x0f];
  }
  return out;
}

template <std::size_t N>
std::string hex(const std::array<unsigned char, N>& x) {
  return hex(x.data(), x.size());
}

link_nonce counting_nonce(unsigned char start) {
  link_nonce out;
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<unsigned char>(start + i);
  return out;
}

link_options fast_link() {
  link_options out;
  out.secret = secret;
  out.handshake_timeout = 300ms;
  out.connect_timeout = 1s;
  out.heartbeat = 50ms;
  out.idle_timeout = 400ms;
  return out;
}

/// A plain TCP client socket connected to 127.0.0.1:port.
int connect_raw(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Reads until `fd` is closed by the other end (read returns 0 or fails)
/// or `limit` passes; returns how long it took, or nullopt on the limit.
std::optional<std::chrono::milliseconds>
time_to_close(int fd, std::chrono::milliseconds limit) {
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + limit;
  char buf[512];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    auto n = ::read(fd, buf, sizeof(buf));
    if (n <= 0)
      return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
  }
}

/// Reads exactly `n` bytes (or fails within 2 s).
bool read_exact(int fd, unsigned char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0)
      return false;
    auto k = ::read(fd, out + got, n - got);
    if (k <= 0)
      return false;
    got += static_cast<std::size_t>(k);
  }
  return true;
}

/// A socket listening on a free loopback port (it never accepts by itself).
struct listener {
  int fd = -1;
  uint16_t port = 0;

  listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
        || ::listen(fd, 4) != 0)
      return;
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }

  ~listener() {
    ::close(fd);
  }
};

/// A fake primary on one accepted connection: its challenge, then a server
/// proof made with `proof_secret`; it holds the connection open (silent)
/// until `release` is ready.
void fake_primary(int lfd, const char* proof_secret,
                  std::shared_future<void> release) {
  int fd = ::accept(lfd, nullptr, nullptr);
  auto primary = counting_nonce(1);
  std::vector<unsigned char> out(link_magic.begin(), link_magic.end());
  out.insert(out.end(), primary.begin(), primary.end());
  [[maybe_unused]] auto n = ::write(fd, out.data(), out.size());
  std::array<unsigned char, 72> in{};
  if (read_exact(fd, in.data(), in.size())) {
    link_nonce peer;
    std::copy(in.begin() + 8, in.begin() + 40, peer.begin());
    auto mac = link_server_proof(proof_secret, primary, peer);
    n = ::write(fd, mac.data(), mac.size());
  }
  release.wait();
  ::close(fd);
}

/// A gate whose admitted links land in `admitted` (BASP's ends).
struct gate_fixture {
  link_context_ptr ctx = std::make_shared<link_context>();
  link_gate_ptr gate;
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<int> admitted;

  explicit gate_fixture(link_options opts = fast_link()) {
    auto g = link_gate::open(ctx, "127.0.0.1", 0, std::move(opts),
                             [this](int fd) {
                               std::lock_guard<std::mutex> guard{mtx};
                               admitted.push_back(fd);
                               cv.notify_all();
                             });
    CAF_REQUIRE(g);
    gate = *g;
  }

  ~gate_fixture() {
    gate->close();
    ctx->stop();
    for (auto fd : admitted)
      ::close(fd);
  }

  int wait_admitted(std::size_t n) {
    std::unique_lock<std::mutex> guard{mtx};
    cv.wait_for(guard, 3s, [&] { return admitted.size() >= n; });
    return admitted.size() >= n ? admitted[n - 1] : -1;
  }

  uint64_t refused(const std::string& reason) {
    auto all = gate->refused();
    auto i = all.find(reason);
    return i == all.end() ? 0 : i->second;
  }
};

link_result dial(link_options opts, uint16_t port) {
  auto ctx = std::make_shared<link_context>();
  auto dialer = std::make_shared<link_dialer>(ctx, std::move(opts));
  std::promise<link_result> done;
  auto result = done.get_future();
  dialer->dial("127.0.0.1", port,
               [&done](link_result r) { done.set_value(std::move(r)); });
  auto out = result.get();
  // For tests of failed dials: a tunnel, if any, ends with ctx.
  ctx->stop();
  return out;
}

} // namespace

// -- the wire format: these values must never change ----------------------

// The expected values were computed apart from this code, with Python's hmac
// and the `cryptography` package's AESGCM (docs/SECURITY.md shows how).

CAF_TEST(proofs and keys are pinned) {
  auto primary = counting_nonce(0x00);
  auto peer = counting_nonce(0x80);
  CAF_CHECK_EQUAL(hex(link_client_proof(secret, primary, peer)),
                  "8915efdc4e04ab41618f26a8231c9239"
                  "a7a6a81238332d50d6b4cd75a8930515");
  CAF_CHECK_EQUAL(hex(link_server_proof(secret, primary, peer)),
                  "4fbaee96fa032876d4e491a1cb523d55"
                  "da9deb91780937a71f0289f45754821c");
  CAF_CHECK_EQUAL(hex(link_key_to_primary(secret, primary, peer)),
                  "f4e3f7ac78571435522477b101b2f63c"
                  "d89bc58c9aaa4d1d527195de3ec4d5f0");
  CAF_CHECK_EQUAL(hex(link_key_to_peer(secret, primary, peer)),
                  "01538bce08908897d567c53d7af2f6d0"
                  "0d29e71aa528867f205ac7b831d200f8");
  // A proof depends on every input.
  CAF_CHECK_NOT_EQUAL(hex(link_client_proof(wrong_secret, primary, peer)),
                      hex(link_client_proof(secret, primary, peer)));
  CAF_CHECK_NOT_EQUAL(hex(link_client_proof(secret, peer, primary)),
                      hex(link_client_proof(secret, primary, peer)));
}

CAF_TEST(a frame is pinned) {
  link_key key;
  for (std::size_t i = 0; i < key.size(); ++i)
    key[i] = static_cast<unsigned char>(i);
  frame_cipher out{key};
  std::vector<unsigned char> frames;
  const char* text = "hello";
  CAF_REQUIRE(out.seal(reinterpret_cast<const unsigned char*>(text), 5,
                       frames));
  CAF_REQUIRE(out.seal(nullptr, 0, frames)); // a heartbeat
  // Header (length 5), ciphertext, tag; then the heartbeat: length 0, tag.
  CAF_CHECK_EQUAL(hex(frames.data(), frames.size()),
                  "00000005" "66d9d9b2da" "84faf2544d758a86ce857bd8d2b32ed8"
                  "00000000" "6b2b445cda120688ace12f1f98711640");
}

// -- frames: nothing changed, dropped, replayed or reordered goes through ---

CAF_TEST(a changed dropped or replayed frame does not open) {
  link_key key{};
  key[0] = 7;
  std::vector<std::vector<unsigned char>> frames;
  {
    frame_cipher out{key};
    for (int i = 0; i < 3; ++i) {
      std::vector<unsigned char> f;
      std::string text = "frame " + std::to_string(i);
      CAF_REQUIRE(out.seal(reinterpret_cast<const unsigned char*>(text.data()),
                           text.size(), f));
      frames.push_back(f);
    }
  }
  auto open = [&](frame_cipher& in, std::vector<unsigned char> f) {
    auto length = frame_cipher::frame_length(f.data());
    if (length < 0)
      return false;
    return in.open(f.data(), f.data() + link_header_size,
                   static_cast<std::size_t>(length));
  };
  {
    frame_cipher in{key};
    CAF_CHECK(open(in, frames[0]));
    CAF_CHECK(open(in, frames[1]));
    CAF_CHECK(open(in, frames[2]));
  }
  {
    frame_cipher in{key};
    auto changed = frames[0];
    changed[link_header_size] ^= 1; // one bit of the ciphertext
    CAF_CHECK(!open(in, changed));
  }
  {
    frame_cipher in{key};
    auto changed = frames[0];
    changed.back() ^= 0x80; // one bit of the tag
    CAF_CHECK(!open(in, changed));
  }
  {
    frame_cipher in{key};
    CAF_CHECK(open(in, frames[0]));
    CAF_CHECK(!open(in, frames[0])); // replayed
  }
  {
    frame_cipher in{key};
    CAF_CHECK(!open(in, frames[1])); // the first one dropped
  }
  {
    link_key other = key;
    other[31] ^= 1;
    frame_cipher in{other};
    CAF_CHECK(!open(in, frames[0])); // another key
  }
  unsigned char huge[4] = {0x7f, 0xff, 0xff, 0xff};
  CAF_CHECK_EQUAL(frame_cipher::frame_length(huge), -1);
}

// -- the gate --------------------------------------------------------------

CAF_TEST(a peer with the secret gets a tunnel both ways) {
  gate_fixture fx;
  auto ctx = std::make_shared<link_context>();
  auto dialer = std::make_shared<link_dialer>(ctx, fast_link());
  std::promise<link_result> done;
  auto result = done.get_future();
  dialer->dial("127.0.0.1", fx.gate->port(),
               [&done](link_result r) { done.set_value(std::move(r)); });
  auto r = result.get();
  CAF_REQUIRE_EQUAL(r.error, "");
  auto theirs = fx.wait_admitted(1);
  CAF_REQUIRE(theirs >= 0);
  // Bytes written at one end come out of the other, both ways; idle for
  // longer than the idle timeout, the heartbeats keep the link open.
  std::string ping = "ping through the link";
  CAF_REQUIRE(::write(r.fd, ping.data(), ping.size())
              == static_cast<ssize_t>(ping.size()));
  std::vector<unsigned char> got(ping.size());
  CAF_REQUIRE(read_exact(theirs, got.data(), got.size()));
  CAF_CHECK_EQUAL(std::string(got.begin(), got.end()), ping);
  std::this_thread::sleep_for(1s);
  std::string pong(300 * 1024, 'x'); // more than one frame
  CAF_REQUIRE(::write(theirs, pong.data(), pong.size())
              == static_cast<ssize_t>(pong.size()));
  got.resize(pong.size());
  CAF_REQUIRE(read_exact(r.fd, got.data(), got.size()));
  CAF_CHECK(std::string(got.begin(), got.end()) == pong);
  CAF_CHECK_EQUAL(fx.gate->links(), 1u);
  // One end closes: the other end's BASP sees its connection close.
  ::close(r.fd);
  CAF_CHECK(time_to_close(theirs, 2s).has_value());
  ctx->stop();
}

CAF_TEST(a wrong secret of the same length is refused and counted) {
  gate_fixture fx;
  auto opts = fast_link();
  opts.secret = wrong_secret;
  auto r = dial(opts, fx.gate->port());
  CAF_CHECK_EQUAL(r.fd, -1);
  CAF_CHECK(r.error.find("after our proof") != std::string::npos);
  CAF_CHECK_EQUAL(fx.refused("link_bad_proof"), 1u);
  CAF_CHECK(fx.admitted.empty());
}

CAF_TEST(a primary that proves a wrong secret is refused by the peer) {
  listener l;
  CAF_REQUIRE(l.port != 0);
  std::promise<void> release;
  std::thread fake{fake_primary, l.fd, wrong_secret,
                   release.get_future().share()};
  auto r = dial(fast_link(), l.port);
  release.set_value();
  fake.join();
  CAF_CHECK_EQUAL(r.fd, -1);
  CAF_CHECK(r.error.find("did not prove the cluster secret")
            != std::string::npos);
}

CAF_TEST(a peer that sends nothing is closed after the handshake timeout) {
  gate_fixture fx;
  int fd = connect_raw(fx.gate->port());
  CAF_REQUIRE(fd >= 0);
  // It gets the challenge, and nothing else.
  std::array<unsigned char, 40> challenge{};
  CAF_REQUIRE(read_exact(fd, challenge.data(), challenge.size()));
  CAF_CHECK(std::equal(link_magic.begin(), link_magic.end(),
                       challenge.begin()));
  auto took = time_to_close(fd, 3s);
  CAF_REQUIRE(took.has_value());
  CAF_MESSAGE("closed after " << took->count() << " ms");
  CAF_CHECK(*took >= 200ms);
  CAF_CHECK_EQUAL(fx.refused("link_handshake_timeout"), 1u);
  CAF_CHECK_EQUAL(fx.gate->pending(), 0u);
  ::close(fd);
}

CAF_TEST(a peer that speaks anything else is closed at once) {
  auto opts = fast_link();
  opts.handshake_timeout = 10s; // "at once" is long before it
  gate_fixture fx{opts};
  int fd = connect_raw(fx.gate->port());
  CAF_REQUIRE(fd >= 0);
  // 72 bytes of something else (what a BASP client or a scanner sends).
  std::string junk(72, 'B');
  CAF_REQUIRE(::write(fd, junk.data(), junk.size()) == 72);
  CAF_CHECK(time_to_close(fd, 5s).has_value());
  CAF_CHECK_EQUAL(fx.refused("link_bad_magic"), 1u);
  ::close(fd);
}

CAF_TEST(handshakes beyond the cap are closed at once) {
  auto opts = fast_link();
  opts.handshake_timeout = 10s;
  opts.max_pending = 3;
  opts.max_pending_per_address = 2;
  gate_fixture fx{opts};
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i)
    fds.push_back(connect_raw(fx.gate->port()));
  // The third from one address is over the per-address cap.
  CAF_CHECK(time_to_close(fds[2], 5s).has_value());
  CAF_CHECK(!time_to_close(fds[0], 100ms).has_value());
  CAF_CHECK_EQUAL(fx.refused("link_too_many_pending"), 1u);
  CAF_CHECK_EQUAL(fx.gate->pending(), 2u);
  for (auto fd : fds)
    ::close(fd);
}

CAF_TEST(a dial to a frozen primary fails within its timeouts) {
  // A socket that listens but never accepts: the kernel completes the TCP
  // handshake, nothing ever answers (a SIGSTOPped primary).
  listener l;
  CAF_REQUIRE(l.port != 0);
  auto start = std::chrono::steady_clock::now();
  auto r = dial(fast_link(), l.port);
  auto took = std::chrono::steady_clock::now() - start;
  CAF_CHECK_EQUAL(r.fd, -1);
  CAF_CHECK(r.error.find("no handshake within 300 ms") != std::string::npos);
  CAF_CHECK(took < 2s);
}

CAF_TEST(a link whose other end goes silent is closed) {
  // A fake primary that completes the handshake, then never sends a frame
  // (a partition keeps TCP open and silent).
  listener l;
  CAF_REQUIRE(l.port != 0);
  std::promise<void> release;
  std::thread fake{fake_primary, l.fd, secret, release.get_future().share()};
  auto ctx = std::make_shared<link_context>();
  auto dialer = std::make_shared<link_dialer>(ctx, fast_link());
  std::promise<link_result> done;
  auto result = done.get_future();
  dialer->dial("127.0.0.1", l.port,
               [&done](link_result r) { done.set_value(std::move(r)); });
  auto r = result.get();
  CAF_REQUIRE_EQUAL(r.error, "");
  auto took = time_to_close(r.fd, 3s);
  release.set_value();
  fake.join();
  CAF_REQUIRE(took.has_value());
  CAF_MESSAGE("silent link closed after " << took->count() << " ms");
  CAF_CHECK(*took >= 350ms);
  ::close(r.fd);
  ctx->stop();
}

} // namespace link_suite
