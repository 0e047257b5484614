#include "etcd/etcd_watch.hpp"

#include <map>

#include "etcd/etcd_connection.hpp"

namespace cfgactors::detail {

namespace {

using nlohmann::json;

/// A watch the server canceled at creation says why only in words:
/// "rpc error: code = Unauthenticated desc = etcdserver: invalid auth token".
int grpc_code_in(const std::string& reason) {
  static const std::map<std::string, int> codes{
    {"DeadlineExceeded", 4},    {"InvalidArgument", 3},   {"NotFound", 5},
    {"PermissionDenied", 7},    {"ResourceExhausted", 8}, {"FailedPrecondition", 9},
    {"OutOfRange", 11},         {"Unavailable", 14},      {"Unauthenticated", 16}};
  auto at = reason.find("code = ");
  if (at == std::string::npos)
    return 0;
  auto name = reason.substr(at + 7);
  name = name.substr(0, name.find(' '));
  auto i = codes.find(name);
  return i == codes.end() ? 0 : i->second;
}

} // namespace

etcd_watch::etcd_watch(etcd_options opts, std::string key,
                       std::string range_end, int64_t start_revision,
                       batch_handler on_batch, end_handler on_end)
  : opts_(std::move(opts)),
    key_(std::move(key)),
    range_end_(std::move(range_end)),
    start_revision_(start_revision),
    on_batch_(std::move(on_batch)),
    on_end_(std::move(on_end)),
    conn_(std::make_unique<etcd_connection>(opts_)) {
  thread_ = std::thread{[this] { run(); }};
}

etcd_watch::~etcd_watch() {
  stop();
}

void etcd_watch::stop() {
  stopping_ = true;
  conn_->interrupt();
  if (std::this_thread::get_id() == thread_.get_id())
    return;
  std::lock_guard<std::mutex> guard{join_mutex_};
  if (thread_.joinable())
    thread_.join();
}

void etcd_watch::run() {
  etcd_error err;
  int64_t compact_revision = 0;
  if (open_stream(err)) {
    while (auto msg = conn_->next_message(err))
      if (!on_message(*msg, err, compact_revision))
        break;
  }
  conn_->close();
  if (!stopping_)
    on_end_(std::move(err), compact_revision);
}

bool etcd_watch::open_stream(etcd_error& err) {
  if (opts_.endpoints.empty()) {
    err = {etcd_error::kind::refused, "no etcd endpoints configured", 0};
    return false;
  }
  std::string failures;
  for (auto& endpoint : opts_.endpoints) {
    if (create_on(endpoint, err))
      return true;
    if (stopping_ || err.what != etcd_error::kind::unavailable)
      return false;
    failures += (failures.empty() ? "" : "; ") + err.message;
  }
  err.message = std::move(failures);
  return false;
}

bool etcd_watch::create_on(const std::string& endpoint, etcd_error& err) {
  json create{{"key", base64_encode(key_)}, {"progress_notify", true}};
  if (!range_end_.empty())
    create["range_end"] = base64_encode(range_end_);
  if (start_revision_ > 0)
    create["start_revision"] = std::to_string(start_revision_);
  auto body = json{{"create_request", std::move(create)}}.dump();
  // A second token only if etcd said the first one is no good.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!conn_->open(endpoint, err))
      return false;
    std::string token;
    if (!opts_.user.empty()) {
      auto fresh = authenticate(*conn_, opts_, err);
      if (!fresh)
        return false;
      token = std::move(*fresh);
    }
    auto answer = conn_->post_stream("watch", body, token, err);
    if (!answer)
      return false;
    if (answer->status != 200) {
      err = answer_error(endpoint, answer->status, answer->body);
      return false;
    }
    // The first message confirms the watch, or says why etcd refused it.
    auto first = conn_->next_message(err);
    if (!first)
      return false;
    auto result = first->value("result", json::object());
    if (first->contains("error") || !result.is_object()) {
      err = answer_error(endpoint, 200, first->dump());
      return false;
    }
    if (result.value("canceled", false)) {
      auto reason = result.value("cancel_reason", std::string{});
      err = grpc_error(endpoint, grpc_code_in(reason),
                       "the watch was refused: " + reason, 400);
      if (attempt == 0 && !opts_.user.empty() && is_token_error(err))
        continue;
      return false;
    }
    if (!result.value("created", false)) {
      err = {etcd_error::kind::bad_answer,
             endpoint + ": the watch's first message is no creation: "
               + first->dump().substr(0, 200),
             0};
      return false;
    }
    return true;
  }
  return false;
}

bool etcd_watch::on_message(const json& msg, etcd_error& err,
                            int64_t& compact_revision) {
  auto& endpoint = conn_->endpoint();
  auto result = msg.find("result");
  if (msg.contains("error") || result == msg.end() || !result->is_object()) {
    err = answer_error(endpoint, 200, msg.dump());
    return false;
  }
  if (result->value("canceled", false)) {
    compact_revision = int64_of(*result, "compact_revision");
    auto reason = result->value("cancel_reason", std::string{});
    if (compact_revision > 0)
      reason = "revision " + std::to_string(start_revision_)
               + " is compacted (compact revision "
               + std::to_string(compact_revision) + ")";
    err = {etcd_error::kind::refused,
           endpoint + ": etcd canceled the watch: "
             + (reason.empty() ? std::string{"(no reason)"} : reason),
           0};
    return false;
  }
  etcd_watch_batch batch;
  batch.revision = int64_of(result->value("header", json::object()),
                            "revision");
  if (auto events = result->find("events");
      events != result->end() && events->is_array()) {
    for (auto& event : *events) {
      etcd_watch_event ev;
      ev.what = event.value("type", std::string{}) == "DELETE"
                  ? etcd_watch_event::type::del
                  : etcd_watch_event::type::put;
      ev.kv = kv_of(event.value("kv", json::object()));
      batch.events.push_back(std::move(ev));
    }
  }
  batch.progress = batch.events.empty() && !result->value("created", false);
  if (!batch.events.empty() || batch.progress)
    on_batch_(std::move(batch));
  return true;
}

} // namespace cfgactors::detail
