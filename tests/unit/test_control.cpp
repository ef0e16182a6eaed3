// The control plane's protocol: topics, command envelope, parameters, acks, state.
#include "control.hpp"

#include <doctest/doctest.h>

using namespace sl::control;

TEST_CASE("topics are prefix/camera/leaf and split back") {
  CHECK(topic("sightline", "cam1", Topic::Cmd) == "sightline/cam1/cmd");
  CHECK(topic("site/a", "cam1", Topic::Snapshot) == "site/a/cam1/snapshot");
  std::string camera;
  Topic which{};
  REQUIRE(split_topic("site/a", "site/a/cam-2/state", camera, which));
  CHECK(camera == "cam-2");
  CHECK(which == Topic::State);
  CHECK_FALSE(split_topic("sightline", "sightline/cam1/other", camera, which));
  CHECK_FALSE(split_topic("sightline", "other/cam1/ack", camera, which));
  CHECK_FALSE(split_topic("sightline", "sightline/ca m/ack", camera, which));
  // A camera of an agent with several spans two levels: DEVICE/NAME.
  CHECK(topic("sightline", "pi/front", Topic::Cmd) == "sightline/pi/front/cmd");
  REQUIRE(split_topic("sightline", "sightline/pi/front/state", camera, which));
  CHECK(camera == "pi/front");
  CHECK(which == Topic::State);
  CHECK_FALSE(split_topic("sightline", "sightline/pi/front/x/state", camera, which));
  CHECK_FALSE(split_topic("sightline", "sightline/pi/../state", camera, which));
  CHECK(valid_prefix("sightline"));
  CHECK(valid_prefix("home/cams"));
  CHECK_FALSE(valid_prefix("/x"));
  CHECK_FALSE(valid_prefix("a/#"));
  CHECK_FALSE(valid_prefix(""));
}

TEST_CASE("a command envelope round-trips") {
  Command c{"c-1", "set_video", R"({"width":640,"height":480})", 1700000000000, 5000};
  auto parsed = parse_command(to_json(c));
  REQUIRE(parsed.ok());
  const auto &back = (*parsed);
  CHECK(back.id == "c-1");
  CHECK(back.type == "set_video");
  CHECK(back.issued_at_ms == 1700000000000);
  CHECK(back.ttl_ms == 5000);
  CHECK(back.params == R"({"width":640,"height":480})");
}

TEST_CASE("the envelope: id, params, issued_at and ttl are optional, type is not") {
  auto minimal = parse_command(R"({"type":"snapshot"})");
  REQUIRE(minimal.ok());
  CHECK((*minimal).id.empty());
  CHECK((*minimal).ttl_ms == kDefaultTtlMs);
  CHECK((*minimal).params == "{}");

  auto no_type = parse_command(R"({"id":"x1"})");
  REQUIRE_FALSE(no_type.ok());
  CHECK(no_type.error().id == "x1");  // answered under its id
  CHECK(no_type.error().code == "bad_message");
  CHECK(no_type.error().param == "type");

  auto bad_ttl = parse_command(R"({"id":"x2","type":"snapshot","ttl_ms":-5})");
  REQUIRE_FALSE(bad_ttl.ok());
  CHECK(bad_ttl.error().param == "ttl_ms");

  CHECK(parse_command("{not json").error().code == "bad_message");
  CHECK(parse_command(R"({"type":"snapshot","params":[1]})").error().param == "params");
  CHECK(parse_command(std::string(20000, ' ')).error().code == "bad_message");
}

TEST_CASE("parameters are checked per type and the faulty one is named") {
  auto ok = parse_params("set_video", R"({"width":640,"height":480,"bitrate":800})");
  REQUIRE(ok.ok());
  const auto &v = std::get<SetVideo>((*ok));
  CHECK(v.width == 640);
  CHECK(v.height == 480);
  CHECK(v.bitrate_kbps == 800);
  CHECK_FALSE(v.fps.has_value());

  auto expect_bad = [](const char *type, const char *params, const char *param) {
    auto r = parse_params(type, params);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "bad_params");
    CHECK(r.error().param == param);
  };
  expect_bad("set_video", R"({"width":"big","height":480})", "width");
  expect_bad("set_video", R"({"width":641,"height":480})", "width");
  expect_bad("set_video", R"({"width":640})", "height");
  expect_bad("set_video", R"({"fps":0})", "fps");
  expect_bad("set_video", R"({"bitrate":10})", "bitrate");
  expect_bad("set_video", R"({"colour":1})", "colour");
  expect_bad("set_video", R"({})", "params");
  expect_bad("snapshot", R"({"quality":90})", "quality");
  expect_bad("set_controls", R"({"Bright ness":1})", "Bright ness");
  expect_bad("set_controls", R"({"brightness":1.5})", "brightness");

  auto controls = parse_params("set_controls", R"({"brightness":10,"exposure_time_absolute":250})");
  REQUIRE(controls.ok());
  CHECK(std::get<SetControls>((*controls)).values.size() == 2);

  auto unknown = parse_params("self_destruct", "{}");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == "unknown_type");
  for (const char *type : kCommandTypes)
    CHECK(parse_params(type, "{}").ok() == !(std::string(type) == "set_video" || std::string(type) == "set_controls"));
}

TEST_CASE("acks round-trip, ok with a result and error with a code") {
  Ack ok = ok_ack(R"({"width":640})");
  ok.id = "c-1";
  ok.type = "set_video";
  ok.camera = "cam1";
  ok.acked_at_ms = 1700000000123;
  auto back = parse_ack(to_json(ok));
  REQUIRE_MESSAGE(back, back.error());
  CHECK(*back == ok);

  Ack bad = error_ack("bad_params", "set_video: field width: must be a number", "width");
  bad.id = "c-2";
  bad.type = "set_video";
  back = parse_ack(to_json(bad));
  REQUIRE_MESSAGE(back, back.error());
  CHECK(*back == bad);
  auto maybe = parse_ack(R"({"id":"x","status":"maybe"})");
  REQUIRE_FALSE(maybe);
  CHECK(maybe.error().find("status") != std::string::npos);
}

TEST_CASE("state round-trips; offline state carries only the camera") {
  CameraState s;
  s.camera = "cam1";
  s.online = true;
  s.pipeline = "playing";
  s.source = "test";
  s.encoder = "x264enc";
  s.codec = "H264";
  s.width = 1280;
  s.height = 720;
  s.fps = 30;
  s.fps_target = 30;
  s.bitrate_kbps = 1987;
  s.bitrate_target_kbps = 2000;
  s.configured_kbps = 2000;
  s.target_kbps = 1200;
  s.lower = {640, 360, 540, 1};
  s.viewers = 2;
  s.uptime_s = 42;
  s.keyframes = 7;
  s.restarts = 1;
  s.controls = {{"brightness", 10, -64, 64, 1}};
  s.updated_at_ms = 1700000000000;
  auto back = parse_state(to_json(s));
  REQUIRE_MESSAGE(back, back.error());
  CHECK(*back == s);

  // A failed camera says why; a reason too long for a reader is cut to what it takes.
  s.pipeline = "failed";
  s.error = "Cannot open camera /dev/video7: no such device.";
  back = parse_state(to_json(s));
  REQUIRE_MESSAGE(back, back.error());
  CHECK(*back == s);
  s.error = std::string(5000, 'x');
  back = parse_state(to_json(s));
  REQUIRE_MESSAGE(back, back.error());
  CHECK(back->error == std::string(kMaxStateError, 'x'));
  s.error = std::string(kMaxStateError - 1, 'x') + "é";  // the last character does not fit whole
  CHECK(parse_state(to_json(s))->error == std::string(kMaxStateError - 1, 'x'));

  CameraState offline;
  offline.camera = "cam1";
  back = parse_state(to_json(offline));
  REQUIRE_MESSAGE(back, back.error());
  CHECK_FALSE(back->online);
  CHECK_FALSE(parse_state(R"({"camera":"cam1","online":true})"));
}

TEST_CASE("params json-glib cannot write back as JSON are refused, not emptied") {
  // json-glib writes 4e80 as "4e+80.0": keeping that text would lose the params.
  const auto c = parse_command(R"({"id":"n1","type":"set_controls","params":{"brightness":4e80}})");
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().code == "bad_message");
  CHECK(c.error().message.find("params") != std::string::npos);
}

TEST_CASE("a device's state lists its cameras, and only its own") {
  CameraState device;
  device.camera = "pi";
  device.online = false;
  device.cameras = {"pi/front", "pi/back"};
  device.updated_at_ms = 5;
  auto back = parse_state(to_json(device));
  REQUIRE(back.ok());
  CHECK(*back == device);
  device.online = true;  // online too, with nothing else
  CHECK(parse_state(to_json(device)).ok());
  CHECK_FALSE(parse_state(R"({"camera":"pi","online":false,"cameras":["other/front"]})").ok());
  CHECK_FALSE(parse_state(R"({"camera":"pi","online":false,"cameras":[]})").ok());
}

TEST_CASE("a state's configured and target bitrates are optional, whole and bounded") {
  const std::string head =
      R"({"camera":"cam","online":true,"pipeline":"playing","source":"test","encoder":"x264enc","codec":"H264",)"
      R"("width":640,"height":480,"fps":30,"fps_target":30,"bitrate_kbps":900,"bitrate_target_kbps":2000,)"
      R"("viewers":1,"uptime_s":1,"keyframes":1,"restarts":0,"controls":[],"updated_at":1)";
  auto older = parse_state(head + "}");  // an older agent's: unknown
  REQUIRE_MESSAGE(older, older.error());
  CHECK(older->configured_kbps == 0);
  CHECK(older->target_kbps == 0);
  auto read = parse_state(head + R"(,"configured_kbps":2000,"target_kbps":950})");
  REQUIRE_MESSAGE(read, read.error());
  CHECK(read->configured_kbps == 2000);
  CHECK(read->target_kbps == 950);
  auto bad = parse_state(head + R"(,"target_kbps":-1})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().find("target_kbps") != std::string::npos);
  CHECK_FALSE(parse_state(head + R"(,"configured_kbps":"2000"})").ok());
}

TEST_CASE("a state's figures are whole numbers both ways: what is read writes back the same") {
  // Found by fuzz_signaling: a fractional fps read as it was, written rounded.
  auto read = parse_state(
      R"({"camera":"cam","online":true,"pipeline":"playing","source":"test","encoder":"x264enc","codec":"H264",)"
      R"("width":640,"height":480,"fps":0.3,"fps_target":30,"bitrate_kbps":1.6,"bitrate_target_kbps":2,"viewers":0,)"
      R"("uptime_s":1,"keyframes":1,"restarts":0,"controls":[],"updated_at":1})");
  REQUIRE(read.ok());
  CHECK(read->fps == 0);
  CHECK(read->bitrate_kbps == 2);
  auto again = parse_state(to_json(*read));
  REQUIRE(again.ok());
  CHECK(*again == *read);
}
