#include "command_router.hpp"

#include <glib.h>

#include <memory>

namespace sl::agent {

CommandRouter::CommandRouter(std::string camera, std::function<int64_t()> now_ms, Publish publish)
    : camera_(std::move(camera)), now_ms_(std::move(now_ms)), publish_(std::move(publish)) {}

void CommandRouter::on(const std::string &type, Handler handler) { handlers_[type] = std::move(handler); }

void CommandRouter::handle(const std::string &payload) {
  auto parsed = control::parse_command(payload);
  if (!parsed) {
    const control::Ack &refused = parsed.error();
    g_warning("command refused: %s", refused.message.c_str());
    finish(refused.id, refused.type, refused);
    return;
  }
  control::Command command = *std::move(parsed);
  if (!command.id.empty()) {
    auto seen = seen_.find(command.id);
    if (seen != seen_.end()) {
      g_message("command %s (%s): seen before, %s", command.id.c_str(), command.type.c_str(),
                seen->second ? "answering with its first ack" : "still running");
      if (seen->second) publish_(*seen->second);
      return;
    }
  } else {
    // No id: the sender wants no idempotency; name it so that its ack can be told apart.
    command.id = "anon-" + std::to_string(now_ms_()) + "-" + std::to_string(++anonymous_);
  }
  const auto handler = handlers_.find(command.type);
  if (handler == handlers_.end()) {
    g_warning("command %s: unknown type '%s'", command.id.c_str(), command.type.c_str());
    finish(command.id, command.type, control::parse_params(command.type, "{}").error());
    return;
  }
  const int64_t now = now_ms_();
  if (command.issued_at_ms && now > command.issued_at_ms + command.ttl_ms) {
    g_message("command %s (%s): expired %lld ms ago, not run", command.id.c_str(), command.type.c_str(),
              (long long)(now - command.issued_at_ms - command.ttl_ms));
    finish(
        command.id, command.type,
        control::error_ack("expired", "issued " + std::to_string(now - command.issued_at_ms) +
                                          " ms ago, older than its ttl of " + std::to_string(command.ttl_ms) + " ms"));
    return;
  }
  auto params = control::parse_params(command.type, command.params);
  if (!params) {
    g_message("command %s (%s): %s", command.id.c_str(), command.type.c_str(), params.error().message.c_str());
    finish(command.id, command.type, params.error());
    return;
  }
  remember(command.id);
  ++run_;
  g_message("command %s (%s): running", command.id.c_str(), command.type.c_str());
  // The reply may come much later (a snapshot, a restart); once only.
  auto answered = std::make_shared<bool>(false);
  handler->second(*params, [this, answered, id = command.id, type = command.type](control::Ack ack) {
    if (*answered) return;
    *answered = true;
    finish(id, type, std::move(ack));
  });
}

void CommandRouter::remember(const std::string &id) {
  seen_[id] = std::nullopt;
  order_.push_back(id);
  while (order_.size() > kRemembered) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
}

void CommandRouter::finish(const std::string &id, const std::string &type, control::Ack ack) {
  ack.id = id;
  ack.type = type;
  ack.camera = camera_;
  ack.acked_at_ms = now_ms_();
  if (!id.empty()) {
    auto seen = seen_.find(id);
    if (seen != seen_.end())
      seen->second = ack;
    else if (ack.code != "bad_message") {
      // Refused before running (expired, bad params, unknown type): remembered
      // too, so that a repeat gets the same answer.
      remember(id);
      seen_[id] = ack;
    }
  }
  if (ack.ok)
    g_message("command %s (%s): ok", id.c_str(), type.c_str());
  else
    g_message("command %s (%s): %s: %s", id.c_str(), type.c_str(), ack.code.c_str(), ack.message.c_str());
  publish_(ack);
}

}  // namespace sl::agent
