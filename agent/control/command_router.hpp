// Runs control-plane commands: one handler per type in one table, exactly one
// ack per command id, a repeated id answered with the first ack without running
// again (the last kRemembered ids are kept), a command past its ttl answered
// `expired` without running, an unknown type answered and logged. Pure logic:
// the clock and the way out are given to it, tests drive it directly.
#pragma once

#include "control.hpp"

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace sl::agent {

class CommandRouter {
 public:
  static constexpr size_t kRemembered = 512;
  // A handler answers exactly once, now or later, through `reply`.
  using Reply = std::function<void(control::Ack)>;
  using Handler = std::function<void(const control::Params &, Reply reply)>;
  using Publish = std::function<void(const control::Ack &)>;

  CommandRouter(std::string camera, std::function<int64_t()> now_ms, Publish publish);

  void on(const std::string &type, Handler handler);
  // One payload from the command topic.
  void handle(const std::string &payload);
  uint64_t commands_run() const { return run_; }

 private:
  void finish(const std::string &id, const std::string &type, control::Ack ack);
  void remember(const std::string &id);

  std::string camera_;
  std::function<int64_t()> now_ms_;
  Publish publish_;
  std::map<std::string, Handler> handlers_;
  std::map<std::string, std::optional<control::Ack>> seen_;  // id -> ack (nullopt: running)
  std::deque<std::string> order_;                            // ids, oldest first
  uint64_t run_ = 0;
  uint64_t anonymous_ = 0;
};

}  // namespace sl::agent
