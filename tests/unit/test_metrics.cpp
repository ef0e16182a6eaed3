// The relay's /metrics text and the camera list's query parameters.
#include "http/http_routes.hpp"
#include "metrics.hpp"

#include <doctest/doctest.h>

using namespace sl;
using namespace sl::relay;

namespace {
// The value of the sample `name{labels}` in Prometheus text, or -1.
double sample(const std::string &text, const std::string &series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return g_ascii_strtod(text.c_str() + at + series.size() + 2, nullptr);
}
}  // namespace

TEST_CASE("metrics: counters, gauges and the command histogram in the text format") {
  Metrics m;
  m.in("agent", "status");
  m.in("agent", "status");
  m.out("viewer", "camera_update");
  m.updates_dropped = 7;
  m.command_rtt.observe(0.0004);
  m.command_rtt.observe(0.03);
  m.command_rtt.observe(20);
  Gauges g;
  g.agents = 2000;
  g.sessions_pending = 1;
  g.sessions_answered = 4;
  g.sessions_held = 2;
  const std::string text = "\n" + render(m, g);
  CHECK(sample(text, "sightline_agents") == 2000);
  CHECK(sample(text, "sightline_sessions{state=\"pending\"}") == 1);
  CHECK(sample(text, "sightline_sessions{state=\"answered\"}") == 4);
  CHECK(sample(text, "sightline_sessions{state=\"held\"}") == 2);
  CHECK(sample(text, "sightline_messages_received_total{role=\"agent\",type=\"status\"}") == 2);
  CHECK(sample(text, "sightline_messages_sent_total{role=\"viewer\",type=\"camera_update\"}") == 1);
  CHECK(sample(text, "sightline_updates_dropped_total") == 7);
  // Buckets are cumulative; +Inf counts everything.
  CHECK(sample(text, "sightline_command_rtt_seconds_bucket{le=\"0.001\"}") == 1);
  CHECK(sample(text, "sightline_command_rtt_seconds_bucket{le=\"0.05\"}") == 2);
  CHECK(sample(text, "sightline_command_rtt_seconds_bucket{le=\"10\"}") == 2);
  CHECK(sample(text, "sightline_command_rtt_seconds_bucket{le=\"+Inf\"}") == 3);
  CHECK(sample(text, "sightline_command_rtt_seconds_count") == 3);
  CHECK(text.find("# TYPE sightline_command_rtt_seconds histogram") != std::string::npos);
  // No broker configured: no MQTT state at all (rather than a false "down").
  CHECK(sample(text, "sightline_mqtt_connected") == -1);
  g.mqtt_configured = true;
  CHECK(sample("\n" + render(m, g), "sightline_mqtt_connected") == 0);
}

TEST_CASE("GET /api/cameras: its parameters, checked") {
  auto params = [](std::initializer_list<std::pair<const char *, const char *>> kv) {
    GHashTable *t = g_hash_table_new(g_str_hash, g_str_equal);
    for (auto [k, v] : kv) g_hash_table_insert(t, (gpointer)k, (gpointer)v);
    return Owned<GHashTable>(t);
  };
  auto none = parse_camera_query(nullptr);
  REQUIRE(none);
  CHECK(none->limit == 100);
  CHECK(none->offset == 0);
  auto full =
      parse_camera_query(params({{"q", "porch"}, {"online", "false"}, {"offset", "40"}, {"limit", "20"}}).get());
  REQUIRE(full);
  CHECK(*full == proto::CameraQuery{"porch", false, 40, 20});
  CHECK_FALSE(parse_camera_query(params({{"limit", "0"}}).get()));
  CHECK_FALSE(parse_camera_query(params({{"limit", "5000"}}).get()));
  CHECK_FALSE(parse_camera_query(params({{"offset", "-1"}}).get()));
  CHECK_FALSE(parse_camera_query(params({{"online", "yes"}}).get()));
  CHECK(parse_camera_query(params({{"limit", "x"}}).get()).error().find("'limit'") != std::string::npos);
}
