// The relay's side of the control plane: one MQTT connection that follows every
// camera's retained state (into the session table, so the camera list is right
// even for a relay that just started), keeps the last snapshot of each camera,
// and sends commands for pages and scripts, waiting for their ack up to a
// deadline.
#pragma once

#include "control.hpp"
#include "metrics.hpp"
#include "mqtt_link.hpp"
#include "sessions/session_table.hpp"
#include "settings.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace sl::relay {

class ControlBridge {
 public:
  // The ack, and the HTTP status it means: 200 (the camera answered, ok or not),
  // 400 (bad request), 404 (unknown camera), 503 (no broker), 504 (no ack in time).
  using Done = std::function<void(const control::Ack &ack, int http_status)>;

  // Round trips go into `metrics` (command_rtt).
  ControlBridge(const RelaySettings &settings, SessionTable &table, Metrics &metrics);
  // Connects; what camera state makes the table decide goes to `apply`.
  void start(std::function<void(const Actions &)> apply);
  bool configured() const { return link_ != nullptr; }
  bool connected() const { return link_ && link_->is_up(); }

  void send(const std::string &camera, const std::string &type, const std::string &params_json, int64_t ttl_ms,
            Done done);
  // The last JPEG the camera published (nullptr if none yet).
  const std::string *latest_snapshot(const std::string &camera) const;
  // Calls `ready` once a snapshot received at or after `since_ms` (wall clock) is
  // here: at once if it is, else when it comes, at the latest after `timeout_ms`.
  // (An MQTT client's ack can overtake the picture on its way to this relay.)
  void when_snapshot(const std::string &camera, int64_t since_ms, guint timeout_ms, std::function<void()> ready);

 private:
  struct Pending {
    std::string camera;
    Done done;
    SourceId deadline;
    gint64 sent_us = 0;
  };
  void on_message(const std::string &topic, const std::string &payload);
  void finish(const std::string &id, const control::Ack &ack, int status);

  const RelaySettings &settings_;
  SessionTable &table_;
  Metrics &metrics_;
  std::function<void(const Actions &)> apply_;
  std::unique_ptr<MqttLink> link_;
  std::map<std::string, std::unique_ptr<Pending>> pending_;  // command id -> waiter
  struct Picture {
    std::string jpeg;
    int64_t received_ms = 0;
  };
  std::map<std::string, Picture> snapshots_;  // camera -> last JPEG
  // Someone waiting for a camera's next snapshot, until its deadline (kept here, so
  // that it goes with this bridge).
  struct Waiter {
    std::function<void()> ready;
    SourceId deadline;
  };
  std::multimap<std::string, std::unique_ptr<Waiter>> snapshot_waiters_;
  uint64_t next_id_ = 0;
  std::string id_prefix_;
};

}  // namespace sl::relay
