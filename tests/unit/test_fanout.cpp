// Fan-out at the relay (docs/fanout.md): when a camera's viewers go through a
// worker, the worker's own sessions, the pages moved over and back, and the
// policy that decides it.
#include "fanout_policy.hpp"
#include "sessions/session_table.hpp"
#include "table_messages.hpp"

#include <doctest/doctest.h>

using namespace sl;
using namespace sl::relay;
using sl::relay::testing::sent;

namespace {

constexpr PeerId kCamera = 1, kWorker = 2, kFeed = 9, kPage1 = 10, kPage2 = 11, kPage3 = 12, kWhep = 13;

struct Fixture {
  int next = 0;
  SessionTable table{{}, 10000, Limits{16, 64, 4, 0, 64}, [this] { return "s" + std::to_string(++next); }};
  int64_t now = 1000;

  explicit Fixture(FanoutPolicy policy = FanoutPolicy{}) {
    table.set_fanout(policy);
    proto::CameraInfo info{"cam", 640, 480, 30, "H264", "test", "x264enc"};
    table.agent_joined(kCamera, "");
    table.agent_hello(kCamera, proto::Hello{1, "cam", {info}});
    for (PeerId page : {kPage1, kPage2, kPage3}) table.viewer_joined(page);
  }
  Actions watch(PeerId viewer, const std::string &camera = "cam") {
    return table.viewer_message(viewer, proto::Watch{"r", camera, "offer"}, now);
  }
  static std::string session_of(const Actions &a, PeerId viewer) {
    auto started = sent<proto::SessionStarted>(a, viewer);
    REQUIRE(started.size() == 1);
    return started[0].session;
  }
  // The worker the table asked for connects, takes its feed and serves.
  std::string bring_up_worker(const Actions &asked) {
    REQUIRE(asked.start_workers.size() == 1);
    const std::string device = asked.start_workers[0].device;
    CHECK(asked.start_workers[0].camera == "cam");
    table.agent_joined(kWorker, "");
    auto welcome = table.agent_hello(
        kWorker, proto::Hello{1, device, {proto::CameraInfo{device, 640, 480, 30, "H264", "whep", "passthrough"}}});
    CHECK(sent<proto::AgentWelcome>(welcome, kWorker).size() == 1);
    CHECK(welcome.held.empty());  // not a camera of the fleet
    table.viewer_joined(kFeed, {}, "127.0.0.1", auth::Role::Viewer, 0, SessionTable::ViewerKind::Feed);
    auto feed = watch(kFeed);
    REQUIRE(sent<proto::Offer>(feed, kCamera).size() == 1);  // the feed comes from the camera itself
    CHECK(sent<proto::Offer>(feed, kCamera)[0].feed);        // its keyframe requests are its viewers'
    CHECK(!sent<proto::Offer>(feed, kCamera)[0].talk);
    CHECK(feed.start_workers.empty());
    return device;
  }
  proto::Status serving(const std::string &device, int branches = 0) {
    proto::Status st;
    st.camera = device;
    st.branches = branches;
    st.fps = 30;
    return st;
  }
};

}  // namespace

TEST_CASE("the fan-out policy: direct, relay, auto by viewers and by the uplink budget") {
  FanoutPolicy p;
  CHECK_FALSE(p.through_relay("cam", 2, 2000, 0));
  CHECK(p.through_relay("cam", 3, 2000, 0));
  CHECK(p.through_relay("cam", 2, 2000, 3000));  // two streams do not fit 3 Mbit/s
  CHECK_FALSE(p.through_relay("cam", 1, 2000, 3000));
  CHECK_FALSE(p.through_relay("cam", 5, 2000, 0, true));  // a speaker (talk-back): stays direct in auto
  p.cameras["cam"] = FanoutMode::Relay;
  CHECK(p.through_relay("cam", 1, 0, 0));
  CHECK(p.through_relay("cam", 1, 0, 0, true));
  p.mode = FanoutMode::Direct;
  CHECK_FALSE(p.through_relay("other", 50, 2000, 100));
  p.available = false;
  CHECK_FALSE(p.through_relay("cam", 1, 0, 0));

  auto parsed = parse_fanout_overrides({"a=relay", "dev/b=direct"});
  REQUIRE(parsed);
  CHECK(parsed->at("dev/b") == FanoutMode::Direct);
  CHECK_FALSE(parse_fanout_overrides({"a=sometimes"}));
  CHECK_FALSE(parse_fanout_overrides({"=relay"}));
  CHECK(is_fanout_device("_fanout.3"));
  CHECK_FALSE(is_fanout_device("fanout.3"));
}

TEST_CASE("past the threshold a worker starts, and once it serves the pages move to it") {
  Fixture f;
  const std::string s1 = Fixture::session_of(f.watch(kPage1), kPage1);
  auto second = f.watch(kPage2);
  CHECK(second.start_workers.empty());
  const std::string s2 = Fixture::session_of(second, kPage2);
  // The third viewer: served directly for now, and a worker is asked for.
  auto third = f.watch(kPage3);
  REQUIRE(sent<proto::Offer>(third, kCamera).size() == 1);
  CHECK(!sent<proto::Offer>(third, kCamera)[0].feed);  // a page: one viewer
  const std::string device = f.bring_up_worker(third);
  // A WHEP player watching directly stays where it is.
  f.table.viewer_joined(kWhep, {}, "127.0.0.1", auth::Role::Viewer, 0, SessionTable::ViewerKind::Whep);
  auto whep = f.watch(kWhep);
  REQUIRE(sent<proto::Offer>(whep, kCamera).size() == 1);
  CHECK(sent<proto::Offer>(whep, kCamera)[0].feed);  // a WHEP client may forward it
  CHECK(f.table.camera("cam")->viewers == 4);        // the feed is not a viewer

  // Not serving yet (no frames): nothing moves.
  auto idle = f.serving(device);
  idle.fps = 0;
  CHECK(sent<proto::SessionEnd>(f.table.agent_message(kWorker, idle), kPage1).empty());

  auto ready = f.table.agent_message(kWorker, f.serving(device));
  for (PeerId page : {kPage1, kPage2, kPage3}) {
    auto ended = sent<proto::SessionEnd>(ready, page);
    REQUIRE(ended.size() == 1);
    CHECK(ended[0].reason == "moved");
  }
  CHECK(sent<proto::SessionEnd>(ready, kCamera).size() == 3);  // the camera drops their branches
  CHECK(sent<proto::SessionEnd>(ready, kFeed).empty());
  CHECK(sent<proto::SessionEnd>(ready, kWhep).empty());
  CHECK(f.table.camera("cam")->fanout == "relay");

  // Asking again: the offer goes to the worker, for its own camera; the page still names "cam".
  auto again = f.watch(kPage1);
  auto started = sent<proto::SessionStarted>(again, kPage1);
  REQUIRE(started.size() == 1);
  CHECK(started[0].camera == "cam");
  auto offers = sent<proto::Offer>(again, kWorker);
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].camera == device);
  CHECK(sent<proto::Offer>(again, kCamera).empty());
  CHECK(f.table.relayed_session_count() == 1);
  // The worker's answer reaches the page; the camera cannot answer for it.
  auto answered = f.table.agent_message(kWorker, proto::Answer{started[0].session, "answer"});
  CHECK(sent<proto::Answer>(answered, kPage1).size() == 1);
  auto wrong = f.table.agent_message(kCamera, proto::Answer{started[0].session, "answer"});
  CHECK(sent<proto::Answer>(wrong, kPage1).empty());
  // The worker's figure is the camera's relay_branches.
  f.table.agent_message(kWorker, f.serving(device, 1));
  CHECK(f.table.camera("cam")->relay_branches == 1);
  (void)s1;
  (void)s2;
}

TEST_CASE("a worker nobody watches through is stopped after its idle time; a dead one sends its viewers back") {
  FanoutPolicy policy;
  policy.mode = FanoutMode::Relay;
  policy.idle_ms = 5000;
  Fixture f(policy);
  auto first = f.watch(kPage1);
  const std::string device = f.bring_up_worker(first);
  f.table.agent_message(kWorker, f.serving(device));
  const std::string relayed = Fixture::session_of(f.watch(kPage1), kPage1);
  CHECK(f.table.relayed_session_count() == 1);

  // The worker dies: the page is told to ask again, and is served directly.
  auto gone = f.table.agent_gone(kWorker);
  CHECK(sent<proto::SessionEnd>(gone, kCamera).size() == 1);  // its feed
  auto ended = sent<proto::SessionEnd>(gone, kPage1);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].session == relayed);
  CHECK(ended[0].reason == "moved");
  CHECK(gone.stop_workers == std::vector<std::string>{device});
  CHECK(f.table.camera("cam")->fanout == "direct");
  auto direct = f.watch(kPage1);
  CHECK(sent<proto::Offer>(direct, kCamera).size() == 1);
  CHECK(direct.start_workers.empty());  // not again at once after a failure

  // Past the wait, a new worker; it serves, the page moves; then everyone leaves.
  f.now += policy.retry_after_ms + 1;
  f.table.tick(f.now);
  auto later = f.watch(kPage2);
  REQUIRE(later.start_workers.size() == 1);
  f.table.agent_joined(kWorker + 100, "");
  const std::string device2 = later.start_workers[0].device;
  CHECK(device2 != device);
  f.table.agent_hello(
      kWorker + 100,
      proto::Hello{1, device2, {proto::CameraInfo{device2, 640, 480, 30, "H264", "whep", "passthrough"}}});
  CHECK(sent<proto::Offer>(f.watch(kFeed), kCamera).size() == 1);  // the new worker's feed
  f.table.agent_message(kWorker + 100, f.serving(device2));
  f.table.viewer_gone(kPage1);
  f.table.viewer_gone(kPage2);
  f.now += 1000;
  CHECK(f.table.tick(f.now).stop_workers.empty());
  f.now += policy.idle_ms + 1;
  auto stopped = f.table.tick(f.now);
  CHECK(stopped.stop_workers == std::vector<std::string>{device2});
  // Its feed from the camera ends with it.
  CHECK(sent<proto::SessionEnd>(stopped, kCamera).size() == 1);
  CHECK(f.table.worker_count() == 0);
}

TEST_CASE("only the worker the relay started may say it is one; the camera going offline stops its worker") {
  FanoutPolicy policy;
  policy.mode = FanoutMode::Relay;
  Fixture f(policy);
  // Nobody asked for this one.
  f.table.agent_joined(kWorker, "");
  auto impostor = f.table.agent_hello(kWorker, proto::Hello{1, "_fanout.7", {proto::CameraInfo{"_fanout.7"}}});
  CHECK(impostor.closes.size() == 1);
  CHECK(f.table.cameras().size() == 1);  // and it never shows as a camera

  auto first = f.watch(kPage1);
  const std::string device = f.bring_up_worker(first);
  // The same id a second time.
  f.table.agent_joined(kWorker + 1, "");
  auto twice = f.table.agent_hello(kWorker + 1, proto::Hello{1, device, {proto::CameraInfo{device}}});
  CHECK(twice.closes.size() == 1);
  // A worker that never serves is given up.
  f.now += policy.start_timeout_ms + 1;
  CHECK(f.table.tick(f.now).stop_workers == std::vector<std::string>{device});

  f.now += policy.retry_after_ms + 1;
  f.table.tick(f.now);
  auto again = f.watch(kPage2);
  REQUIRE(again.start_workers.size() == 1);
  auto off = f.table.agent_gone(kCamera);
  CHECK(off.stop_workers == std::vector<std::string>{again.start_workers[0].device});
}

TEST_CASE("the worker cannot be heard as a camera, nor talk-back go through it") {
  FanoutPolicy policy;
  policy.mode = FanoutMode::Relay;
  Fixture f(policy);
  auto first = f.watch(kPage1);
  const std::string device = f.bring_up_worker(first);
  f.table.agent_message(kWorker, f.serving(device));
  f.table.viewer_joined(kPage1 + 50, {}, "c", auth::Role::Operator);
  auto watched = f.watch(kPage1 + 50);
  auto offers = sent<proto::Offer>(watched, kWorker);
  REQUIRE(offers.size() == 1);
  CHECK_FALSE(offers[0].talk);
  CHECK_FALSE(f.table.has_camera(device));
  CHECK(f.table.list({}, proto::CameraQuery{}).total == 1);
}

TEST_CASE("a camera's uplink budget, sent in its hello, fans it out before the viewer threshold") {
  proto::CameraInfo info{"cam", 640, 480, 30, "H264", "test", "x264enc"};
  info.uplink_kbps = 3000;
  auto parsed = proto::parse_agent_to_relay(proto::to_json(proto::Hello{1, "cam", {info}}));
  REQUIRE(parsed);
  const auto &hello = std::get<proto::Hello>(*parsed);
  CHECK(hello.cameras.at(0).uplink_kbps == 3000);

  int next = 0;
  SessionTable table{{}, 10000, Limits{16, 64, 4, 0, 64}, [&next] { return "s" + std::to_string(++next); }};
  table.set_fanout(FanoutPolicy{});
  table.agent_joined(kCamera, "");
  table.agent_hello(kCamera, hello);
  proto::Status st;
  st.camera = "cam";
  st.fps = 30;
  st.configured_kbps = 2000;
  table.agent_message(kCamera, st);
  for (PeerId page : {kPage1, kPage2}) table.viewer_joined(page);
  // One 2000 kbit/s stream fits 3000; two do not.
  CHECK(table.viewer_message(kPage1, proto::Watch{"r", "cam", "offer"}, 0).start_workers.empty());
  CHECK(table.viewer_message(kPage2, proto::Watch{"r", "cam", "offer"}, 0).start_workers.size() == 1);
}

TEST_CASE("a camera with sound fans out with it; one with a speaker stays direct in auto") {
  for (const bool talk : {false, true}) {
    CAPTURE(talk);
    int next = 0;
    SessionTable table{{}, 10000, Limits{16, 64, 4, 0, 64}, [&next] { return "s" + std::to_string(++next); }};
    table.set_fanout(FanoutPolicy{});
    proto::CameraInfo info{"cam", 640, 480, 30, "H264", "test", "x264enc", "OPUS", talk};
    table.agent_joined(kCamera, "");
    table.agent_hello(kCamera, proto::Hello{1, "cam", {info}});
    for (PeerId page : {kPage1, kPage2, kPage3}) table.viewer_joined(page);
    table.viewer_message(kPage1, proto::Watch{"r", "cam", "offer"}, 0);
    table.viewer_message(kPage2, proto::Watch{"r", "cam", "offer"}, 0);
    auto third = table.viewer_message(kPage3, proto::Watch{"r", "cam", "offer"}, 0);
    if (talk) {
      CHECK(third.start_workers.empty());  // an operator's voice cannot go through a worker
    } else {
      REQUIRE(third.start_workers.size() == 1);
      CHECK(third.start_workers[0].sound);  // the worker takes the camera's sound too
    }
  }
}
