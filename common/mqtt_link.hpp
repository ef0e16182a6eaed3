// One MQTT connection (Paho MQTT C++), lived on the GLib main loop: everything
// Paho reports on its own threads is handed to the main loop with owned copies.
// Connects in the background, reconnects with jittered backoff for as long as it
// lives, re-subscribes after every connect, and turns Nagle's algorithm off on
// its socket (Paho never does; a command's round trip costs 40-90 ms with it on).
#pragma once

#include "backoff.hpp"
#include "gobj.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mqtt {
class async_client;
}

namespace sl {

struct MqttWill {
  std::string topic;
  std::string payload;
};

struct MqttOptions {
  std::string url;  // tcp://HOST:PORT, mqtt://, ssl://, mqtts://
  std::string user, password;
  std::string ca_file;  // ssl: the CA to trust; empty = the system's
  std::string client_id;
  bool clean_session = true;
  int keepalive_s = 10;
  std::optional<MqttWill> will;  // QoS 1, retained
  int reconnect_max_s = 10;
};

class MqttLink {
 public:
  struct Handlers {
    std::function<void()> connected;  // after every (re)connect, subscriptions renewed
    std::function<void(const std::string &topic, const std::string &payload)> message;
    std::function<void(const std::string &why)> lost;
    std::function<void(const std::string &why)> refused = nullptr;  // a connect attempt failed (it retries)
  };
  MqttLink(MqttOptions options, Handlers handlers);
  ~MqttLink();

  void start();
  bool is_up() const { return up_; }
  // Queued to the broker; false (nothing sent) while the link is down.
  bool publish(const std::string &topic, const std::string &payload, int qos, bool retained);
  // Kept and renewed after every reconnect.
  void subscribe(const std::string &filter, int qos);
  // Publishes the last words (e.g. offline state), then disconnects cleanly; waits
  // at most about a second. For shutdown.
  void stop(const std::string &topic = {}, const std::string &payload = {});

 private:
  struct Shared;  // what Paho's threads may reach: the main loop checks `alive`
  void connect();
  void on_connected();
  void on_lost(const std::string &why);
  void schedule_connect();

  MqttOptions options_;
  Handlers handlers_;
  std::shared_ptr<Shared> shared_;  // declared first: outlives client_, which points at it
  std::unique_ptr<mqtt::async_client> client_;
  std::vector<std::pair<std::string, int>> subscriptions_;
  Backoff backoff_;
  SourceId retry_timer_;
  bool up_ = false;
  bool connecting_ = false;
  bool stopped_ = false;
  std::string last_failure_;
};

// Sets TCP_NODELAY on this process's TCP sockets connected to `port` (Paho keeps
// its socket to itself). Returns how many it set.
int set_nodelay_on_connections_to(int port);

}  // namespace sl
