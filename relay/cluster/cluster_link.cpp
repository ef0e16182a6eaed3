#include "cluster_link.hpp"

#include "main_context.hpp"

#include <algorithm>

namespace sl::relay {

namespace {
// After a reconnect, relays whose "up" did not come back this soon went while we were away.
constexpr guint kRecheckMs = 3000;
}  // namespace

ClusterLink::ClusterLink(const RelaySettings &settings, SessionTable &table, Metrics &metrics)
    : settings_(settings), table_(table), metrics_(metrics), self_(settings.relay_id) {
  if (settings_.mqtt_url.empty()) return;
  MqttOptions options = mqtt_options(settings_, "sightline-relay-" + self_);
  options.will = MqttWill{topic(self_, "up"), ""};  // a relay that dies without a word is gone
  link_ = std::make_unique<MqttLink>(
      options, MqttLink::Handlers{[this] { on_connected(); },
                                  [this](const std::string &t, const std::string &p) { on_message(t, p); }, nullptr});
  link_->subscribe(topic("+", "up"), 1);
  link_->subscribe(topic("+", "holds/#"), 1);
  link_->subscribe(topic(self_, "inbox"), 1);
}

ClusterLink::~ClusterLink() {
  // Gone for the others at once (a clean disconnect would not send the will).
  if (link_) link_->stop(topic(self_, "up"), "");
}

std::string ClusterLink::topic(const std::string &relay, const std::string &leaf) const {
  return settings_.mqtt_prefix + "/cluster/relay/" + relay + "/" + leaf;
}

void ClusterLink::start(std::function<void(const Actions &)> apply) {
  apply_ = std::move(apply);
  if (link_) link_->start();
}

void ClusterLink::on_connected() {
  link_->publish(topic(self_, "up"), "up", 1, true);
  for (const auto &camera : table_.held_cameras()) {
    link_->publish(topic(self_, "holds/" + camera), "1", 1, true);
    mine_.insert(camera);
  }
  g_message("cluster: relay %s up on the broker, holding %zu camera(s)", self_.c_str(), mine_.size());
  // Relays that went while we were away have no retained "up" left to say so.
  auto unconfirmed = std::make_shared<std::set<std::string>>(up_);
  confirming_ = unconfirmed;
  recheck_.reset(after_ms(kRecheckMs, [this, unconfirmed] {
    recheck_.release();
    for (const auto &relay : *unconfirmed) {
      if (!confirming_ || !confirming_->count(relay)) continue;
      g_message("cluster: relay %s went while this relay was away from the broker", relay.c_str());
      gone(relay);
    }
  }));
}

void ClusterLink::gone(const std::string &relay) {
  if (!up_.erase(relay)) return;
  apply_(table_.relay_gone(relay));
  std::vector<std::string> affected;
  for (const auto &[camera, holder] : holder_)
    if (holder == relay) affected.push_back(camera);
  for (const auto &camera : affected) {
    holder_.erase(camera);  // the table already forgot it
    settle(camera);
  }
}

void ClusterLink::on_message(const std::string &t, const std::string &payload) {
  const std::string lead = settings_.mqtt_prefix + "/cluster/relay/";
  if (t.rfind(lead, 0) != 0) return;
  const std::string rest = t.substr(lead.size());
  const auto slash = rest.find('/');
  if (slash == std::string::npos) return;
  const std::string relay = rest.substr(0, slash), leaf = rest.substr(slash + 1);
  if (!proto::valid_id(relay)) return;
  if (leaf == "up") {
    if (relay == self_) return;
    if (confirming_) confirming_->erase(relay);
    if (payload.empty()) {
      if (up_.count(relay)) g_message("cluster: relay %s is gone", relay.c_str());
      gone(relay);
      return;
    }
    if (!up_.insert(relay).second) return;
    g_message("cluster: relay %s is up", relay.c_str());
    for (const auto &[camera, relays] : claims_)
      if (std::find(relays.begin(), relays.end(), relay) != relays.end()) settle(camera);
  } else if (leaf.rfind("holds/", 0) == 0) {
    const std::string camera = leaf.substr(6);  // may span two levels: DEVICE/NAME
    if (!json::valid_camera_id(camera)) return;
    if (relay == self_) {
      // A claim left from this relay's previous run: withdrawn.
      if (!payload.empty() && !mine_.count(camera)) link_->publish(t, "", 1, true);
      return;
    }
    auto &relays = claims_[camera];
    relays.erase(std::remove(relays.begin(), relays.end(), relay), relays.end());
    if (!payload.empty()) relays.push_back(relay);
    if (relays.empty()) claims_.erase(camera);
    settle(camera);
  } else if (leaf == "inbox" && relay == self_) {
    auto signal = proto::parse_cluster_signal(payload);
    if (!signal) {
      ++metrics_.bad_messages;
      g_warning("cluster: ignoring a signal in the inbox: %s: %s", signal.error().code.c_str(),
                signal.error().message.c_str());
      return;
    }
    metrics_.in("relay", proto::type_of(signal->message));
    apply_(table_.relay_message(signal->from, signal->message));
  }
}

void ClusterLink::settle(const std::string &camera) {
  std::string now;
  if (auto it = claims_.find(camera); it != claims_.end())
    for (auto r = it->second.rbegin(); r != it->second.rend(); ++r)
      if (up_.count(*r)) {
        now = *r;
        break;
      }
  auto told = holder_.find(camera);
  if ((told == holder_.end() ? std::string() : told->second) == now) return;
  if (now.empty())
    holder_.erase(camera);
  else
    holder_[camera] = now;
  apply_(table_.camera_holder(camera, now));
}

void ClusterLink::carry(const Actions &actions) {
  if (!link_) return;
  for (const auto &send : actions.remote) {
    metrics_.out("relay", proto::type_of(send.message));
    if (!link_->publish(topic(send.relay, "inbox"), proto::to_json(proto::ClusterSignal{self_, send.message}), 1,
                        false))
      g_warning("cluster: the broker is unreachable; a %s for relay %s is lost (its session times out)",
                proto::type_of(send.message), send.relay.c_str());
  }
  for (const auto &camera : actions.held) {
    link_->publish(topic(self_, "holds/" + camera), "1", 1, true);
    mine_.insert(camera);
  }
  for (const auto &camera : actions.released) {
    link_->publish(topic(self_, "holds/" + camera), "", 1, true);
    mine_.erase(camera);
  }
}

}  // namespace sl::relay
