#include "mqtt_link.hpp"

#include "main_context.hpp"
#include "mqtt_url.hpp"

#include <glib.h>
#include <mqtt/async_client.h>

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

namespace sl {

struct MqttLink::Shared : mqtt::iaction_listener {
  MqttLink *link = nullptr;  // reset on the main loop when the link goes away

  // Paho's threads: post, and let the main loop find out whether the link still lives.
  static void post(const std::shared_ptr<Shared> &shared, std::function<void(MqttLink &)> work) {
    post_to_main([shared, work = std::move(work)] {
      if (shared->link) work(*shared->link);
    });
  }
  std::weak_ptr<Shared> self;
  bool tls = false;
  void on_success(const mqtt::token &) override {
    if (auto s = self.lock()) post(s, [](MqttLink &l) { l.on_connected(); });
  }
  void on_failure(const mqtt::token &token) override {
    const std::string why = connect_failure_words(token.get_return_code(), tls);
    if (auto s = self.lock()) post(s, [why](MqttLink &l) { l.on_lost(why); });
  }
};

int set_nodelay_on_connections_to(int port) {
  int count = 0;
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  while (dirent *entry = readdir(dir)) {
    char *end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (!end || *end || fd < 0 || fd == dirfd(dir)) continue;
    struct stat st;
    if (fstat(int(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (getpeername(int(fd), reinterpret_cast<sockaddr *>(&peer), &len) != 0) continue;
    int peer_port = -1;
    if (peer.ss_family == AF_INET) peer_port = ntohs(reinterpret_cast<sockaddr_in *>(&peer)->sin_port);
    if (peer.ss_family == AF_INET6) peer_port = ntohs(reinterpret_cast<sockaddr_in6 *>(&peer)->sin6_port);
    int type = 0;
    socklen_t type_len = sizeof type;
    if (peer_port != port || getsockopt(int(fd), SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 || type != SOCK_STREAM)
      continue;
    const int on = 1;
    if (setsockopt(int(fd), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) ++count;
  }
  closedir(dir);
  return count;
}

MqttLink::MqttLink(MqttOptions options, Handlers handlers)
    : options_(std::move(options)),
      handlers_(std::move(handlers)),
      shared_(std::make_shared<Shared>()),
      backoff_(250, uint32_t(options_.reconnect_max_s) * 1000, [] { return g_random_double(); }) {
  shared_->link = this;
  shared_->self = shared_;
  const auto uri = broker_uri(options_.url);
  // Settings are checked at start-up; an URL that got here unchecked fails to connect.
  const std::string server = uri ? *uri : "tcp://invalid:1";
  shared_->tls = server.rfind("ssl://", 0) == 0;
  mqtt::create_options create(MQTTVERSION_3_1_1);
  client_ = std::make_unique<mqtt::async_client>(server, options_.client_id, create, nullptr);
  std::weak_ptr<Shared> weak = shared_;
  client_->set_message_callback([weak](mqtt::const_message_ptr msg) {
    auto s = weak.lock();
    if (!s || !msg) return;
    Shared::post(s, [topic = msg->get_topic(), payload = msg->to_string()](MqttLink &l) {
      if (l.handlers_.message) l.handlers_.message(topic, payload);
    });
  });
  client_->set_connection_lost_handler([weak](const std::string &cause) {
    if (auto s = weak.lock())
      Shared::post(s, [cause](MqttLink &l) { l.on_lost(cause.empty() ? "connection lost" : cause); });
  });
}

MqttLink::~MqttLink() {
  stop();
  shared_->link = nullptr;
}

void MqttLink::start() { connect(); }

void MqttLink::connect() {
  if (stopped_ || connecting_ || up_) return;
  connecting_ = true;
  auto builder = mqtt::connect_options_builder();
  builder.clean_session(options_.clean_session)
      .keep_alive_interval(std::chrono::seconds(options_.keepalive_s))
      .connect_timeout(std::chrono::seconds(5))
      .automatic_reconnect(false);
  if (!options_.user.empty()) builder.user_name(options_.user).password(options_.password);
  if (options_.will)
    builder.will(mqtt::will_options(options_.will->topic, options_.will->payload.data(), options_.will->payload.size(),
                                    1, true));
  if (shared_->tls) {
    auto ssl = mqtt::ssl_options_builder();
    ssl.enable_server_cert_auth(true).verify(true);
    if (!options_.ca_file.empty()) ssl.trust_store(options_.ca_file);
    builder.ssl(ssl.finalize());
  }
  try {
    client_->connect(builder.finalize(), nullptr, *shared_);
  } catch (const mqtt::exception &e) {
    connecting_ = false;
    on_lost(e.what());
  }
}

void MqttLink::on_connected() {
  connecting_ = false;
  if (stopped_) return;
  up_ = true;
  backoff_.reset();
  last_failure_.clear();
  const std::string uri = broker_uri(options_.url).value();
  const int nodelay = set_nodelay_on_connections_to(std::atoi(uri.substr(uri.rfind(':') + 1).c_str()));
  g_message("mqtt: connected to %s as %s (TCP_NODELAY set on %d socket%s)", options_.url.c_str(),
            options_.client_id.c_str(), nodelay, nodelay == 1 ? "" : "s");
  for (const auto &[filter, qos] : subscriptions_) {
    try {
      client_->subscribe(filter, qos);
    } catch (const mqtt::exception &e) {
      g_warning("mqtt: cannot subscribe to %s: %s", filter.c_str(), e.what());
    }
  }
  if (handlers_.connected) handlers_.connected();
}

void MqttLink::on_lost(const std::string &why) {
  connecting_ = false;
  const bool was_up = up_;
  up_ = false;
  if (stopped_) return;
  if (was_up)
    g_warning("mqtt: lost %s: %s; reconnecting", options_.url.c_str(), why.c_str());
  else if (why != last_failure_)
    g_warning("mqtt: cannot reach %s: %s; retrying", options_.url.c_str(), why.c_str());
  last_failure_ = why;
  if (was_up && handlers_.lost) handlers_.lost(why);
  if (!was_up && handlers_.refused) handlers_.refused(why);
  schedule_connect();
}

void MqttLink::schedule_connect() {
  if (retry_timer_ || stopped_) return;
  retry_timer_.reset(after_ms(backoff_.next_delay_ms(), [this] {
    retry_timer_.release();
    connect();
  }));
}

bool MqttLink::publish(const std::string &topic, const std::string &payload, int qos, bool retained) {
  if (!up_) return false;
  try {
    client_->publish(topic, payload.data(), payload.size(), qos, retained);
    return true;
  } catch (const mqtt::exception &e) {
    g_warning("mqtt: cannot publish to %s: %s", topic.c_str(), e.what());
    return false;
  }
}

void MqttLink::subscribe(const std::string &filter, int qos) {
  subscriptions_.emplace_back(filter, qos);
  if (!up_) return;
  try {
    client_->subscribe(filter, qos);
  } catch (const mqtt::exception &e) {
    g_warning("mqtt: cannot subscribe to %s: %s", filter.c_str(), e.what());
  }
}

void MqttLink::stop(const std::string &topic, const std::string &payload) {
  if (stopped_) return;
  stopped_ = true;
  retry_timer_.reset();
  try {
    if (up_ && !topic.empty())
      client_->publish(topic, payload.data(), payload.size(), 1, true)->wait_for(std::chrono::milliseconds(500));
    if (client_->is_connected()) client_->disconnect(std::chrono::milliseconds(500))->wait_for(std::chrono::seconds(1));
  } catch (const mqtt::exception &e) {
    g_debug("mqtt: while stopping: %s", e.what());
  }
  up_ = false;
}

}  // namespace sl
