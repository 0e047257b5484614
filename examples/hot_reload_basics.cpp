// The seed's configuration flow in one program: load config.yaml, subscribe
// to `logging`, change the level at runtime, have a bad change refused with
// every reason, look at the history, diff two versions and roll back.
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;

namespace {

struct seen_log {
  std::mutex mtx;
  std::condition_variable cv;
  uint64_t last = 0;
};

caf::behavior logging_listener(caf::event_based_actor*,
                               std::shared_ptr<seen_log> seen) {
  return {[seen](const change& c) {
    std::cout << ("listener: logging changed in version "
                  + std::to_string(c.version) + ": " + c.old_value().dump()
                  + " -> " + c.new_value().dump() + "\n")
              << std::flush;
    std::lock_guard<std::mutex> guard{seen->mtx};
    seen->last = c.version;
    seen->cv.notify_all();
  }};
}

} // namespace

int main() {
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  std::string err;
  auto schema = json_schema::from_file(dir + "/schema.json", &err);
  auto doc = parse_file(dir + "/config.yaml");
  if (!schema || !doc) {
    std::cerr << (schema ? doc.error->str() : err) << '\n';
    return 1;
  }
  // Library events go to stderr, the example's own story to stdout.
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  system_config cfg;
  caf::actor_system sys{cfg};
  pipeline_options opts;
  opts.validation.schema = schema;
  auto pipe = spawn_pipeline(sys, opts);
  caf::scoped_actor self{sys};
  auto write = [&](std::vector<operation> ops) {
    write_result result;
    self->request(pipe.validator, 10s, write_atom::value,
                  write_request{std::move(ops), "example", 0, {}})
      .receive([&](write_result& r) { result = std::move(r); },
               [&](caf::error& e) {
                 result = write_result::reject(errc::unavailable, "", "actor",
                                               sys.render(e));
               });
    return result;
  };
  auto loaded = write({operation::replace_layer("file:config.yaml", doc.value)});
  std::cout << "loaded: " << loaded.describe() << '\n';
  auto seen = std::make_shared<seen_log>();
  auto listener = sys.spawn(logging_listener, seen);
  self->request(pipe.store, 10s, subscribe_atom::value, std::string{"logging"},
                caf::actor_cast<subscriber_actor>(listener))
    .receive([](uint64_t) {}, [](caf::error&) {});
  // Debug mode: raise verbosity at runtime.
  auto debug = write({operation::set("logging.level", "DEBUG")});
  std::cout << "set logging.level=DEBUG: " << debug.describe() << '\n';
  {
    std::unique_lock<std::mutex> guard{seen->mtx};
    seen->cv.wait_for(guard, 10s, [&] { return seen->last >= debug.version; });
  }
  // A bad config never gets in: both reasons come back, nothing changes.
  auto bad = write({operation::set("logging.level", "LOUD"),
                    operation::set("buffer_size", 5)});
  std::cout << "bad change: " << bad.describe() << '\n';
  // History, diff, rollback.
  diff_result d;
  self->request(pipe.store, 10s, diff_atom::value, loaded.version,
                debug.version)
    .receive([&](diff_result& x) { d = std::move(x); }, [](caf::error&) {});
  std::cout << "diff " << d.from << " -> " << d.to << ": " << d.view.dump()
            << '\n';
  auto back = write({operation::rollback(loaded.version)});
  std::cout << "rollback to " << loaded.version << ": " << back.describe()
            << (back.hash == loaded.hash ? " (same hash as version 1)" : "")
            << '\n';
  self->send_exit(listener, caf::exit_reason::user_shutdown);
  shutdown(pipe);
  auto ok = loaded.status == write_status::committed
            && debug.status == write_status::committed
            && bad.status == write_status::rejected && bad.errors.size() == 2
            && seen->last >= debug.version && back.hash == loaded.hash;
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}
