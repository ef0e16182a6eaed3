// Protocol messages: round trips, and every kind of bad input named precisely.
#include "protocol.hpp"

#include <doctest/doctest.h>

using namespace sl::proto;

template <typename V, typename T>
const T &as(const Parsed<V> &p) {
  REQUIRE(p.ok());
  const V &v = *p;
  REQUIRE(std::holds_alternative<T>(v));
  return std::get<T>(v);
}

template <typename V>
ParseError error_of(const Parsed<V> &p) {
  REQUIRE_FALSE(p.ok());
  return p.error();
}

TEST_CASE("every message survives a round trip through JSON") {
  CameraInfo cam{"cam-1", 1280, 720, 30, "H264", "test", "x264enc"};
  Hello hello{1, "agent-1", {cam}};
  CHECK(as<AgentToRelay, Hello>(parse_agent_to_relay(to_json(hello))) == hello);
  CHECK(to_json(hello).find("sessions") == std::string::npos);
  hello.sessions = {"0123456789abcdef0123456789abcdef"};  // kept across a new link
  CHECK(as<AgentToRelay, Hello>(parse_agent_to_relay(to_json(hello))) == hello);
  CHECK(error_of(
            parse_agent_to_relay(R"({"type":"hello","protocol":1,"agent":"a","cameras":[],"sessions":["not an id"]})"))
            .message.find("sessions") != std::string::npos);

  Offer offer{
      "s1", "cam-1", "v=0\r\n", {IceServer{{"stun:127.0.0.1:3478"}, "", ""}, IceServer{{"turn:h:1"}, "u", "p"}}};
  CHECK(as<RelayToAgent, Offer>(parse_relay_to_agent(to_json(offer))) == offer);
  CHECK(to_json(offer).find("feed") == std::string::npos);  // a viewer's: not said
  offer.feed = true;                                        // the relay's fan-out worker's
  offer.talk = true;
  CHECK(as<RelayToAgent, Offer>(parse_relay_to_agent(to_json(offer))) == offer);
  CHECK(to_json(offer).find("restart") == std::string::npos);  // a first offer: not said
  offer.restart = true;                                        // the viewer's ICE restart
  CHECK(as<RelayToAgent, Offer>(parse_relay_to_agent(to_json(offer))) == offer);
  CHECK(to_json(offer).find("renew") == std::string::npos);
  offer.renew = true;  // on a new connection, as the agent asked
  CHECK(as<RelayToAgent, Offer>(parse_relay_to_agent(to_json(offer))) == offer);
  // A renewal is a restart's: a first offer saying it is refused.
  CHECK(error_of(parse_relay_to_agent(
                     R"({"type":"offer","session":"s1","camera":"c","sdp":"v=0","ice_servers":[],"renew":true})"))
            .message.find("renew") != std::string::npos);

  Renew renew{"s1"};  // the agent's word, through the relay to the page
  CHECK(as<AgentToRelay, Renew>(parse_agent_to_relay(to_json(renew))) == renew);
  CHECK(as<RelayToViewer, Renew>(parse_relay_to_viewer(to_json(renew))) == renew);
  Restart renewed{"s1", "v=0\r\n", true};
  CHECK(as<ViewerToRelay, Restart>(parse_viewer_to_relay(to_json(renewed))) == renewed);
  renewed.camera = "cam-1";  // lets another relay of the broker take the session over
  CHECK(as<ViewerToRelay, Restart>(parse_viewer_to_relay(to_json(renewed))) == renewed);
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"restart","session":"s1","sdp":"v=0","camera":"a/b/c"})"))
            .message.find("camera") != std::string::npos);

  Answer answer{"s1", "v=0\r\nanswer"};
  CHECK(as<AgentToRelay, Answer>(parse_agent_to_relay(to_json(answer))) == answer);
  CHECK(as<RelayToViewer, Answer>(parse_relay_to_viewer(to_json(answer))) == answer);

  Ice ice{"s1", "candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host", 0};
  CHECK(as<ViewerToRelay, Ice>(parse_viewer_to_relay(to_json(ice))) == ice);
  CHECK(as<RelayToAgent, Ice>(parse_relay_to_agent(to_json(ice))) == ice);

  Status status{"cam-1", 3, 30, 1988, 1280, 720};
  CHECK(as<AgentToRelay, Status>(parse_agent_to_relay(to_json(status))) == status);
  Status failed{"cam-1", 0, 0, 0, 1280, 720, false};
  CHECK(as<AgentToRelay, Status>(parse_agent_to_relay(to_json(failed))) == failed);

  CameraEntry entry{cam, true, true, 2, 2, 30.0, 2000.0, std::nullopt};
  sl::control::CameraState state;
  state.camera = "cam-1";
  state.online = true;
  state.pipeline = "playing";
  state.width = 1280;
  state.height = 720;
  state.updated_at_ms = 1700000000000;
  CameraEntry with_state{cam, true, false, 0, 0, 0.0, 0.0, state};
  CHECK(as<RelayToViewer, CameraUpdate>(parse_relay_to_viewer(to_json(CameraUpdate{{with_state}}))).cameras[0] ==
        with_state);

  CommandRequest command{"c1", "cam-1", "set_video", R"({"width":640,"height":480})", 5000};
  CHECK(as<ViewerToRelay, CommandRequest>(parse_viewer_to_relay(to_json(command))) == command);
  sl::control::Ack ack = sl::control::error_ack("timeout", "no answer");
  ack.id = "r1-1";
  ack.type = "set_video";
  CommandResult result{"c1", "cam-1", ack};
  CHECK(as<RelayToViewer, CommandResult>(parse_relay_to_viewer(to_json(result))) == result);
  const CameraPage page{{entry}, 40, 24, Totals{100, 60, 40, 3}};
  ViewerWelcome welcome{{IceServer{{"stun:x:1"}, "", ""}}, page};
  CHECK(as<RelayToViewer, ViewerWelcome>(parse_relay_to_viewer(to_json(welcome))) == welcome);
  CHECK(to_json(welcome).find("sync_delay_ms") == std::string::npos);  // not said: absent
  welcome.sync_delay_ms = 400;
  CHECK(to_json(welcome).find(R"("sync_delay_ms":400)") != std::string::npos);
  CHECK(as<RelayToViewer, ViewerWelcome>(parse_relay_to_viewer(to_json(welcome))) == welcome);
  auto with_delay = [&](const std::string &value) {
    std::string text = to_json(welcome);
    return text.replace(text.find(R"("sync_delay_ms":400)"), 19, "\"sync_delay_ms\":" + value);
  };
  CHECK(parse_relay_to_viewer(with_delay("4000")));
  CHECK(!parse_relay_to_viewer(with_delay("4001")));
  CHECK(!parse_relay_to_viewer(with_delay("\"400\"")));
  CHECK(as<RelayToViewer, Cameras>(parse_relay_to_viewer(to_json(Cameras{"s1", page}))) == Cameras{"s1", page});
  CHECK(as<RelayToViewer, TotalsUpdate>(parse_relay_to_viewer(to_json(TotalsUpdate{page.totals}))).totals ==
        page.totals);
  Subscribe by_query{"s2", {}, CameraQuery{"porch", false, 48, 24}};
  CHECK(as<ViewerToRelay, Subscribe>(parse_viewer_to_relay(to_json(by_query))) == by_query);
  Subscribe by_ids{"s3", {"cam-1", "cam-2"}, CameraQuery{}};
  CHECK(as<ViewerToRelay, Subscribe>(parse_viewer_to_relay(to_json(by_ids))) == by_ids);

  Watch watch{"r1", "cam-1", "v=0\r\n"};
  CHECK(as<ViewerToRelay, Watch>(parse_viewer_to_relay(to_json(watch))) == watch);
  SessionStarted started{"r1", "s1", "cam-1"};
  CHECK(as<RelayToViewer, SessionStarted>(parse_relay_to_viewer(to_json(started))) == started);
  CHECK(as<ViewerToRelay, Stop>(parse_viewer_to_relay(to_json(Stop{"s1"}))).session == "s1");
  Restart restart{"s1", "v=0\r\nrestart"};
  CHECK(as<ViewerToRelay, Restart>(parse_viewer_to_relay(to_json(restart))) == restart);
  CHECK(!parse_viewer_to_relay(R"({"type":"restart","session":"s1"})"));                // no offer
  CHECK(!parse_viewer_to_relay(R"({"type":"restart","session":"../x","sdp":"v=0"})"));  // not an id
  SessionEnd end{"s1", "viewer_left"};
  CHECK(as<RelayToViewer, SessionEnd>(parse_relay_to_viewer(to_json(end))) == end);
  Error err{"unknown_camera", "no such camera", "", "r1"};
  CHECK(as<RelayToViewer, Error>(parse_relay_to_viewer(to_json(err))) == err);
  CHECK(std::holds_alternative<Heartbeat>(*parse_viewer_to_relay(R"({"type":"heartbeat"})")));
}

TEST_CASE("a page of the camera list says how many match and the totals") {
  CameraEntry e{{"a", 640, 480, 30, "H264", "test", "x264enc"}, false, 0, 0, 0, 0};
  const std::string json = page_to_json(CameraPage{{e}, 7, 5, Totals{9, 2, 7, 1}}, 1);
  CHECK(json.find("\"cameras\":[{\"id\":\"a\"") != std::string::npos);
  CHECK(json.find("\"online\":false") != std::string::npos);
  CHECK(json.find("\"total\":7,\"offset\":5") != std::string::npos);
  CHECK(json.find("\"totals\":{\"cameras\":9,\"online\":2,\"offline\":7,\"watched\":1}") != std::string::npos);
  CHECK(json.find("\"limit\":1") != std::string::npos);
}

TEST_CASE("a subscription is checked as it is read") {
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"subscribe","ids":[]})")).message.find("must not be empty") !=
        std::string::npos);
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"subscribe","ids":["a b"]})")).code == "bad_message");
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"subscribe","limit":0})")).code == "bad_message");
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"subscribe","online":"yes"})")).code == "bad_message");
  auto plain = as<ViewerToRelay, Subscribe>(parse_viewer_to_relay(R"({"type":"subscribe"})"));
  CHECK(plain.query == CameraQuery{});
}

TEST_CASE("malformed input is refused with a reason") {
  CHECK(error_of(parse_viewer_to_relay("{not json")).code == "bad_message");
  CHECK(error_of(parse_viewer_to_relay("[1,2]")).message == "message must be a JSON object");
  CHECK(error_of(parse_viewer_to_relay(R"({"camera":"a"})")).message == "field type: missing");
  CHECK(error_of(parse_viewer_to_relay(R"({"type":7})")).message == "field type: must be a string");
  CHECK(error_of(parse_viewer_to_relay("")).code == "bad_message");
}

TEST_CASE("unknown types are told apart from bad fields") {
  auto e = error_of(parse_viewer_to_relay(R"({"type":"launch_missiles"})"));
  CHECK(e.code == "unknown_type");
  CHECK(e.message.find("launch_missiles") != std::string::npos);
  // A type that exists, but not in this direction.
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"hello","protocol":1,"agent":"a","cameras":[]})")).code ==
        "unknown_type");
}

TEST_CASE("fields are checked for presence, type and bounds") {
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"watch","ref":"r","sdp":"x"})")).message ==
        "watch: field camera: missing");
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"watch","ref":"r","camera":5,"sdp":"x"})")).message ==
        "watch: field camera: must be a string");
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"watch","ref":"r","camera":"../etc","sdp":"x"})"))
            .message.find("field camera") != std::string::npos);
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"ice","session":"s","candidate":"c","sdp_mline_index":-1})"))
            .message.find("sdp_mline_index") != std::string::npos);
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"ice","session":"s","candidate":"c","sdp_mline_index":1.5})"))
            .message == "ice: field sdp_mline_index: must be a whole number");
  CHECK(error_of(parse_agent_to_relay(R"({"type":"hello","protocol":2,"agent":"a","cameras":[]})"))
            .message.find("not supported") != std::string::npos);
  CHECK(error_of(parse_agent_to_relay(R"({"type":"hello","protocol":1,"agent":"a","cameras":[{"id":"c"}]})")).message ==
        "hello: field cameras[0].width: missing");
  CHECK(error_of(parse_agent_to_relay(R"({"type":"hello","protocol":1,"agent":"a","cameras":{}})")).message ==
        "hello: field cameras: must be an array");
}

TEST_CASE("oversized messages and fields are refused") {
  std::string big(kMaxMessageBytes + 1, ' ');
  CHECK(error_of(parse_viewer_to_relay(big)).code == "too_large");
  std::string sdp(kMaxSdpBytes + 1, 'a');
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"watch","ref":"r","camera":"c","sdp":")" + sdp + "\"}"))
            .message.find("longer than") != std::string::npos);
}

TEST_CASE("ids") {
  CHECK(valid_id("cam-1.front_door"));
  CHECK_FALSE(valid_id(""));
  CHECK_FALSE(valid_id("a b"));
  CHECK_FALSE(valid_id("a/b"));
  CHECK_FALSE(valid_id(std::string(65, 'a')));
  CHECK(valid_id(std::string(64, 'a')));
}

TEST_CASE("camera ids: a device's id, or DEVICE/NAME; never another level, nor dots alone") {
  CHECK(sl::json::valid_camera_id("pi"));
  CHECK(sl::json::valid_camera_id("pi/front"));
  CHECK(sl::json::valid_camera_id(std::string(64, 'a') + "/" + std::string(64, 'b')));
  CHECK_FALSE(sl::json::valid_camera_id("pi/"));
  CHECK_FALSE(sl::json::valid_camera_id("/front"));
  CHECK_FALSE(sl::json::valid_camera_id("pi/front/x"));
  CHECK_FALSE(sl::json::valid_camera_id("../etc"));
  CHECK_FALSE(sl::json::valid_camera_id("pi/.."));
  CHECK(sl::json::camera_device("pi/front") == "pi");
  CHECK(sl::json::camera_device("pi") == "pi");
  // In messages: an offer for a camera of an agent with several reads back as it was.
  const Offer sent{"s1", "pi/front", "v=0", {}};
  CHECK(as<RelayToAgent, Offer>(parse_relay_to_agent(to_json(sent))) == sent);
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"watch","ref":"r","camera":"pi/a/b","sdp":"x"})"))
            .message.find("field camera") != std::string::npos);
}

TEST_CASE("a status without 'capturing' (an older agent) means the camera delivers video") {
  const Status status = as<AgentToRelay, Status>(parse_agent_to_relay(
      R"({"type":"status","camera":"cam","branches":1,"fps":30,"bitrate_kbps":2000,"width":640,"height":480})"));
  CHECK(status.capturing);
  CHECK(error_of(parse_agent_to_relay(R"({"type":"status","camera":"cam","branches":1,"fps":30,"bitrate_kbps":2000,)"
                                      R"("width":640,"height":480,"capturing":"yes"})"))
            .message.find("capturing") != std::string::npos);
}

TEST_CASE("figures are whole numbers, read as they are written, so a status writes back the same") {
  const Status status = as<AgentToRelay, Status>(parse_agent_to_relay(
      R"({"type":"status","camera":"cam","branches":1,"fps":29.6,"bitrate_kbps":19.8,"width":640,"height":480})"));
  CHECK(status.fps == 30);
  CHECK(status.bitrate_kbps == 20);
  CHECK(as<AgentToRelay, Status>(parse_agent_to_relay(to_json(status))) == status);
}

TEST_CASE("a status carries the configured bitrate and the one the encoder is asked for") {
  Status status{"cam", 1, 30, 870, 1280, 720};
  status.configured_kbps = 2000;
  status.target_kbps = 900;
  const Status read = as<AgentToRelay, Status>(parse_agent_to_relay(to_json(status)));
  CHECK(read == status);
  CHECK(read.configured_kbps == 2000);
  CHECK(read.target_kbps == 900);
  // An older agent sends neither: unknown, 0.
  const Status older = as<AgentToRelay, Status>(parse_agent_to_relay(
      R"({"type":"status","camera":"cam","branches":1,"fps":30,"bitrate_kbps":2000,"width":640,"height":480})"));
  CHECK(older.configured_kbps == 0);
  CHECK(older.target_kbps == 0);
  // Whole kbit/s, from 0 to 10,000,000; anything else is refused, naming the field.
  const std::string head =
      R"({"type":"status","camera":"cam","branches":1,"fps":30,"bitrate_kbps":2000,"width":640,"height":480,)";
  for (const char *bad :
       {R"("configured_kbps":-1})", R"("configured_kbps":10000001})", R"("configured_kbps":"2000"})",
        R"("configured_kbps":1.5})", R"("target_kbps":-5})", R"("target_kbps":null})", R"("target_kbps":1e9})"}) {
    CAPTURE(bad);
    const std::string field = std::string(bad).find("target") != std::string::npos ? "target_kbps" : "configured_kbps";
    CHECK(error_of(parse_agent_to_relay(head + bad)).message.find(field) != std::string::npos);
  }
  // The camera list carries both on to pages, and reads them back (an older relay's: 0).
  CameraEntry entry;
  entry.info = CameraInfo{"cam", 1280, 720, 30, "H264", "test", "x264enc"};
  entry.online = entry.connected = true;
  entry.bitrate_kbps = 870;
  entry.configured_kbps = 2000;
  entry.target_kbps = 900;
  CHECK(as<RelayToViewer, CameraUpdate>(parse_relay_to_viewer(to_json(CameraUpdate{{entry}}))).cameras[0] == entry);
  const std::string older_entry =
      R"({"type":"camera_update","cameras":[{"id":"cam","width":640,"height":480,"fps":30,"codec":"H264",)"
      R"("source":"test","encoder":"x264enc","online":true,"connected":true,"viewers":0,"branches":0,)"
      R"("fps_measured":0,"bitrate_kbps":0}]})";
  CHECK(as<RelayToViewer, CameraUpdate>(parse_relay_to_viewer(older_entry)).cameras[0].target_kbps == 0);
  CHECK(error_of(parse_relay_to_viewer(older_entry.substr(0, older_entry.size() - 3) + R"(,"target_kbps":-1}]})"))
            .message.find("target_kbps") != std::string::npos);
}

TEST_CASE("a status and the camera list carry the camera's lower encoding while one is live") {
  Status status{"cam", 2, 30, 1980, 1280, 720};
  status.configured_kbps = status.target_kbps = 2000;
  status.lower = sl::control::LowerEncoding{640, 360, 540, 1};
  const std::string json = to_json(status);
  CHECK(json.find(R"("lower_width":640,"lower_height":360,"lower_kbps":540,"lower_viewers":1)") != std::string::npos);
  CHECK(as<AgentToRelay, Status>(parse_agent_to_relay(json)) == status);
  // None live: not written, read as none.
  status.lower = {};
  CHECK(to_json(status).find("lower_") == std::string::npos);
  CHECK(as<AgentToRelay, Status>(parse_agent_to_relay(to_json(status))).lower == sl::control::LowerEncoding{});
  // A size without a bitrate is none live either: read so, it writes back the same.
  const Status sized = as<AgentToRelay, Status>(parse_agent_to_relay(
      R"({"type":"status","camera":"cam","branches":1,"fps":30,"bitrate_kbps":2000,"width":640,"height":480,)"
      R"("lower_width":320,"lower_kbps":0})"));
  CHECK(sized.lower == sl::control::LowerEncoding{});
  const std::string head =
      R"({"type":"status","camera":"cam","branches":1,"fps":30,"bitrate_kbps":2000,"width":640,"height":480,)";
  for (const char *bad : {R"("lower_kbps":-1})", R"("lower_width":9000})", R"("lower_viewers":"1"})"}) {
    CAPTURE(bad);
    CHECK(error_of(parse_agent_to_relay(head + bad)).message.find("lower_") != std::string::npos);
  }
  CameraEntry entry;
  entry.info = CameraInfo{"cam", 1280, 720, 30, "H264", "test", "x264enc"};
  entry.online = entry.connected = true;
  entry.lower = sl::control::LowerEncoding{640, 360, 540, 1};
  CHECK(as<RelayToViewer, CameraUpdate>(parse_relay_to_viewer(to_json(CameraUpdate{{entry}}))).cameras[0] == entry);
}

TEST_CASE("a camera that delivers no video says why, cut to what the relay takes") {
  Status failed{"pi/garage", 0, 0, 0, 640, 480, false, "Cannot open camera /dev/video7: no such device."};
  CHECK(as<AgentToRelay, Status>(parse_agent_to_relay(to_json(failed))) == failed);
  failed.error = std::string(3000, 'x') + "é";
  const Status read = as<AgentToRelay, Status>(parse_agent_to_relay(to_json(failed)));
  CHECK(read.error == std::string(1024, 'x'));
  // And the camera list carries it on to pages.
  CameraEntry entry;
  entry.info = CameraInfo{"pi/garage", 640, 480, 30, "H264", "v4l2:/dev/video7", "x264enc"};
  entry.connected = true;
  entry.error = "Cannot open camera /dev/video7: no such device.";
  CHECK(as<RelayToViewer, CameraUpdate>(parse_relay_to_viewer(to_json(CameraUpdate{{entry}}))).cameras[0] == entry);
}

TEST_CASE("a refused message's ref and session are quoted back when they are ids") {
  const auto bad_watch = error_of(parse_viewer_to_relay(R"({"type":"watch","ref":"r7","camera":"a/b/c","sdp":"x"})"));
  CHECK(bad_watch.code == "bad_message");
  CHECK(bad_watch.ref == "r7");
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"ice","session":"s1","candidate":"c","sdp_mline_index":-1})"))
            .session == "s1");
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"launch","ref":"r8"})")).ref == "r8");
  // Not ids: nothing quoted (they would go into logs and pages as they are).
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"watch","ref":"<b>","sdp":"x"})")).ref.empty());
  CHECK(error_of(parse_viewer_to_relay(R"({"type":"watch","ref":7,"sdp":"x"})")).ref.empty());
}

TEST_CASE("a string escape JSON does not have is refused, not turned into bytes that are not UTF-8") {
  // json-glib reads "\7000" as an octal escape, the byte 0xC0 (fuzz regression).
  const auto e = error_of(
      parse_agent_to_relay(R"({"type":"ice","session":"s1","candidate":"candi udp 1 127\7000","sdp_mline_index":0})"));
  CHECK(e.message == "ice: field candidate: must be valid UTF-8");
  // Real UTF-8 and JSON's own escapes still read.
  const Ice ice = as<AgentToRelay, Ice>(
      parse_agent_to_relay(R"({"type":"ice","session":"s1","candidate":"caméra \u00e9 \"x\"","sdp_mline_index":0})"));
  CHECK(ice.candidate == "caméra é \"x\"");
}

TEST_CASE("signals between relays carry who sent them") {
  ClusterSignal signal{"relay-b", Offer{"s1", "cam-1", "v=0\r\n", {IceServer{{"stun:x:1"}, "", ""}}}};
  auto back = parse_cluster_signal(to_json(signal));
  REQUIRE(back);
  CHECK(back->from == "relay-b");
  CHECK(std::get<Offer>(back->message) == std::get<Offer>(signal.message));
  CHECK(parse_cluster_signal(R"({"type":"answer","session":"s1","sdp":"x"})").error().message.find("from") !=
        std::string::npos);
  CHECK(parse_cluster_signal(R"({"type":"hello","from":"a","protocol":1,"agent":"a","cameras":[]})").error().code ==
        "unknown_type");
}
