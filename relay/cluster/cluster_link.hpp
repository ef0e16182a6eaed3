// Several relays on one MQTT broker (docs/fleet.md): each says it is up (a
// retained message its last will clears), which cameras' agents it holds (one
// retained message per camera, under its own id), and takes signals for the
// sessions whose viewer and agent are on different relays in its own inbox.
// What the others say goes to the session table; what the table says for the
// others is published here. No relay is special: any relay lists the whole fleet
// and brokers a session to any camera.
//
// Topics, under the control plane's prefix:
//   cluster/relay/<id>/up             "up" (retained; cleared by the will)
//   cluster/relay/<id>/holds/<camera> "1" (retained; cleared when the agent leaves)
//   cluster/relay/<id>/inbox          signals for this relay (QoS 1)
#pragma once

#include "metrics.hpp"
#include "mqtt_link.hpp"
#include "sessions/session_table.hpp"
#include "settings.hpp"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace sl::relay {

class ClusterLink {
 public:
  ClusterLink(const RelaySettings &settings, SessionTable &table, Metrics &metrics);
  ~ClusterLink();
  // Connects (when a broker is configured); what the others say goes to `apply`.
  void start(std::function<void(const Actions &)> apply);
  // Carries out the table's signals for other relays and the holds it changed.
  void carry(const Actions &actions);
  bool connected() const { return link_ && link_->is_up(); }
  size_t relays_up() const { return up_.size(); }

 private:
  std::string topic(const std::string &relay, const std::string &leaf) const;
  void on_connected();
  void on_message(const std::string &topic, const std::string &payload);
  // The relay that holds `camera` now (the latest live claim), told to the table when it changed.
  void settle(const std::string &camera);
  // `relay` is gone: its sessions end, its cameras go to whoever else claims them.
  void gone(const std::string &relay);

  const RelaySettings &settings_;
  SessionTable &table_;
  Metrics &metrics_;
  std::function<void(const Actions &)> apply_;
  std::unique_ptr<MqttLink> link_;
  std::string self_;
  std::set<std::string> up_;  // other relays that are up
  // camera -> the other relays claiming it, latest claim last
  std::map<std::string, std::vector<std::string>> claims_;
  std::map<std::string, std::string> holder_;          // camera -> what the table was told
  std::set<std::string> mine_;                         // cameras whose claim this relay published
  std::shared_ptr<std::set<std::string>> confirming_;  // after a reconnect: not heard from again yet
  SourceId recheck_;
};

}  // namespace sl::relay
