#include "metrics.hpp"

#include <glib.h>

namespace sl::relay {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds(std::move(upper_bounds)), counts(bounds.size() + 1, 0) {}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds.size() && value > bounds[i]) ++i;
  ++counts[i];
  sum += value;
  ++count;
}

namespace {
std::string number(double v) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_ascii_formatd(buf, sizeof buf, "%.9g", v);
}

class Text {
 public:
  void family(const char *name, const char *type, const char *help) {
    out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void sample(const std::string &name, double value, const std::string &labels = {}) {
    out_ += name + (labels.empty() ? "" : "{" + labels + "}") + " " + number(value) + "\n";
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};
}  // namespace

std::string render(const Metrics &m, const Gauges &g) {
  Text t;
  auto gauge = [&](const char *name, const char *help, double value) {
    t.family(name, "gauge", help);
    t.sample(name, value);
  };
  auto counter = [&](const char *name, const char *help, uint64_t value) {
    t.family(name, "counter", help);
    t.sample(name, double(value));
  };
  gauge("sightline_agents", "Agent sockets connected.", double(g.agents));
  gauge("sightline_pages", "Viewer sockets (pages) connected.", double(g.viewers));
  gauge("sightline_cameras", "Cameras known to this relay.", double(g.cameras));
  gauge("sightline_cameras_online", "Cameras online.", double(g.cameras_online));
  t.family("sightline_sessions", "gauge", "Viewing sessions by state.");
  t.sample("sightline_sessions", double(g.sessions_pending), "state=\"pending\"");
  t.sample("sightline_sessions", double(g.sessions_answered), "state=\"answered\"");
  t.sample("sightline_sessions", double(g.sessions_held), "state=\"held\"");
  gauge("sightline_subscriptions", "Cameras shown by pages: (page, camera) pairs.", double(g.subscriptions));
  gauge("sightline_queued_bytes", "Bytes waiting in the sockets' kernel send queues, all sockets.",
        double(g.queued_bytes));
  gauge("sightline_queued_bytes_max", "Bytes waiting in the fullest socket's kernel send queue.",
        double(g.queued_bytes_max));
  if (g.mqtt_configured)
    gauge("sightline_mqtt_connected", "1 while the control plane's MQTT link is up (absent without a broker).",
          g.mqtt_connected ? 1 : 0);
  if (g.mqtt_configured) gauge("sightline_relays_up", "Other relays up on the same broker.", double(g.relays_up));
  gauge("sightline_fanout_workers", "Fan-out worker processes running (docs/fanout.md).", double(g.fanout_workers));
  gauge("sightline_sessions_relayed", "Viewing sessions served through a fan-out worker.", double(g.sessions_relayed));
  gauge("sightline_main_loop_lag_seconds", "How late the main loop ran, at most, over the last second.", g.loop_lag_s);
  for (auto [name, help, map] :
       {std::tuple{"sightline_messages_received_total", "Messages received, by peer role and type.", &m.messages_in},
        std::tuple{"sightline_messages_sent_total", "Messages sent, by peer role and type.", &m.messages_out}}) {
    t.family(name, "counter", help);
    for (const auto &[key, n] : *map)
      t.sample(name, double(n), "role=\"" + key.first + "\",type=\"" + key.second + "\"");
  }
  counter("sightline_updates_dropped_total", "Figure updates dropped for sockets that did not keep up.",
          m.updates_dropped);
  counter("sightline_updates_coalesced_total", "Figure changes folded into a later update (at most one a second).",
          g.updates_coalesced);
  counter("sightline_resyncs_total", "Fresh copies sent to sockets that kept up again.", m.resyncs);
  counter("sightline_sockets_shed_total",
          "WebSocket upgrades refused with 503 and Retry-After (saturated or over the limits).", m.sockets_shed);
  counter("sightline_sockets_cut_total", "Sockets closed for not reading what was sent to them.", m.sockets_cut);
  counter("sightline_bad_messages_total", "Messages refused as malformed or unknown.", m.bad_messages);
  t.family("sightline_command_rtt_seconds", "histogram", "Command round trips through MQTT, to the camera's ack.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < m.command_rtt.bounds.size(); ++i) {
    cumulative += m.command_rtt.counts[i];
    t.sample("sightline_command_rtt_seconds_bucket", double(cumulative),
             "le=\"" + number(m.command_rtt.bounds[i]) + "\"");
  }
  t.sample("sightline_command_rtt_seconds_bucket", double(m.command_rtt.count), "le=\"+Inf\"");
  t.sample("sightline_command_rtt_seconds_sum", m.command_rtt.sum);
  t.sample("sightline_command_rtt_seconds_count", double(m.command_rtt.count));
  return t.take();
}

}  // namespace sl::relay
