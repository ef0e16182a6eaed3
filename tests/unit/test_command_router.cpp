// The agent's command table: one ack per id, repeats answered without running,
// ttl, unknown types, bad parameters, bounded memory. Also the Home Assistant
// discovery configs and V4L2 control names.
#include "capture/v4l2_controls.hpp"
#include "control/command_router.hpp"
#include "control/homeassistant.hpp"
#include "json_io.hpp"

#include <doctest/doctest.h>

using namespace sl;
using namespace sl::agent;
using control::Ack;

namespace {
struct Fixture {
  int64_t now = 1'700'000'000'000;
  std::vector<Ack> acks;
  int runs = 0;
  CommandRouter::Reply pending;  // a handler that answers later
  CommandRouter router{"cam1", [this] { return now; }, [this](const Ack &a) { acks.push_back(a); }};
  Fixture() {
    router.on("force_keyframe", [this](const control::Params &, CommandRouter::Reply reply) {
      ++runs;
      reply(control::ok_ack(R"({"keyframes":1})"));
    });
    router.on("snapshot", [this](const control::Params &, CommandRouter::Reply reply) {
      ++runs;
      pending = reply;
    });
  }
};
}  // namespace

TEST_CASE("a command runs once and is acked with its id, type and camera") {
  Fixture f;
  f.router.handle(R"({"id":"k1","type":"force_keyframe","params":{}})");
  REQUIRE(f.acks.size() == 1);
  CHECK(f.runs == 1);
  CHECK(f.acks[0].ok);
  CHECK(f.acks[0].id == "k1");
  CHECK(f.acks[0].type == "force_keyframe");
  CHECK(f.acks[0].camera == "cam1");
  CHECK(f.acks[0].result == R"({"keyframes":1})");
}

TEST_CASE("a repeated id gets the first ack again without running again") {
  Fixture f;
  f.router.handle(R"({"id":"k1","type":"force_keyframe"})");
  f.now += 1000;
  f.router.handle(R"({"id":"k1","type":"force_keyframe"})");
  CHECK(f.runs == 1);
  REQUIRE(f.acks.size() == 2);
  CHECK(f.acks[1] == f.acks[0]);
}

TEST_CASE("a repeat while the first still runs is not run, and the one ack follows") {
  Fixture f;
  f.router.handle(R"({"id":"s1","type":"snapshot"})");
  f.router.handle(R"({"id":"s1","type":"snapshot"})");
  CHECK(f.runs == 1);
  CHECK(f.acks.empty());
  f.pending(control::ok_ack("{}"));
  f.pending(control::ok_ack("{}"));  // a handler answering twice is ignored
  CHECK(f.acks.size() == 1);
}

TEST_CASE("a command older than its ttl is answered expired and not run, also when repeated") {
  Fixture f;
  f.router.handle(R"({"id":"old","type":"force_keyframe","issued_at":1699999990000,"ttl_ms":5000})");
  f.router.handle(R"({"id":"old","type":"force_keyframe","issued_at":1699999990000,"ttl_ms":5000})");
  CHECK(f.runs == 0);
  REQUIRE(f.acks.size() == 2);
  CHECK(f.acks[0].code == "expired");
  CHECK(f.acks[1].code == "expired");
  f.router.handle(R"({"id":"fresh","type":"force_keyframe","issued_at":1699999999000,"ttl_ms":5000})");
  CHECK(f.runs == 1);
}

TEST_CASE("unknown types and bad parameters are answered, never dropped") {
  Fixture f;
  f.router.handle(R"({"id":"u1","type":"launch_rocket"})");
  f.router.handle(R"({"id":"b1","type":"force_keyframe","params":{"now":true}})");
  f.router.handle(R"(not json at all)");
  CHECK(f.runs == 0);
  REQUIRE(f.acks.size() == 3);
  CHECK(f.acks[0].code == "unknown_type");
  CHECK(f.acks[0].id == "u1");
  CHECK(f.acks[1].code == "bad_params");
  CHECK(f.acks[1].param == "now");
  CHECK(f.acks[2].code == "bad_message");
}

TEST_CASE("commands without an id run every time (Home Assistant buttons)") {
  Fixture f;
  f.router.handle(R"({"type":"force_keyframe"})");
  f.router.handle(R"({"type":"force_keyframe"})");
  CHECK(f.runs == 2);
  REQUIRE(f.acks.size() == 2);
  CHECK(f.acks[0].id != f.acks[1].id);
}

TEST_CASE("memory of ids is bounded: the oldest are forgotten first") {
  Fixture f;
  for (size_t i = 0; i < CommandRouter::kRemembered + 10; ++i)
    f.router.handle(R"({"id":"n)" + std::to_string(i) + R"(","type":"force_keyframe"})");
  const int runs = f.runs;
  f.router.handle(R"({"id":"n0","type":"force_keyframe"})");    // forgotten: runs again
  f.router.handle(R"({"id":"n500","type":"force_keyframe"})");  // remembered
  CHECK(f.runs == runs + 1);
}

TEST_CASE("Home Assistant discovery names our topics and templates our state") {
  auto configs = homeassistant_configs({"homeassistant", "sightline", "cam1", "0.1.0", "test via x264enc"});
  std::map<std::string, std::string> by_topic(configs.begin(), configs.end());
  REQUIRE(by_topic.count("homeassistant/sensor/sightline_cam1/fps/config"));
  REQUIRE(by_topic.count("homeassistant/sensor/sightline_cam1/bitrate/config"));
  REQUIRE(by_topic.count("homeassistant/button/sightline_cam1/snapshot/config"));
  REQUIRE(by_topic.count("homeassistant/button/sightline_cam1/restart/config"));
  REQUIRE(by_topic.count("homeassistant/button/sightline_cam1/keyframe/config"));
  REQUIRE(by_topic.count("homeassistant/camera/sightline_cam1/snapshot/config"));
  for (const auto &[topic, payload] : configs) {
    auto node = json::parse_object(payload);
    REQUIRE_MESSAGE(node, topic << ": " << (node ? "" : node.error()));
    json::Reader r(json_node_get_object(node->get()));
    CHECK(r.str("availability_topic", 256) == "sightline/cam1/state");
    CHECK(!r.str("unique_id", 128).empty());
  }
  CHECK(by_topic["homeassistant/button/sightline_cam1/snapshot/config"].find(
            R"("command_topic":"sightline/cam1/cmd")") != std::string::npos);
  CHECK(by_topic["homeassistant/camera/sightline_cam1/snapshot/config"].find(R"("topic":"sightline/cam1/snapshot")") !=
        std::string::npos);
  CHECK(by_topic["homeassistant/sensor/sightline_cam1/bitrate/config"].find("value_json.bitrate_kbps") !=
        std::string::npos);
}

TEST_CASE("Home Assistant discovery of a camera of an agent with several: under the device's node, its own device") {
  auto configs = homeassistant_configs({"homeassistant", "sightline", "pi/front", "0.1.0", "test via x264enc"});
  std::map<std::string, std::string> by_topic(configs.begin(), configs.end());
  // The node is the device's (the broker's ACL lets the agent write sightline_<id> only).
  REQUIRE(by_topic.count("homeassistant/sensor/sightline_pi/front_fps/config"));
  REQUIRE(by_topic.count("homeassistant/camera/sightline_pi/front_snapshot/config"));
  for (const auto &[topic, payload] : configs) {
    CAPTURE(topic);
    CHECK(topic.find("sightline_pi/front_") != std::string::npos);
    CHECK(payload.find(R"("unique_id":"sightline_pi_front_)") != std::string::npos);
    CHECK(payload.find(R"("identifiers":["sightline_pi_front"])") != std::string::npos);
    // Available while both the camera and its device say so (the will is on the device's topic).
    CHECK(payload.find(R"("topic":"sightline/pi/state")") != std::string::npos);
    CHECK(payload.find(R"("topic":"sightline/pi/front/state")") != std::string::npos);
    CHECK(payload.find(R"("availability_mode":"all")") != std::string::npos);
  }
  CHECK(by_topic["homeassistant/button/sightline_pi/front_snapshot/config"].find(
            R"("command_topic":"sightline/pi/front/cmd")") != std::string::npos);
}

TEST_CASE("V4L2 control names are written as v4l2-ctl writes them") {
  CHECK(control_name("Brightness") == "brightness");
  CHECK(control_name("Exposure Time, Absolute") == "exposure_time_absolute");
  CHECK(control_name("White Balance Temperature, Auto") == "white_balance_temperature_auto");
  CHECK(control_name("  Power Line Frequency ") == "power_line_frequency");
}
