// file_source: proposes configuration files as the layers `file:<path>` and
// re-proposes a file whenever its bytes change. Changes are seen through
// inotify on the files' directories (a thread of its own, see
// inotify_watcher.hpp) and/or by polling stat().
#include "cfgactors/file_source.hpp"

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "cfgactors/errc.hpp"
#include "cfgactors/hash.hpp"
#include "cfgactors/parse.hpp"
#include "sources/inotify_watcher.hpp"
#include "core/log.hpp"
#include "sources/propose.hpp"

namespace cfgactors {

namespace {

/// The source's own messages besides the public interface.
using file_source_impl = source_actor::extend<
  caf::reacts_to<tick_atom>,                  // poll timer
  caf::reacts_to<tick_atom, uint64_t, bool>>; // watcher: a burst has ended

std::string os_error(int code) {
  return std::error_code{code, std::generic_category()}.message();
}

/// What stat() says about a file; a different stamp means "read it again".
struct file_stamp {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;

  friend bool operator==(const file_stamp& x, const file_stamp& y) {
    return x.exists == y.exists && x.dev == y.dev && x.ino == y.ino
           && x.size == y.size && x.mtime_ns == y.mtime_ns
           && x.ctime_ns == y.ctime_ns;
  }
};

file_stamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return {};
  auto ns = [](const timespec& t) {
    return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
  };
  return {true,       st.st_dev,      st.st_ino,
          st.st_size, ns(st.st_mtim), ns(st.st_ctim)};
}

/// Reads a whole file of at most `limit` bytes; returns 0 or an errno value
/// (EFBIG when the file is larger).
int read_bytes(const std::string& path, std::size_t limit, std::string& out) {
  out.clear();
  auto fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno;
  char buf[64 * 1024];
  auto err = 0;
  for (;;) {
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      err = errno;
      break;
    }
    if (n == 0)
      break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit) {
      err = EFBIG;
      break;
    }
  }
  ::close(fd);
  return err;
}

struct watched_file {
  file_spec spec;
  std::string layer; ///< `file:<path as given>`
  document_format format = document_format::yaml;
  std::optional<file_stamp> stamp; ///< at the last read; none: read it
  std::string hash;      ///< SHA-256 of the bytes last proposed
  std::string problem;   ///< why its current content cannot be used
  std::string refusal;   ///< why the validator refused its last proposal
  bool accepted = false; ///< the validator holds its layer
  json pending;          ///< its last proposed content until accepted
};

/// One read of a file.
struct file_content {
  errc code = errc::none; ///< none: `hash` (and `data` unless unchanged) valid
  std::string error;      ///< names the file, and line and column if known
  std::string hash;
  bool unchanged = false; ///< same bytes as last proposed: not parsed
  json data;
};

/// Reads and parses `f`, unless its bytes hash to `known`. A missing
/// optional file reads as empty: its layer `{}` keeps its place.
file_content load(const watched_file& f, const std::string& known) {
  file_content out;
  parse_limits limits;
  std::string bytes;
  if (auto err = read_bytes(f.spec.path, limits.max_bytes, bytes); err != 0) {
    if (err == ENOENT && f.spec.optional) {
      bytes.clear();
    } else {
      out.code = err == ENOENT  ? errc::not_found
                 : err == EFBIG ? errc::too_large
                                : errc::unavailable;
      out.error = f.spec.path + ": "
                  + (err == ENOENT  ? std::string{"required file not found"}
                     : err == EFBIG ? "larger than "
                                        + std::to_string(limits.max_bytes)
                                        + " bytes"
                                    : os_error(err));
      return out;
    }
  }
  out.hash = sha256_hex(bytes);
  if (out.hash == known) {
    out.unchanged = true;
    return out;
  }
  auto doc = parse_document(bytes, f.format, f.spec.path, limits);
  if (!doc) {
    out.code = errc::parse_failed;
    out.error = doc.error->str();
    return out;
  }
  if (!doc.value.is_object()) {
    out.code = errc::parse_failed;
    out.error = f.spec.path + ": the top level must be a mapping, not "
                + std::string{doc.value.type_name()};
    return out;
  }
  out.data = std::move(doc.value);
  return out;
}

/// A file's new content, about to be proposed.
struct file_layer {
  std::size_t index;
  json data;
  std::string hash;
};

struct file_source_state {
  static inline const char* name = "cfgactors.file_source";

  validator_actor validator;
  std::vector<watched_file> files; ///< in the order given
  source_status status;
  std::unique_ptr<detail::inotify_watcher> watcher;
  std::chrono::milliseconds poll_interval{0}; ///< 0 = not polling
  bool busy = false;       ///< a proposal awaits its answer
  bool again = false;      ///< read again once it is answered
  bool again_full = false; ///< ... every file, not only those stat() flags
  std::vector<caf::typed_response_promise<source_status>> waiting; ///< reloads
};

/// What spawn_file_source prepared before spawning the actor.
struct file_source_init {
  file_source_options options;
  std::vector<watched_file> files;
  std::vector<json> layers; ///< the first content of each file
  std::unique_ptr<detail::inotify_watcher> watcher;
  std::string watch_error;
};

using source_ptr = file_source_impl::stateful_pointer<file_source_state>;

void read_files(source_ptr self, bool all);

/// Marks the status degraded while a file is unusable or refused, naming
/// one such reason; returns whether it did.
bool settle(source_status& status, const std::vector<watched_file>& files) {
  const std::string* why = nullptr;
  auto current = false;
  for (auto& f : files)
    for (auto* reason : {&f.problem, &f.refusal})
      if (!reason->empty()) {
        if (!why)
          why = reason;
        current = current || *reason == status.last_error;
      }
  if (!why)
    return false;
  status.state = source_state::degraded;
  if (!current) // the last error was fixed; another one remains
    status.last_error = *why;
  return true;
}

void deliver_waiting(source_ptr self) {
  auto& st = self->state;
  for (auto& rp : st.waiting)
    rp.deliver(st.status);
  st.waiting.clear();
}

bool transient(errc code) {
  return code == errc::store_failed || code == errc::unavailable
         || code == errc::timeout;
}

void on_answer(source_ptr self, const std::vector<std::size_t>& which,
               bool initial, const write_result& r) {
  auto& st = self->state;
  st.busy = false;
  for (auto i : which) {
    auto& f = st.files[i];
    switch (r.status) {
      case write_status::committed:
        f.accepted = true;
        f.pending = json{};
        f.refusal.clear();
        detail::log().info("event={} file=\"{}\" version={}",
                           initial ? "file_loaded" : "file_changed",
                           f.spec.path, r.version);
        break;
      case write_status::unchanged:
      case write_status::accepted: // a source never asks for a dry run
        f.accepted = true;
        f.pending = json{};
        f.refusal.clear();
        detail::log().debug("event=file_unchanged file=\"{}\" version={}",
                            f.spec.path, r.version);
        break;
      case write_status::rejected:
        if (transient(r.code)) {
          // Not judged: propose it again on the next read or poll.
          f.hash.clear();
          f.stamp.reset();
        } else {
          f.refusal = "rejected: " + r.describe(); // as propose() books it
        }
        break;
    }
  }
  settle(st.status, st.files);
  if (st.again) {
    auto all = st.again_full;
    st.again = st.again_full = false;
    read_files(self, all);
  } else {
    deliver_waiting(self);
  }
}

/// Proposes the given layers as one write, so that several files that
/// changed together make one version (and the first write orders them).
void propose_layers(source_ptr self, std::vector<file_layer> layers,
                    bool initial) {
  auto& st = self->state;
  write_request req;
  std::vector<std::size_t> which;
  for (auto& x : layers) {
    auto& f = st.files[x.index];
    f.hash = std::move(x.hash);
    if (!f.accepted)
      f.pending = x.data;
    req.origin += (req.origin.empty() ? "" : ",") + f.layer;
    req.ops.push_back(operation::replace_layer(f.layer, std::move(x.data)));
    which.push_back(x.index);
  }
  st.busy = true;
  auto then = [self, which{std::move(which)}, initial](const write_result& r) {
    on_answer(self, which, initial, r);
  };
  detail::propose(self, st.validator, std::move(req), st.status, then);
}

/// Reads the files (all, or those whose stat() changed) and proposes those
/// whose bytes differ from what was last proposed.
void read_files(source_ptr self, bool all) {
  auto& st = self->state;
  if (st.busy) {
    st.again = true;
    st.again_full = st.again_full || all;
    return;
  }
  ++st.status.reads;
  std::vector<file_layer> changed;
  for (std::size_t i = 0; i < st.files.size(); ++i) {
    auto& f = st.files[i];
    // Stat before reading: a write during the read changes the stamp again.
    auto stamp = stamp_of(f.spec.path);
    if (!all && stamp == f.stamp)
      continue;
    f.stamp = stamp;
    auto content = load(f, f.hash);
    if (content.code != errc::none) {
      if (content.error != f.problem) { // book each problem once
        f.problem = content.error;
        ++st.status.errors;
        st.status.fail(content.error);
        detail::log().warn("event={} file=\"{}\" error=\"{}\"",
                   content.code == errc::parse_failed ? "file_parse_failed"
                                                      : "file_read_failed",
                   f.spec.path, content.error);
      }
      continue;
    }
    f.problem.clear();
    if (!content.unchanged)
      changed.push_back({i, std::move(content.data), std::move(content.hash)});
  }
  if (!changed.empty()) {
    // Files the validator never accepted (a refused first write) go along
    // again: without them their layers would be missing, or out of order.
    for (std::size_t i = 0; i < st.files.size(); ++i) {
      auto& f = st.files[i];
      auto listed = [i](const file_layer& x) { return x.index == i; };
      if (!f.accepted && !f.pending.is_null()
          && std::none_of(changed.begin(), changed.end(), listed))
        changed.push_back({i, f.pending, f.hash});
    }
    std::sort(changed.begin(), changed.end(),
              [](const file_layer& x, const file_layer& y) {
                return x.index < y.index;
              });
    propose_layers(self, std::move(changed), false);
    return;
  }
  if (!settle(st.status, st.files))
    st.status.succeed();
  deliver_waiting(self);
}

void start_polling(source_ptr self, std::chrono::milliseconds interval) {
  auto& st = self->state;
  if (st.poll_interval.count() > 0)
    return; // already polling
  st.poll_interval = interval;
  self->delayed_send(self, interval, tick_atom::value);
}

file_source_impl::behavior_type
file_source(source_ptr self, validator_actor validator,
            std::shared_ptr<file_source_init> init) {
  using namespace std::chrono_literals;
  auto& st = self->state;
  st.validator = std::move(validator);
  st.files = std::move(init->files);
  st.status.kind = "file";
  st.status.layer = st.files.front().layer;
  st.status.reads = 1; // spawn_file_source read every file once
  st.watcher = std::move(init->watcher);
  auto& opts = init->options;
  if (st.watcher) {
    // Weak: the thread must not keep the actor alive.
    caf::weak_actor_ptr weak{self->ctrl()};
    st.watcher->start([weak](uint64_t events, bool complete) {
      if (auto strong = weak.lock())
        caf::anon_send(caf::actor_cast<file_source_impl>(strong),
                       tick_atom::value, events, complete);
    });
  } else if (opts.watch) {
    auto interval = opts.poll_interval.count() > 0 ? opts.poll_interval : 1s;
    detail::log().warn("event=file_watch_unavailable error=\"{}\" poll_ms={}",
                       init->watch_error, interval.count());
    start_polling(self, interval);
  }
  if (opts.poll_interval.count() > 0)
    start_polling(self, opts.poll_interval);
  std::vector<file_layer> first;
  for (std::size_t i = 0; i < st.files.size(); ++i)
    first.push_back({i, std::move(init->layers[i]), st.files[i].hash});
  propose_layers(self, std::move(first), true);
  return {
    [self](status_atom) { return self->state.status; },
    [self](reload_atom) -> caf::result<source_status> {
      auto rp = self->make_response_promise<source_status>();
      self->state.waiting.push_back(rp);
      read_files(self, true);
      return rp;
    },
    [self](tick_atom) {
      read_files(self, false);
      self->delayed_send(self, self->state.poll_interval, tick_atom::value);
    },
    [self](tick_atom, uint64_t events, bool complete) {
      detail::log().debug("event=file_events count={} complete={}", events,
                          complete);
      if (!complete && self->state.poll_interval.count() == 0) {
        detail::log().warn("event=file_watch_incomplete poll_ms=1000");
        start_polling(self, 1s);
      }
      read_files(self, true);
    },
  };
}

} // namespace

caf::expected<source_actor> spawn_file_source(caf::actor_system& sys,
                                              validator_actor validator,
                                              file_source_options options) {
  if (options.files.empty())
    return make_error(errc::invalid_argument,
                      "a file source needs at least one file");
  auto init = std::make_shared<file_source_init>();
  for (auto& spec : options.files) {
    auto format = format_for_path(spec.path);
    if (!format)
      return make_error(errc::invalid_argument,
                        spec.path
                          + ": unknown file extension (expected .json, "
                            ".yaml, .yml or .toml)");
    auto layer = "file:" + spec.path;
    auto same = [&](const watched_file& f) { return f.layer == layer; };
    if (std::any_of(init->files.begin(), init->files.end(), same))
      return make_error(errc::invalid_argument, spec.path + ": listed twice");
    watched_file f;
    f.spec = spec;
    f.layer = std::move(layer);
    f.format = *format;
    init->files.push_back(std::move(f));
  }
  // Watch before the first read: a change in between is then seen.
  if (options.watch) {
    std::vector<std::string> paths;
    for (auto& f : init->files)
      paths.push_back(f.spec.path);
    init->watcher = detail::inotify_watcher::make(std::move(paths),
                                                  options.debounce,
                                                  init->watch_error);
  }
  for (auto& f : init->files) {
    f.stamp = stamp_of(f.spec.path);
    auto content = load(f, {});
    if (content.code != errc::none)
      return make_error(content.code, content.error);
    f.hash = std::move(content.hash);
    init->layers.push_back(std::move(content.data));
  }
  init->options = std::move(options);
  auto actor = sys.spawn(file_source, std::move(validator), std::move(init));
  return actor;
}

} // namespace cfgactors
