// The agent's sessions with a real (test) capture pipeline, through the one
// signalling seam (viewers/signaller.hpp): while the camera delivers no video
// an offer is refused with a reason the viewer is shown; a session answers
// through the signaller that brought its offer, and a signaller that goes away
// takes only its own sessions with it.
#include "capture/capture_pipeline.hpp"
#include "gst_webrtc_owned.hpp"
#include "protocol.hpp"
#include "test_pipeline.hpp"
#include "viewers/sessions.hpp"

#include <gst/webrtc/webrtc.h>

#include <doctest/doctest.h>

#include <vector>

using namespace sl;
using namespace sl::agent;

namespace {

// What a signaller was asked to send, as the viewer at its other end would see it.
struct Recorded : Signaller {
  std::vector<std::string> answers, candidates, refusals, ends, renews;
  void send_answer(const std::string &session, const std::string &) override { answers.push_back(session); }
  void send_candidate(const std::string &session, int, const std::string &) override { candidates.push_back(session); }
  void send_refusal(const std::string &session, const std::string &code, const std::string &message,
                    const std::string &end_reason) override {
    refusals.push_back(session + " " + code + " " + end_reason + ": " + message);
  }
  void send_end(const std::string &session, const std::string &reason) override {
    ends.push_back(session + " " + reason);
  }
  void send_renew(const std::string &session) override { renews.push_back(session); }
};

// A browser-like offer (one receive-only H.264 m-line), made by a webrtcbin of our own.
std::string receive_only_offer(const char *fmtp = "packetization-mode=(string)1,profile-level-id=(string)42e01f") {
  auto offerer = sink(gst_element_factory_make("webrtcbin", nullptr));
  REQUIRE(offerer);
  REQUIRE(gst_element_set_state(offerer.get(), GST_STATE_READY) != GST_STATE_CHANGE_FAILURE);
  auto caps = adopt(gst_caps_from_string(
      (std::string("application/x-rtp,media=video,encoding-name=H264,payload=102,clock-rate=90000,") + fmtp).c_str()));
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_signal_emit_by_name(offerer.get(), "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps.get(),
                        &trans);
  adopt(trans);
  auto promise = adopt(gst_promise_new());
  g_signal_emit_by_name(offerer.get(), "create-offer", nullptr, promise.get());
  REQUIRE(gst_promise_wait(promise.get()) == GST_PROMISE_RESULT_REPLIED);
  GstWebRTCSessionDescription *raw = nullptr;
  gst_structure_get(gst_promise_get_reply(promise.get()), "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &raw, nullptr);
  auto offer = adopt(raw);
  REQUIRE(offer);
  const std::string sdp = take_string(gst_sdp_message_as_text(offer->sdp));
  gst_element_set_state(offerer.get(), GST_STATE_NULL);
  return sdp;
}

template <typename F>
bool spin_until(F done, int timeout_ms) {
  const gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
  while (!done() && g_get_monotonic_time() < deadline) g_main_context_iteration(nullptr, TRUE);
  return done();
}

}  // namespace

TEST_CASE("offers are refused while the camera delivers no video, and the status says so") {
  AgentSettings settings;
  settings.id = "cam";
  CameraSettings camera;
  camera.id = "cam";
  auto pipeline = testing::test_pipeline(camera);
  if (!pipeline) return;

  Sessions sessions(*pipeline, settings);
  Recorded viewer;
  CHECK_FALSE(sessions.status().capturing);  // not started yet

  sessions.offer(proto::Offer{"s1", "cam", "v=0\r\n", {}}, viewer);
  REQUIRE(viewer.refusals.size() == 1);
  CHECK(viewer.refusals[0].rfind("s1 camera_offline camera_offline: ", 0) == 0);
  CHECK(viewer.refusals[0].find("unplugged") != std::string::npos);
  CHECK(sessions.count() == 0);

  sessions.offer(proto::Offer{"s2", "other", "v=0\r\n", {}}, viewer);
  REQUIRE(viewer.refusals.size() == 2);
  CHECK(viewer.refusals[1].rfind("s2 unknown_camera error: ", 0) == 0);

  REQUIRE(pipeline->play());
  CHECK(sessions.status().capturing);
  pipeline->stop();  // what the agent does when the camera fails, before retrying
  CHECK_FALSE(sessions.status().capturing);
}

TEST_CASE("each session answers through the signaller that brought its offer, and leaves with it") {
  AgentSettings settings;
  settings.id = "cam";
  settings.ice_addresses = {"127.0.0.1"};
  CameraSettings camera;
  camera.id = "cam";
  auto pipeline = testing::test_pipeline(camera);
  if (!pipeline) return;
  REQUIRE(pipeline->play());
  Sessions sessions(*pipeline, settings);
  int changes = 0;
  sessions.on_change([&changes] { ++changes; });

  Recorded relay, whep;  // two ways in, as the relay link and a WHEP endpoint would be
  const std::string offer = receive_only_offer();
  sessions.offer(proto::Offer{"r1", "cam", offer, {}}, relay);
  sessions.offer(proto::Offer{"w1", "cam", offer, {}}, whep);
  REQUIRE(sessions.count() == 2);
  CHECK(changes == 2);
  REQUIRE(spin_until([&] { return !relay.answers.empty() && !whep.answers.empty(); }, 5000));
  CHECK(relay.answers == std::vector<std::string>{"r1"});
  CHECK(whep.answers == std::vector<std::string>{"w1"});
  for (const auto &s : relay.candidates) CHECK(s == "r1");
  for (const auto &s : whep.candidates) CHECK(s == "w1");

  // The same session id again is refused, and the live one goes on.
  sessions.offer(proto::Offer{"r1", "cam", offer, {}}, relay);
  CHECK(relay.refusals.size() == 1);
  CHECK(sessions.count() == 2);

  // The relay link drops: its sessions end, nobody is told (it forgot them).
  sessions.forget(relay, "relay_gone");
  CHECK(sessions.count() == 1);
  CHECK(relay.ends.empty());
  CHECK(whep.ends.empty());

  // The agent stops: the rest end, each told through its own signaller.
  sessions.end_all("agent_stopping");
  CHECK(sessions.count() == 0);
  CHECK(whep.ends == std::vector<std::string>{"w1 agent_stopping"});
  CHECK(relay.ends.empty());
  pipeline->stop();
}

// Issue 20: a camera whose own H.264 is passed through reads its viewers'
// congestion feedback too (their answers take transport-cc), so that a thin path
// is seen and moved to the lower encoding; the status shows that encoding.
TEST_CASE("a camera passed through answers with transport-cc, and its status shows its lower encoding") {
  gst_init(nullptr, nullptr);
  if (!gst_registry_check_feature_version(gst_registry_get(), "x264enc", 1, 0, 0)) {
    MESSAGE("x264enc not installed: skipped");
    return;
  }
  AgentSettings settings;
  settings.id = "cam";
  settings.ice_addresses = {"127.0.0.1"};
  CameraSettings camera;
  camera.id = "cam";
  camera.source = "emulate:h264-baseline";  // the stand-in camera's own H.264, passed through
  camera.pattern = "smpte";
  camera.width = 320;
  camera.height = 240;
  camera.encoder = "x264enc";
  auto created = CapturePipeline::create(camera);
  REQUIRE(created);
  auto &pipeline = *created;
  REQUIRE(pipeline->passthrough());
  REQUIRE(pipeline->play());
  Sessions sessions(*pipeline, settings);

  struct Answers : Recorded {
    std::vector<std::string> sdp;
    void send_answer(const std::string &session, const std::string &answer) override {
      Recorded::send_answer(session, answer);
      sdp.push_back(answer);
    }
  } viewer;
  // A browser's offer asks for transport-wide congestion control on its H.264.
  std::string offer = receive_only_offer(
      "packetization-mode=(string)1,profile-level-id=(string)42e01f,level-asymmetry-allowed=(string)1");
  const std::string rtpmap = "a=rtpmap:102 H264/90000\r\n";
  const size_t at = offer.find(rtpmap);
  REQUIRE(at != std::string::npos);
  offer.insert(at + rtpmap.size(),
               "a=rtcp-fb:102 transport-cc\r\n"
               "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n");
  sessions.offer(proto::Offer{"p1", "cam", offer, {}}, viewer);
  REQUIRE(sessions.count() == 1);
  REQUIRE(spin_until([&] { return !viewer.sdp.empty(); }, 5000));
  CHECK(viewer.sdp[0].find("transport-wide-cc-extensions-01") != std::string::npos);
  CHECK(viewer.sdp[0].find("transport-cc") != std::string::npos);

  CHECK(sessions.status().lower == control::LowerEncoding{});  // none until a viewer needs it
  auto lower = pipeline->lower_rtp_stream(RtpFormat{"application/x-rtp,media=video,encoding-name=H264,"
                                                    "clock-rate=90000,payload=102,packetization-mode=(string)1"},
                                          120);
  REQUIRE(lower);
  const auto status = sessions.status();
  CHECK(status.lower.width == 160);
  CHECK(status.lower.height == 120);
  CHECK(status.lower.kbps == 120);
  CHECK(status.configured_kbps == 0);  // the camera's own bitrate: not ours, unknown
  lower->reset();
  CHECK(pipeline->drop_lower_if_unused());
  sessions.end_all("agent_stopping");
  pipeline->stop();
}
