// The relay's session table driven through events: what each event makes the
// relay send, and to whom.
#include "sessions/session_table.hpp"
#include "settings.hpp"
#include "table_messages.hpp"

#include <doctest/doctest.h>

using namespace sl;
using namespace sl::relay;
using sl::relay::testing::sent;

namespace {

constexpr PeerId kAgent = 1, kAgent2 = 2, kViewer = 10, kViewer2 = 11;

struct Fixture {
  int next = 0;
  SessionTable table{{proto::IceServer{{"stun:127.0.0.1:3478"}, "", ""}}, 10000, Limits{2, 3}, [this] {
                       return "s" + std::to_string(++next);
                     }};

  static proto::Hello hello(const std::string &camera) {
    return proto::Hello{1, "agent-" + camera, {proto::CameraInfo{camera, 640, 480, 30, "H264", "test", "x264enc"}}};
  }
};

std::string start_session(Fixture &f, PeerId viewer, const std::string &camera, const std::string &ref = "r1") {
  auto a = f.table.viewer_message(viewer, proto::Watch{ref, camera, "offer-sdp"}, 0);
  auto started = sent<proto::SessionStarted>(a, viewer);
  REQUIRE(started.size() == 1);
  return started[0].session;
}

}  // namespace

TEST_CASE("an agent's hello brings its camera online for viewers") {
  Fixture f;
  auto joined = f.table.viewer_joined(kViewer);
  auto welcome = sent<proto::ViewerWelcome>(joined, kViewer);
  REQUIRE(welcome.size() == 1);
  CHECK(welcome[0].page.cameras.empty());
  CHECK(welcome[0].ice_servers.size() == 1);

  // Its first page of the list has room: the new camera joins it.
  auto a = f.table.agent_hello(kAgent, Fixture::hello("cam"));
  CHECK(sent<proto::AgentWelcome>(a, kAgent).size() == 1);
  auto update = sent<proto::CameraUpdate>(a, kViewer);
  REQUIRE(update.size() == 1);
  REQUIRE(update[0].cameras.size() == 1);
  CHECK(update[0].cameras[0].online);
  CHECK(update[0].cameras[0].info.width == 640);
}

TEST_CASE("watch forwards the offer to the camera's agent and names the session") {
  Fixture f;
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.viewer_joined(kViewer);
  auto a = f.table.viewer_message(kViewer, proto::Watch{"r1", "cam", "offer-sdp"}, 0);
  auto started = sent<proto::SessionStarted>(a, kViewer);
  REQUIRE(started.size() == 1);
  CHECK(started[0].ref == "r1");
  auto offers = sent<proto::Offer>(a, kAgent);
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].session == started[0].session);
  CHECK(offers[0].sdp == "offer-sdp");
  CHECK(offers[0].ice_servers.size() == 1);
  CHECK(f.table.cameras()[0].viewers == 1);
}

TEST_CASE("answer and candidates travel between the two ends of a session") {
  Fixture f;
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.viewer_joined(kViewer);
  const std::string s = start_session(f, kViewer, "cam");
  auto answered = f.table.agent_message(kAgent, proto::Answer{s, "answer-sdp"});
  REQUIRE(sent<proto::Answer>(answered, kViewer).size() == 1);
  CHECK(sent<proto::Answer>(answered, kViewer)[0].sdp == "answer-sdp");
  auto from_agent = f.table.agent_message(kAgent, proto::Ice{s, "candidate:a", 0});
  CHECK(sent<proto::Ice>(from_agent, kViewer).at(0).candidate == "candidate:a");
  auto from_viewer = f.table.viewer_message(kViewer, proto::Ice{s, "candidate:v", 0}, 0);
  CHECK(sent<proto::Ice>(from_viewer, kAgent).at(0).candidate == "candidate:v");
}

TEST_CASE("a viewer that stops or leaves ends its sessions at the agent") {
  Fixture f;
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.viewer_joined(kViewer);
  const std::string s1 = start_session(f, kViewer, "cam", "r1");
  const std::string s2 = start_session(f, kViewer, "cam", "r2");
  auto stopped = f.table.viewer_message(kViewer, proto::Stop{s1}, 0);
  REQUIRE(sent<proto::SessionEnd>(stopped, kAgent).size() == 1);
  CHECK(sent<proto::SessionEnd>(stopped, kAgent)[0].reason == "viewer_left");
  auto gone = f.table.viewer_gone(kViewer);
  auto ends = sent<proto::SessionEnd>(gone, kAgent);
  REQUIRE(ends.size() == 1);
  CHECK(ends[0].session == s2);
  CHECK(ends[0].reason == "viewer_gone");
  CHECK(f.table.session_count() == 0);
  CHECK(f.table.cameras()[0].viewers == 0);
}

TEST_CASE("an agent that leaves ends its sessions and its camera goes offline") {
  Fixture f;
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.viewer_joined(kViewer);
  const std::string s = start_session(f, kViewer, "cam");
  auto gone = f.table.agent_gone(kAgent);
  auto ends = sent<proto::SessionEnd>(gone, kViewer);
  REQUIRE(ends.size() == 1);
  CHECK(ends[0].session == s);
  CHECK(ends[0].reason == "camera_offline");
  auto update = sent<proto::CameraUpdate>(gone, kViewer);
  REQUIRE_FALSE(update.empty());
  CHECK_FALSE(update.back().cameras.at(0).online);
  // Still listed, offline; watching it now is refused.
  auto refused = sent<proto::Error>(f.table.viewer_message(kViewer, proto::Watch{"r9", "cam", "x"}, 0), kViewer);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].code == "camera_offline");
  CHECK(refused[0].ref == "r9");
}

TEST_CASE("an unanswered session times out on both ends") {
  Fixture f;
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.viewer_joined(kViewer);
  const std::string s = start_session(f, kViewer, "cam");
  f.table.tick(0);  // the totals changed: the first tick tells the page
  CHECK(f.table.tick(9000).sends.empty());
  auto late = f.table.tick(10001);
  CHECK(sent<proto::SessionEnd>(late, kViewer).at(0).reason == "timeout");
  CHECK(sent<proto::SessionEnd>(late, kAgent).at(0).session == s);
  // An answered session does not time out.
  const std::string s2 = start_session(f, kViewer, "cam");
  f.table.agent_message(kAgent, proto::Answer{s2, "sdp"});
  CHECK(sent<proto::SessionEnd>(f.table.tick(100000), kViewer).empty());
}

TEST_CASE("unknown cameras and other peers' sessions are refused") {
  Fixture f;
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.agent_hello(kAgent2, Fixture::hello("other"));
  f.table.viewer_joined(kViewer);
  f.table.viewer_joined(kViewer2);
  auto unknown = sent<proto::Error>(f.table.viewer_message(kViewer, proto::Watch{"r", "nope", "x"}, 0), kViewer);
  CHECK(unknown.at(0).code == "unknown_camera");
  const std::string s = start_session(f, kViewer, "cam");
  // Another viewer cannot stop or feed it; another agent cannot answer it.
  CHECK(sent<proto::Error>(f.table.viewer_message(kViewer2, proto::Stop{s}, 0), kViewer2).at(0).code ==
        "unknown_session");
  CHECK(sent<proto::Ice>(f.table.viewer_message(kViewer2, proto::Ice{s, "c", 0}, 0), kAgent).empty());
  auto foreign = f.table.agent_message(kAgent2, proto::Answer{s, "sdp"});
  CHECK(sent<proto::Answer>(foreign, kViewer).empty());
  CHECK(sent<proto::Error>(foreign, kAgent2).at(0).code == "unknown_session");
  // Status for a camera the agent did not announce is refused.
  CHECK(sent<proto::Error>(f.table.agent_message(kAgent2, proto::Status{"cam", 5, 1, 1, 1, 1}), kAgent2).size() == 1);
  CHECK(f.table.cameras()[0].branches == 0);
}

TEST_CASE("a second agent with the same camera id takes it over") {
  Fixture f;
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.viewer_joined(kViewer);
  const std::string s = start_session(f, kViewer, "cam");
  auto a = f.table.agent_hello(kAgent2, Fixture::hello("cam"));
  REQUIRE(a.closes.size() == 1);
  CHECK(a.closes[0].peer == kAgent);
  CHECK(a.closes[0].reason == "replaced");
  CHECK(sent<proto::SessionEnd>(a, kViewer).at(0).session == s);
  // New watches go to the new agent; the old one's later departure changes nothing.
  auto w = f.table.viewer_message(kViewer, proto::Watch{"r2", "cam", "x"}, 0);
  CHECK(sent<proto::Offer>(w, kAgent2).size() == 1);
  f.table.agent_gone(kAgent);
  CHECK(f.table.cameras()[0].online);
}

TEST_CASE("status figures reach the camera list") {
  Fixture f;
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.viewer_joined(kViewer);
  f.table.tick(0);
  auto a = f.table.agent_message(kAgent, proto::Status{"cam", 2, 29.5, 1900, 640, 480});
  // Figures wait for the next tick, and several changes make one update.
  CHECK(sent<proto::CameraUpdate>(a, kViewer).empty());
  f.table.agent_message(kAgent, proto::Status{"cam", 2, 29.0, 1950, 640, 480});
  auto ticked = sent<proto::CameraUpdate>(f.table.tick(1000), kViewer);
  REQUIRE(ticked.size() == 1);
  CHECK(ticked[0].cameras.at(0).fps_measured == 29.0);
  CHECK(f.table.cameras()[0].branches == 2);
  // The same figures again tell nobody.
  CHECK(f.table.agent_message(kAgent, proto::Status{"cam", 2, 29.0, 1950, 640, 480}).sends.empty());
  CHECK(sent<proto::CameraUpdate>(f.table.tick(2000), kViewer).empty());
  // The configured and target bitrates are figures too: listed, coalesced, reset with the agent.
  proto::Status adapting{"cam", 2, 29.0, 870, 640, 480};
  adapting.configured_kbps = 2000;
  adapting.target_kbps = 900;
  f.table.agent_message(kAgent, adapting);
  CHECK(sent<proto::CameraUpdate>(f.table.agent_message(kAgent, adapting), kViewer).empty());
  auto adapted = sent<proto::CameraUpdate>(f.table.tick(3000), kViewer);
  REQUIRE(adapted.size() == 1);
  CHECK(adapted[0].cameras.at(0).configured_kbps == 2000);
  CHECK(adapted[0].cameras.at(0).target_kbps == 900);
  CHECK(f.table.cameras()[0].target_kbps == 900);
}

TEST_CASE("a camera whose agent says it delivers no video is offline and refuses viewers") {
  Fixture f;
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.viewer_joined(kViewer);
  auto failed = f.table.agent_message(kAgent, proto::Status{"cam", 0, 0, 0, 640, 480, false});
  auto update = sent<proto::CameraUpdate>(failed, kViewer);
  REQUIRE(update.size() == 1);
  CHECK_FALSE(update[0].cameras[0].online);
  CHECK(update[0].cameras[0].connected);  // its agent is still here
  auto refused =
      sent<proto::Error>(f.table.viewer_message(kViewer, proto::Watch{"r1", "cam", "offer-sdp"}, 0), kViewer);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].code == "camera_offline");
  CHECK(refused[0].message.find("unplugged") != std::string::npos);

  // Its agent's reason, when it gives one: in the list at once, and in refusals.
  const std::string why = "Cannot open camera /dev/video7: no such device.";
  auto explained = f.table.agent_message(kAgent, proto::Status{"cam", 0, 0, 0, 640, 480, false, why});
  auto told = sent<proto::CameraUpdate>(explained, kViewer);
  REQUIRE(told.size() == 1);
  CHECK(told[0].cameras[0].error == why);
  auto refused_why =
      sent<proto::Error>(f.table.viewer_message(kViewer, proto::Watch{"r2", "cam", "offer-sdp"}, 0), kViewer);
  REQUIRE(refused_why.size() == 1);
  CHECK(refused_why[0].message.find("/dev/video7") != std::string::npos);

  auto back = f.table.agent_message(kAgent, proto::Status{"cam", 0, 30, 2000, 640, 480, true});
  REQUIRE(sent<proto::CameraUpdate>(back, kViewer).size() == 1);
  CHECK(f.table.cameras()[0].online);
  CHECK(f.table.cameras()[0].error.empty());
  start_session(f, kViewer, "cam");
}

TEST_CASE("sessions per viewer and per camera are limited") {
  Fixture f;  // limits: 2 per viewer, 3 per camera
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.viewer_joined(kViewer);
  f.table.viewer_joined(kViewer2);
  start_session(f, kViewer, "cam", "a");
  start_session(f, kViewer, "cam", "b");
  CHECK(sent<proto::Error>(f.table.viewer_message(kViewer, proto::Watch{"c", "cam", "x"}, 0), kViewer).at(0).code ==
        "too_many_sessions");
  start_session(f, kViewer2, "cam", "d");
  auto full = f.table.viewer_message(kViewer2, proto::Watch{"e", "cam", "x"}, 0);
  CHECK(sent<proto::Error>(full, kViewer2).at(0).code == "too_many_sessions");
  CHECK(sent<proto::Offer>(full, kAgent).empty());
}

TEST_CASE("retained control-plane state makes a camera known before its agent connects") {
  Fixture f;
  f.table.viewer_joined(kViewer);
  control::CameraState state;
  state.camera = "cam";
  state.online = true;
  state.width = 1280;
  state.height = 720;
  state.fps_target = 25;
  state.bitrate_target_kbps = 1500;
  state.codec = "H264";
  auto a = f.table.camera_state(state);
  auto update = sent<proto::CameraUpdate>(a, kViewer);
  REQUIRE(update.size() == 1);
  REQUIRE(update[0].cameras.size() == 1);
  const auto &entry = update[0].cameras[0];
  CHECK(entry.online);
  CHECK_FALSE(entry.connected);  // no video through this relay yet
  CHECK(entry.info.width == 1280);
  CHECK(entry.info.fps == 25);
  REQUIRE(entry.state);
  CHECK(entry.state->bitrate_target_kbps == 1500);
  CHECK(f.table.has_camera("cam"));

  // The same state again changes nothing and tells nobody.
  CHECK(sent<proto::CameraUpdate>(f.table.camera_state(state), kViewer).empty());

  // The agent connects, then dies: the last will turns the camera offline.
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  CHECK(f.table.cameras()[0].connected);
  f.table.agent_gone(kAgent);
  CHECK_FALSE(f.table.cameras()[0].connected);
  control::CameraState will;
  will.camera = "cam";
  a = f.table.camera_state(will);
  update = sent<proto::CameraUpdate>(a, kViewer);
  REQUIRE(update.size() == 1);
  CHECK_FALSE(update[0].cameras[0].online);
}

TEST_CASE("an offline state of a camera never seen adds nothing") {
  Fixture f;
  control::CameraState will;
  will.camera = "ghost";
  f.table.camera_state(will);
  CHECK_FALSE(f.table.has_camera("ghost"));
  CHECK(f.table.cameras().empty());
}

TEST_CASE("a viewer whose token names cameras sees and watches only those") {
  Fixture f;
  f.table.agent_hello(kAgent, Fixture::hello("porch"));
  f.table.agent_hello(kAgent2, Fixture::hello("garage"));
  auto joined = f.table.viewer_joined(kViewer, {"porch"});
  auto welcome = sent<proto::ViewerWelcome>(joined, kViewer);
  REQUIRE(welcome.size() == 1);
  REQUIRE(welcome[0].page.cameras.size() == 1);
  CHECK(welcome[0].page.cameras[0].info.id == "porch");
  CHECK(welcome[0].page.totals.cameras == 1);  // the totals count only what the token may see
  auto refused = f.table.viewer_message(kViewer, proto::Watch{"r1", "garage", "sdp"}, 0);
  auto errors = sent<proto::Error>(refused, kViewer);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == "unknown_camera");  // as if it did not exist
  CHECK(sent<proto::Offer>(refused, kAgent2).empty());
  CHECK(f.table.viewer_may_see(kViewer, "porch"));
  CHECK_FALSE(f.table.viewer_may_see(kViewer, "garage"));
}

TEST_CASE("an agent announces only its own device: another id is refused and its socket closed") {
  Fixture f;
  f.table.viewer_joined(kViewer);
  f.table.agent_joined(kAgent, "porch");
  proto::Hello other{1, "garage", {proto::CameraInfo{"garage", 640, 480, 30, "H264", "test", "x264enc"}}};
  auto a = f.table.agent_message(kAgent, other);
  auto errors = sent<proto::Error>(a, kAgent);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == "forbidden");
  REQUIRE(a.closes.size() == 1);
  CHECK(a.closes[0].peer == kAgent);
  CHECK(a.closes[0].code == 1008);
  CHECK(sent<proto::CameraUpdate>(a, kViewer).empty());
  CHECK_FALSE(f.table.has_camera("garage"));
  // Its own id, with a camera of another id, is refused too.
  proto::Hello sneaky{1, "porch", {proto::CameraInfo{"garage", 640, 480, 30, "H264", "test", "x264enc"}}};
  CHECK(sent<proto::Error>(f.table.agent_message(kAgent, sneaky), kAgent).at(0).code == "forbidden");
  // Its own id is welcome.
  proto::Hello own{1, "porch", {proto::CameraInfo{"porch", 640, 480, 30, "H264", "test", "x264enc"}}};
  auto welcomed = f.table.agent_message(kAgent, own);
  CHECK(sent<proto::AgentWelcome>(welcomed, kAgent).size() == 1);
  CHECK(welcomed.closes.empty());
  CHECK(f.table.has_camera("porch"));
  // insecure-dev: a device proven as "" may announce any id.
  f.table.agent_joined(kAgent2, "");
  CHECK(sent<proto::AgentWelcome>(f.table.agent_message(kAgent2, Fixture::hello("yard")), kAgent2).size() == 1);
}

TEST_CASE("an agent with several cameras announces them under its own id only, and each is its own camera") {
  Fixture f;
  f.table.viewer_joined(kViewer);
  f.table.agent_joined(kAgent, "pi");
  auto camera = [](const std::string &id) { return proto::CameraInfo{id, 640, 480, 30, "H264", "test", "x264enc"}; };
  // Under another device's id: refused (a device "pi" may not speak for "pi.garden" or "garden/front").
  for (const char *foreign : {"garden/front", "pi.garden", "pix/front"}) {
    CAPTURE(foreign);
    proto::Hello hello{1, "pi", {camera("pi/front"), camera(foreign)}};
    CHECK(sent<proto::Error>(f.table.agent_message(kAgent, hello), kAgent).at(0).code == "forbidden");
    f.table.agent_joined(kAgent, "pi");
  }
  CHECK_FALSE(f.table.has_camera("pi/front"));
  proto::Hello own{1, "pi", {camera("pi/front"), camera("pi/back")}};
  auto welcomed = f.table.agent_message(kAgent, own);
  REQUIRE(sent<proto::AgentWelcome>(welcomed, kAgent).size() == 1);
  CHECK(f.table.has_camera("pi/front"));
  CHECK(f.table.has_camera("pi/back"));
  // A viewer's offer for one reaches the agent for that camera.
  auto watched = f.table.viewer_message(kViewer, proto::Watch{"r1", "pi/back", "sdp"}, 0);
  auto offers = sent<proto::Offer>(watched, kAgent);
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].camera == "pi/back");
  // Each has its own status.
  f.table.agent_message(kAgent, proto::Status{"pi/front", 0, 0, 0, 640, 480, false});
  for (const auto &entry : f.table.cameras()) CHECK(entry.online == (entry.info.id == "pi/back"));
}

TEST_CASE("a device's offline state (its last will) turns every camera it lists offline") {
  Fixture f;
  f.table.viewer_joined(kViewer);
  for (const char *id : {"pi/front", "pi/back", "other"}) {
    control::CameraState state;
    state.camera = id;
    state.online = true;
    state.codec = "H264";
    f.table.camera_state(state);
  }
  control::CameraState online_device;
  online_device.camera = "pi";
  online_device.online = true;
  online_device.cameras = {"pi/front", "pi/back"};
  f.table.camera_state(online_device);
  CHECK_FALSE(f.table.has_camera("pi"));  // a device is not a camera
  control::CameraState will = online_device;
  will.online = false;
  auto a = f.table.camera_state(will);
  CHECK_FALSE(f.table.has_camera("pi"));
  for (const auto &entry : f.table.cameras()) CHECK(entry.online == (entry.info.id == "other"));
  CHECK(sent<proto::CameraUpdate>(a, kViewer).size() == 1);
}

TEST_CASE("an agent's first message must be its hello") {
  Fixture f;
  f.table.agent_joined(kAgent, "cam");
  auto a = f.table.agent_message(kAgent, proto::Status{"cam", 0, 0, 0, 0, 0});
  CHECK(sent<proto::Error>(a, kAgent).at(0).code == "bad_message");
  REQUIRE(a.closes.size() == 1);
  CHECK(a.closes[0].peer == kAgent);
}

namespace {
proto::CommandRequest command_for(const std::string &camera) {
  return proto::CommandRequest{"c1", camera, "set_video", R"({"fps":15})", 0};
}
}  // namespace

TEST_CASE("commands need the operator role") {
  Fixture f;
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.viewer_joined(kViewer, {}, "", auth::Role::Viewer);
  auto refused = f.table.viewer_message(kViewer, command_for("cam"), 0);
  CHECK(refused.commands.empty());
  auto results = sent<proto::CommandResult>(refused, kViewer);
  REQUIRE(results.size() == 1);
  CHECK(results[0].ref == "c1");
  CHECK_FALSE(results[0].ack.ok);
  CHECK(results[0].ack.code == "forbidden");

  f.table.viewer_joined(kViewer2, {}, "", auth::Role::Operator);
  auto allowed = f.table.viewer_message(kViewer2, command_for("cam"), 0);
  REQUIRE(allowed.commands.size() == 1);
  CHECK(allowed.commands[0].viewer == kViewer2);
  CHECK(allowed.commands[0].request == command_for("cam"));
  CHECK(sent<proto::CommandResult>(allowed, kViewer2).empty());
}

TEST_CASE("a token scoped to cameras a and b cannot command c") {
  Fixture f;
  for (const char *camera : {"a", "b", "c"}) f.table.agent_hello(kAgent, Fixture::hello(camera));
  f.table.viewer_joined(kViewer, {"a", "b"}, "", auth::Role::Admin);
  auto refused = f.table.viewer_message(kViewer, command_for("c"), 0);
  CHECK(refused.commands.empty());
  auto results = sent<proto::CommandResult>(refused, kViewer);
  REQUIRE(results.size() == 1);
  CHECK(results[0].ack.code == "unknown_camera");  // as if it did not exist
  CHECK(f.table.viewer_message(kViewer, command_for("b"), 0).commands.size() == 1);

  // The HTTP API asks the same rule.
  auth::Claims scoped;
  scoped.role = auth::Role::Operator;
  scoped.cameras = {"a", "b"};
  CHECK(may_command(scoped, "a"));
  CHECK(may_command(scoped, "c").error().code == "unknown_camera");
  auth::Claims viewer;
  viewer.role = auth::Role::Viewer;
  CHECK(may_command(viewer, "a").error().code == "forbidden");
}

TEST_CASE("device secrets file: one 'id secret' a line, checked") {
  auto ok = parse_device_secrets("# devices\nporch 0123456789abcdef0123\n\ngarage  fedcba9876543210fedc  \n");
  REQUIRE(ok);
  CHECK(ok->at("garage") == "fedcba9876543210fedc");
  CHECK(parse_device_secrets("porch short\n").error().find("16 characters") != std::string::npos);
  CHECK(parse_device_secrets("a 0123456789abcdef\na 0123456789abcdef\n").error().find("twice") != std::string::npos);
  CHECK(parse_device_secrets("ok 0123456789abcdef\nb@d 0123456789abcdef\n").error().find("line 2") !=
        std::string::npos);
  CHECK(is_loopback("127.0.0.1"));
  CHECK(is_loopback("::1"));
  CHECK_FALSE(is_loopback("0.0.0.0"));
  CHECK_FALSE(is_loopback("192.0.2.1"));
}

// ---- pages get what they show (subscriptions), costs follow what changes ----

namespace {
proto::Hello fleet_hello(const std::string &agent, int from, int count) {
  proto::Hello h{1, agent, {}};
  for (int i = from; i < from + count; ++i) {
    char id[16];
    g_snprintf(id, sizeof id, "cam%04d", i);
    h.cameras.push_back(proto::CameraInfo{id, 640, 480, 15, "H264", "test", "x264enc"});
  }
  return h;
}
proto::Subscribe by_ids(std::vector<std::string> ids, std::string ref = "s") {
  return proto::Subscribe{std::move(ref), std::move(ids), {}};
}
proto::Subscribe by_query(std::string q, std::optional<bool> online, size_t offset, size_t limit) {
  return proto::Subscribe{"q", {}, proto::CameraQuery{std::move(q), online, offset, limit}};
}
}  // namespace

TEST_CASE("a page hears only of the cameras it subscribed to") {
  Fixture f;
  f.table.agent_hello(kAgent, fleet_hello("big", 0, 200));
  f.table.viewer_joined(kViewer);
  f.table.viewer_joined(kViewer2);
  auto answer = sent<proto::Cameras>(
      f.table.viewer_message(kViewer, by_ids({"cam0007", "cam0150", "not-yet"}, "r7"), 0), kViewer);
  REQUIRE(answer.size() == 1);
  CHECK(answer[0].ref == "r7");
  REQUIRE(answer[0].page.cameras.size() == 2);  // "not-yet" is not known (yet)
  CHECK(answer[0].page.cameras[0].info.id == "cam0007");
  CHECK(answer[0].page.totals.cameras == 200);
  f.table.tick(0);

  // Figures of every camera change: the page hears of its two, once, at the tick.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 200; ++i) {
      char id[16];
      g_snprintf(id, sizeof id, "cam%04d", i);
      auto a = f.table.agent_message(kAgent, proto::Status{id, 0, 10.0 + round, 500.0 + i, 640, 480});
      CHECK(sent<proto::CameraUpdate>(a, kViewer).empty());
    }
  }
  auto ticked = f.table.tick(1000);
  // 25 cameras are on some page (the other page's 24, and cam0150): three rounds, two folded each.
  // Cameras nobody shows cost nothing at all.
  CHECK(f.table.coalesced_count() == 2 * 25);
  auto updates = sent<proto::CameraUpdate>(ticked, kViewer);
  REQUIRE(updates.size() == 1);
  REQUIRE(updates[0].cameras.size() == 2);
  CHECK(updates[0].cameras[0].fps_measured == 12.0);
  // The other page shows the first 24 of the list (its welcome's page): 24 entries.
  auto others = sent<proto::CameraUpdate>(ticked, kViewer2);
  REQUIRE(others.size() == 1);
  CHECK(others[0].cameras.size() == proto::kDefaultPageSize);
  CHECK(others[0].cameras[0].info.id == "cam0000");

  // A camera it waits for comes: it hears at once.
  auto came =
      f.table.agent_hello(kAgent2, proto::Hello{1, "late", {proto::CameraInfo{"not-yet", 1, 1, 1, "H264", "", ""}}});
  auto now = sent<proto::CameraUpdate>(came, kViewer);
  REQUIRE(now.size() == 1);
  CHECK(now[0].cameras.at(0).info.id == "not-yet");
  CHECK(now[0].cameras.at(0).online);
  CHECK(sent<proto::CameraUpdate>(came, kViewer2).empty());  // its full page has no room
  // ...and its totals at the tick, once.
  auto totals = sent<proto::TotalsUpdate>(f.table.tick(2000), kViewer2);
  REQUIRE(totals.size() == 1);
  CHECK(totals[0].totals.cameras == 201);
  CHECK(sent<proto::TotalsUpdate>(f.table.tick(3000), kViewer2).empty());
  CHECK(f.table.subscription_count() == 3 + proto::kDefaultPageSize);
}

TEST_CASE("online, offline and viewer counts reach a page at once, and the totals follow") {
  Fixture f;
  f.table.agent_hello(kAgent, fleet_hello("a", 0, 3));
  f.table.viewer_joined(kViewer);
  f.table.tick(0);
  auto failed = f.table.agent_message(kAgent, proto::Status{"cam0001", 0, 0, 0, 640, 480, false});
  auto now = sent<proto::CameraUpdate>(failed, kViewer);
  REQUIRE(now.size() == 1);
  CHECK_FALSE(now[0].cameras.at(0).online);
  auto totals = sent<proto::TotalsUpdate>(f.table.tick(1000), kViewer);
  REQUIRE(totals.size() == 1);
  CHECK(totals[0].totals == proto::Totals{3, 2, 1, 0});
  start_session(f, kViewer, "cam0002");
  totals = sent<proto::TotalsUpdate>(f.table.tick(2000), kViewer);
  REQUIRE(totals.size() == 1);
  CHECK(totals[0].totals.watched == 1);
}

TEST_CASE("a query subscription pages and filters the list, with totals") {
  Fixture f;
  f.table.agent_hello(kAgent, fleet_hello("a", 0, 100));
  f.table.agent_message(kAgent, proto::Status{"cam0042", 0, 0, 0, 640, 480, false});
  f.table.viewer_joined(kViewer);
  auto page = [&](proto::Subscribe s) {
    auto a = sent<proto::Cameras>(f.table.viewer_message(kViewer, s, 0), kViewer);
    REQUIRE(a.size() == 1);
    return a[0].page;
  };
  auto p = page(by_query("", std::nullopt, 90, 20));
  CHECK(p.total == 100);
  CHECK(p.offset == 90);
  REQUIRE(p.cameras.size() == 10);
  CHECK(p.cameras[0].info.id == "cam0090");
  CHECK(p.totals == proto::Totals{100, 99, 1, 0});
  p = page(by_query("CAM004", std::nullopt, 0, 5));  // any case
  CHECK(p.total == 10);
  CHECK(p.cameras.size() == 5);
  p = page(by_query("", false, 0, 24));
  REQUIRE(p.cameras.size() == 1);
  CHECK(p.cameras[0].info.id == "cam0042");
  // What the HTTP API answers is the same list.
  CHECK(f.table.list({}, proto::CameraQuery{"", false, 0, 24}) == p);
  // A token scoped to two cameras pages through those two only.
  CHECK(f.table.list({"cam0003", "cam0001", "elsewhere"}, proto::CameraQuery{}).total == 2);
  CHECK(f.table.list({"cam0003", "cam0001"}, proto::CameraQuery{}).cameras[0].info.id == "cam0001");
  CHECK(f.table.totals({"cam0042", "cam0001"}) == proto::Totals{2, 1, 1, 0});
}

TEST_CASE("a subscription over the limits is refused and the previous one stays") {
  Fixture f;
  f.table.agent_hello(kAgent, fleet_hello("a", 0, 5));
  f.table.viewer_joined(kViewer);
  f.table.viewer_message(kViewer, by_ids({"cam0001"}), 0);
  std::vector<std::string> many;
  for (int i = 0; i < 100000; ++i) many.push_back("c" + std::to_string(i));
  auto refused = f.table.viewer_message(kViewer, by_ids(many, "big"), 0);
  auto errors = sent<proto::Error>(refused, kViewer);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == "too_large");
  CHECK(errors[0].ref == "big");
  CHECK(refused.logs.size() == 1);
  CHECK(
      sent<proto::Error>(f.table.viewer_message(kViewer, by_query("", std::nullopt, 0, 500), 0), kViewer).at(0).code ==
      "too_large");
  CHECK(f.table.subscription_count() == 1);
  f.table.tick(0);
  f.table.agent_message(kAgent, proto::Status{"cam0001", 1, 9, 9, 640, 480});
  CHECK(sent<proto::CameraUpdate>(f.table.tick(1000), kViewer).at(0).cameras.at(0).info.id == "cam0001");
}

TEST_CASE("a token's scope bounds subscriptions too") {
  Fixture f;
  f.table.agent_hello(kAgent, fleet_hello("a", 0, 5));
  f.table.viewer_joined(kViewer, {"cam0001"});
  auto a = sent<proto::Cameras>(f.table.viewer_message(kViewer, by_ids({"cam0001", "cam0002"}), 0), kViewer);
  REQUIRE(a.at(0).page.cameras.size() == 1);
  CHECK(f.table.subscription_count() == 1);
  auto hid = f.table.agent_message(kAgent, proto::Status{"cam0002", 0, 0, 0, 640, 480, false});
  CHECK(sent<proto::CameraUpdate>(hid, kViewer).empty());
}

TEST_CASE("a page that fell behind gets a fresh copy of what it shows") {
  Fixture f;
  f.table.agent_hello(kAgent, fleet_hello("a", 0, 3));
  f.table.viewer_joined(kViewer);
  auto copy = f.table.resync(kViewer);
  REQUIRE(sent<proto::CameraUpdate>(copy, kViewer).at(0).cameras.size() == 3);
  CHECK(sent<proto::TotalsUpdate>(copy, kViewer).at(0).totals.cameras == 3);
  // A page gone: nothing, and its subscriptions are gone with it.
  f.table.viewer_gone(kViewer);
  CHECK(f.table.resync(kViewer).sends.empty());
  CHECK(f.table.subscription_count() == 0);
}

// ---- several relays on one broker: a session across two relays ----

TEST_CASE("a viewer on one relay watches a camera whose agent is on another") {
  Fixture a, b;  // relay "A" holds the agent, relay "B" serves the page
  auto hello = a.table.agent_hello(kAgent, Fixture::hello("cam"));
  CHECK(hello.held == std::vector<std::string>{"cam"});
  // B hears (over the broker) that A holds it: listed, connected, watchable.
  b.table.viewer_joined(kViewer);
  auto held = b.table.camera_holder("cam", "A");
  REQUIRE(sent<proto::CameraUpdate>(held, kViewer).size() == 1);
  CHECK(b.table.cameras()[0].connected);
  CHECK(b.table.cameras()[0].online);

  auto watch = b.table.viewer_message(kViewer, proto::Watch{"r1", "cam", "offer-sdp"}, 0);
  const auto session = sent<proto::SessionStarted>(watch, kViewer).at(0).session;
  REQUIRE(watch.remote.size() == 1);
  CHECK(watch.remote[0].relay == "A");
  REQUIRE(std::holds_alternative<proto::Offer>(watch.remote[0].message));

  // A hands the offer to its agent; the answer and candidates go back through B.
  auto offered = a.table.relay_message("B", watch.remote[0].message);
  CHECK(sent<proto::Offer>(offered, kAgent).at(0).session == session);
  CHECK(a.table.cameras()[0].viewers == 1);
  auto answered = a.table.agent_message(kAgent, proto::Answer{session, "answer-sdp"});
  REQUIRE(answered.remote.size() == 1);
  CHECK(answered.remote[0].relay == "B");
  auto delivered = b.table.relay_message("A", answered.remote[0].message);
  CHECK(sent<proto::Answer>(delivered, kViewer).at(0).sdp == "answer-sdp");
  auto candidate = b.table.viewer_message(kViewer, proto::Ice{session, "candidate:v", 0}, 0);
  auto at_agent = a.table.relay_message("B", candidate.remote.at(0).message);
  CHECK(sent<proto::Ice>(at_agent, kAgent).at(0).candidate == "candidate:v");
  // Only the relay a session goes through may speak for it.
  CHECK(sent<proto::Ice>(a.table.relay_message("C", candidate.remote.at(0).message), kAgent).empty());

  // A dies: B ends the page's session (camera_offline) and the camera is no longer connected.
  auto gone = b.table.relay_gone("A");
  auto ends = sent<proto::SessionEnd>(gone, kViewer);
  REQUIRE(ends.size() == 1);
  CHECK(ends[0].reason == "camera_offline");
  CHECK_FALSE(b.table.cameras()[0].connected);
  CHECK(b.table.session_count() == 0);
  // And a page leaving B ends its agent's side on A: the other way round.
  b.table.camera_holder("cam", "A");
  auto again = b.table.viewer_message(kViewer, proto::Watch{"r2", "cam", "sdp"}, 0);
  a.table.relay_message("B", again.remote.at(0).message);
  auto left = b.table.viewer_gone(kViewer);
  REQUIRE(left.remote.size() == 1);
  auto ended = a.table.relay_message("B", left.remote[0].message);
  CHECK(sent<proto::SessionEnd>(ended, kAgent).at(0).reason == "viewer_gone");
}

TEST_CASE("an offer for a camera this relay does not hold is turned down to its relay") {
  Fixture a;
  auto refused = a.table.relay_message("B", proto::Offer{"s9", "nowhere", "sdp", {}});
  REQUIRE(refused.remote.size() == 1);
  CHECK(refused.remote[0].relay == "B");
  CHECK(std::get<proto::SessionEnd>(refused.remote[0].message).reason == "camera_offline");
  // An agent leaving releases its cameras (the other relays are told).
  a.table.agent_hello(kAgent, Fixture::hello("cam"));
  CHECK(a.table.agent_gone(kAgent).released == std::vector<std::string>{"cam"});
  CHECK(a.table.held_cameras().empty());
}

TEST_CASE("talking back through a camera's speaker is an operator's: the offer says whether this viewer may") {
  Fixture f;
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.viewer_joined(kViewer, {}, "", auth::Role::Viewer);
  f.table.viewer_joined(kViewer2, {}, "", auth::Role::Operator);
  auto as_viewer = sent<proto::Offer>(f.table.viewer_message(kViewer, proto::Watch{"r1", "cam", "sdp"}, 0), kAgent);
  auto as_operator = sent<proto::Offer>(f.table.viewer_message(kViewer2, proto::Watch{"r2", "cam", "sdp"}, 0), kAgent);
  REQUIRE(as_viewer.size() == 1);
  REQUIRE(as_operator.size() == 1);
  CHECK_FALSE(as_viewer[0].talk);
  CHECK(as_operator[0].talk);
  // It survives the wire (and a relay between: cluster signals carry offers as they are).
  CHECK(std::get<proto::Offer>(*proto::parse_relay_to_agent(proto::to_json(as_operator[0]))).talk);
  CHECK_FALSE(std::get<proto::Offer>(*proto::parse_relay_to_agent(proto::to_json(as_viewer[0]))).talk);
}

namespace {
// A relay that holds a page's answered sessions for 15 s after its socket closes.
struct HoldingFixture {
  int next = 0;
  SessionTable table{{}, 10000, Limits{.session_hold_ms = 15000}, [this] { return "s" + std::to_string(++next); }};
};

// An answered session of "cam" on one relay, its page kViewer (from 10.0.2.2): its id.
std::string session_here(HoldingFixture &f) {
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.viewer_joined(kViewer, {}, "10.0.2.2");
  auto watched = f.table.viewer_message(kViewer, proto::Watch{"r1", "cam", "offer-sdp"}, 0);
  const auto s = sent<proto::SessionStarted>(watched, kViewer).at(0).session;
  f.table.agent_message(kAgent, proto::Answer{s, "answer-sdp"});
  return s;
}

// An answered session of "cam" whose agent is on `a` (relay "A") and whose page
// (kViewer) is on `b` (relay "B"): its id.
std::string session_across(HoldingFixture &a, HoldingFixture &b) {
  a.table.agent_hello(kAgent, Fixture::hello("cam"));
  b.table.viewer_joined(kViewer);
  b.table.camera_holder("cam", "A");
  auto watch = b.table.viewer_message(kViewer, proto::Watch{"r1", "cam", "offer-sdp"}, 0);
  const auto s = sent<proto::SessionStarted>(watch, kViewer).at(0).session;
  a.table.relay_message("B", watch.remote.at(0).message);
  b.table.relay_message("A", a.table.agent_message(kAgent, proto::Answer{s, "answer-sdp"}).remote.at(0).message);
  return s;
}
}  // namespace

TEST_CASE("a page's session outlives its socket and its new socket takes it back with a restart") {
  HoldingFixture f;
  const auto s = session_here(f);
  f.table.tick(1000);

  // The page's network changed: its socket died. The camera is not told; the session waits.
  auto gone = f.table.viewer_gone(kViewer);
  CHECK(sent<proto::SessionEnd>(gone, kAgent).empty());
  CHECK(f.table.session_count() == 1);
  CHECK(f.table.held_session_count() == 1);
  CHECK(f.table.cameras()[0].viewers == 1);
  // Nothing for the page meanwhile goes anywhere (its socket is gone).
  auto candidate = f.table.agent_message(kAgent, proto::Ice{s, "candidate:a", 0});
  CHECK(candidate.sends.empty());

  // Its new socket, from another address, restarts ICE on it: the offer goes to the
  // agent as a restart, and the agent's answer and candidates come to the new socket.
  f.table.viewer_joined(kViewer2, {}, "10.0.3.2");
  auto restarted = f.table.viewer_message(kViewer2, proto::Restart{s, "restart-sdp"}, 5000);
  auto offers = sent<proto::Offer>(restarted, kAgent);
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].restart);
  CHECK(offers[0].session == s);
  CHECK(offers[0].sdp == "restart-sdp");
  CHECK(f.table.held_session_count() == 0);
  CHECK(sent<proto::Answer>(f.table.agent_message(kAgent, proto::Answer{s, "answer-2"}), kViewer2).at(0).sdp ==
        "answer-2");
  CHECK(sent<proto::Ice>(f.table.viewer_message(kViewer2, proto::Ice{s, "candidate:v", 0}, 5000), kAgent).size() == 1);
  // Held past the hold, it would have ended; taken back, it does not.
  CHECK(sent<proto::SessionEnd>(f.table.tick(30000), kAgent).empty());
  CHECK(f.table.session_count() == 1);
  // It is the new socket's now: its stop ends it, and the old socket's end would not have.
  auto stopped = f.table.viewer_message(kViewer2, proto::Stop{s}, 31000);
  CHECK(sent<proto::SessionEnd>(stopped, kAgent).at(0).reason == "viewer_left");
  CHECK(f.table.cameras()[0].viewers == 0);
}

TEST_CASE("a held session nobody takes back ends after the hold") {
  HoldingFixture f;
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.viewer_joined(kViewer);
  auto watched = f.table.viewer_message(kViewer, proto::Watch{"r1", "cam", "offer-sdp"}, 0);
  const auto s = sent<proto::SessionStarted>(watched, kViewer).at(0).session;
  // An unanswered session is not held: it ends with the socket, as before.
  auto watched2 = f.table.viewer_message(kViewer, proto::Watch{"r2", "cam", "offer-sdp"}, 0);
  const auto unanswered = sent<proto::SessionStarted>(watched2, kViewer).at(0).session;
  f.table.agent_message(kAgent, proto::Answer{s, "answer-sdp"});
  f.table.tick(1000);
  auto gone = f.table.viewer_gone(kViewer);
  auto ended_now = sent<proto::SessionEnd>(gone, kAgent);
  REQUIRE(ended_now.size() == 1);
  CHECK(ended_now[0].session == unanswered);
  CHECK(sent<proto::SessionEnd>(f.table.tick(15000), kAgent).empty());
  auto late = sent<proto::SessionEnd>(f.table.tick(16500), kAgent);
  REQUIRE(late.size() == 1);
  CHECK(late[0].session == s);
  CHECK(late[0].reason == "viewer_gone");
  CHECK(f.table.session_count() == 0);
  CHECK(f.table.held_session_count() == 0);
  CHECK(f.table.cameras()[0].viewers == 0);
}

TEST_CASE("a restart needs the session's id and a token that may see its camera") {
  HoldingFixture f;
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  f.table.agent_hello(kAgent2, Fixture::hello("other"));
  f.table.viewer_joined(kViewer);
  auto watched = f.table.viewer_message(kViewer, proto::Watch{"r1", "cam", "offer-sdp"}, 0);
  const auto s = sent<proto::SessionStarted>(watched, kViewer).at(0).session;
  f.table.agent_message(kAgent, proto::Answer{s, "answer-sdp"});
  f.table.viewer_gone(kViewer);

  // An id nobody was given.
  f.table.viewer_joined(kViewer2);
  auto unknown = f.table.viewer_message(kViewer2, proto::Restart{"s999", "sdp"}, 0);
  CHECK(sent<proto::Error>(unknown, kViewer2).at(0).code == "unknown_session");
  CHECK(sent<proto::Offer>(unknown, kAgent).empty());
  // A socket whose token is scoped to another camera: as if the session did not exist.
  constexpr PeerId kScoped = 12;
  f.table.viewer_joined(kScoped, {"other"});
  auto scoped = f.table.viewer_message(kScoped, proto::Restart{s, "sdp"}, 0);
  CHECK(sent<proto::Error>(scoped, kScoped).at(0).code == "unknown_session");
  CHECK(sent<proto::Offer>(scoped, kAgent).empty());
  CHECK(f.table.held_session_count() == 1);
  // A WHEP viewer does not take a page's session.
  constexpr PeerId kWhep = 13;
  f.table.viewer_joined(kWhep, {}, "", auth::Role::Viewer, 0, SessionTable::ViewerKind::Whep);
  CHECK(sent<proto::Error>(f.table.viewer_message(kWhep, proto::Restart{s, "sdp"}, 0), kWhep).at(0).code ==
        "unknown_session");
}

TEST_CASE("a restart for a session whose agent is on another relay goes there, and back") {
  HoldingFixture a, b;  // relay "A" holds the agent, relay "B" serves the page
  const auto s = session_across(a, b);

  // The page's socket on B dies and a new one (on B again) restarts.
  b.table.viewer_gone(kViewer);
  b.table.viewer_joined(kViewer2);
  auto restart = b.table.viewer_message(kViewer2, proto::Restart{s, "restart-sdp"}, 0);
  REQUIRE(restart.remote.size() == 1);
  CHECK(restart.remote[0].relay == "A");
  auto at_agent = a.table.relay_message("B", restart.remote[0].message);
  auto offers = sent<proto::Offer>(at_agent, kAgent);
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].restart);
  CHECK(a.table.session_count() == 1);  // the same session, not a second
  auto answer2 = a.table.agent_message(kAgent, proto::Answer{s, "answer-2"});
  auto back = b.table.relay_message("A", answer2.remote.at(0).message);
  CHECK(sent<proto::Answer>(back, kViewer2).at(0).sdp == "answer-2");
  // A restart for another camera's session, or for a session there is none of, is turned down.
  proto::Offer other = std::get<proto::Offer>(restart.remote[0].message);
  other.camera = "cam2";
  auto stray = a.table.relay_message("C", other);
  CHECK(sent<proto::Offer>(stray, kAgent).empty());
  CHECK(std::get<proto::SessionEnd>(stray.remote.at(0).message).reason == "unknown_session");
  other.camera = "cam";
  other.session = "0123456789abcdef0123456789abcdef";
  CHECK(std::get<proto::SessionEnd>(a.table.relay_message("C", other).remote.at(0).message).reason ==
        "unknown_session");
}

TEST_CASE("a camera whose address changed has its viewer renew the session on a new connection") {
  HoldingFixture f;
  const auto s = session_here(f);

  // The agent's word reaches the page; the page's new offer reaches the agent as a renewal.
  CHECK(sent<proto::Renew>(f.table.agent_message(kAgent, proto::Renew{s}), kViewer).at(0).session == s);
  auto offers = sent<proto::Offer>(f.table.viewer_message(kViewer, proto::Restart{s, "new-pc", true}, 100), kAgent);
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].restart);
  CHECK(offers[0].renew);
  CHECK(offers[0].sdp == "new-pc");
  CHECK(f.table.session_count() == 1);
  // A plain restart stays one.
  CHECK_FALSE(sent<proto::Offer>(f.table.viewer_message(kViewer, proto::Restart{s, "sdp"}, 200), kAgent).at(0).renew);
  // Only for the agent's own sessions.
  auto stray = f.table.agent_message(kAgent, proto::Renew{"0123456789abcdef0123456789abcdef"});
  CHECK(sent<proto::Error>(stray, kAgent).at(0).code == "unknown_session");
  CHECK(sent<proto::Renew>(stray, kViewer).empty());
}

TEST_CASE("a renewal crosses relays both ways") {
  HoldingFixture a, b;  // relay "A" holds the agent, relay "B" serves the page
  const auto s = session_across(a, b);

  auto word = a.table.agent_message(kAgent, proto::Renew{s});
  REQUIRE(word.remote.size() == 1);
  CHECK(word.remote[0].relay == "B");
  CHECK(sent<proto::Renew>(b.table.relay_message("A", word.remote[0].message), kViewer).at(0).session == s);
  auto restart = b.table.viewer_message(kViewer, proto::Restart{s, "new-pc", true}, 0);
  auto offers = sent<proto::Offer>(a.table.relay_message("B", restart.remote.at(0).message), kAgent);
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].renew);
  // From a relay the session does not go through: nobody is told.
  CHECK(sent<proto::Renew>(b.table.relay_message("C", word.remote[0].message), kViewer).empty());
}

TEST_CASE("an agent whose link died with its address takes its sessions to its new link") {
  HoldingFixture f;
  const auto s = session_here(f);

  // Its new link's hello names the session it kept (and one the relay never had).
  auto hello = Fixture::hello("cam");
  const std::string stale = "0123456789abcdef0123456789abcdef";
  hello.sessions = {s, stale};
  auto again = f.table.agent_hello(kAgent2, hello);
  CHECK(sent<proto::SessionEnd>(again, kViewer).empty());  // the page is not told it ended
  auto ends = sent<proto::SessionEnd>(again, kAgent2);
  REQUIRE(ends.size() == 1);
  CHECK(ends[0].session == stale);
  CHECK(ends[0].reason == "unknown_session");
  CHECK(f.table.session_count() == 1);
  CHECK(f.table.cameras()[0].viewers == 1);
  // The old link closing ends nothing; the session is the new link's now.
  CHECK(sent<proto::SessionEnd>(f.table.agent_gone(kAgent), kViewer).empty());
  CHECK(sent<proto::Renew>(f.table.agent_message(kAgent2, proto::Renew{s}), kViewer).size() == 1);

  // A new link that names nothing (an agent that restarted) ends them, as before.
  f.table.agent_hello(kAgent, Fixture::hello("cam"));
  CHECK(f.table.session_count() == 0);
}

TEST_CASE("a page that reconnects to another relay takes its session over there") {
  HoldingFixture a, b, c;  // "A" holds the agent; the page starts on "B" and comes back on "C"
  const auto s = session_across(a, b);
  c.table.viewer_joined(kViewer2);
  c.table.camera_holder("cam", "A");
  b.table.viewer_gone(kViewer);  // held on B

  // On C, its restart names the camera: C asks A, which moves the page's end to C,
  // tells B to let go, and hands the restart to the agent.
  proto::Restart restart{s, "restart-sdp"};
  restart.camera = "cam";
  auto at_c = c.table.viewer_message(kViewer2, restart, 100);
  REQUIRE(at_c.remote.size() == 1);
  CHECK(at_c.remote[0].relay == "A");
  CHECK(c.table.session_count() == 1);
  auto at_a = a.table.relay_message("C", at_c.remote[0].message);
  auto offers = sent<proto::Offer>(at_a, kAgent);
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].restart);
  REQUIRE(at_a.remote.size() == 1);
  CHECK(at_a.remote[0].relay == "B");
  auto at_b = b.table.relay_message("A", at_a.remote[0].message);
  CHECK(at_b.sends.empty());  // nobody told: the page went on elsewhere
  CHECK(b.table.session_count() == 0);
  CHECK(b.table.held_session_count() == 0);
  // The agent's answer reaches the page on C.
  auto answer = a.table.agent_message(kAgent, proto::Answer{s, "answer-2"});
  REQUIRE(answer.remote.size() == 1);
  CHECK(answer.remote[0].relay == "C");
  CHECK(sent<proto::Answer>(c.table.relay_message("A", answer.remote[0].message), kViewer2).at(0).sdp == "answer-2");
  CHECK(a.table.session_count() == 1);
  CHECK(a.table.cameras()[0].viewers == 1);

  // A session the camera's relay does not have: the page hears so, and starts a new one.
  proto::Restart stale{"0123456789abcdef0123456789abcdef", "sdp"};
  stale.camera = "cam";
  auto asked = c.table.viewer_message(kViewer2, stale, 200);
  auto refused = a.table.relay_message("C", asked.remote.at(0).message);
  auto back = c.table.relay_message("A", refused.remote.at(0).message);
  CHECK(sent<proto::SessionEnd>(back, kViewer2).at(0).reason == "unknown_session");
  // Without the camera, or for one this token may not see, nothing is asked.
  CHECK(
      c.table.viewer_message(kViewer2, proto::Restart{"0123456789abcdef0123456789abcdee", "sdp"}, 300).remote.empty());
}

TEST_CASE("a page that comes back on the relay of its camera's agent takes its session over from its old relay") {
  HoldingFixture a, b;  // the agent on "A", the page on "B" first, then on "A"
  const auto s = session_across(a, b);

  a.table.viewer_joined(kViewer2);
  auto restarted = a.table.viewer_message(kViewer2, proto::Restart{s, "restart-sdp"}, 100);
  CHECK(sent<proto::Offer>(restarted, kAgent).at(0).restart);
  REQUIRE(restarted.remote.size() == 1);
  CHECK(std::get<proto::SessionEnd>(restarted.remote[0].message).reason == "taken_over");
  b.table.relay_message("A", restarted.remote[0].message);
  CHECK(b.table.session_count() == 0);
  CHECK(sent<proto::Answer>(a.table.agent_message(kAgent, proto::Answer{s, "answer-2"}), kViewer2).size() == 1);
}
