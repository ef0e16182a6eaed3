// An IP camera's own sound: the chain chosen for the codec its SDP names,
// against fake lists of what a machine has; every chain parses as a pipeline.
#include "capture/rtsp_audio.hpp"
#include "capture/sources.hpp"
#include "gst_owned.hpp"

#include <doctest/doctest.h>
#include <gst/gst.h>

#include <set>
#include <vector>

using namespace sl;
using namespace sl::agent;

namespace {
auto has(std::set<std::string> elements) {
  return [elements](const std::string &e) { return elements.count(e) > 0; };
}
const auto everything =
    has({"rtppcmadepay", "alawdec", "rtppcmudepay", "mulawdec", "rtpmp4gdepay", "rtpmp4adepay", "avdec_aac", "faad",
         "rtpopusdepay", "opusdec", "rtpg722depay", "avdec_g722", "rtpL16depay", "audioconvert"});
bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("G.711 is depayloaded and decoded by its own elements") {
  auto pcma = camera_audio_chain("PCMA", everything);
  REQUIRE(pcma.ok());
  CHECK(contains(*pcma, "encoding-name=PCMA ! rtppcmadepay ! alawdec"));
  CHECK(contains(*pcma, std::string("name=") + kRtpAudioFilter));
  auto pcmu = camera_audio_chain("pcmu", everything);  // SDPs may spell it in lower case
  REQUIRE(pcmu.ok());
  CHECK(contains(*pcmu, "encoding-name=PCMU ! rtppcmudepay ! mulawdec"));
}

TEST_CASE("AAC in either RTP form goes through its parser to the first AAC decoder there is") {
  auto generic = camera_audio_chain("MPEG4-GENERIC", everything);
  REQUIRE(generic.ok());
  CHECK(contains(*generic, "rtpmp4gdepay ! aacparse ! avdec_aac"));
  auto latm = camera_audio_chain("MP4A-LATM", has({"rtpmp4adepay", "faad"}));
  REQUIRE(latm.ok());
  CHECK(contains(*latm, "rtpmp4adepay ! aacparse ! faad"));
}

TEST_CASE("Opus from the camera is decoded (and encoded once more with the agent's settings)") {
  auto opus = camera_audio_chain("OPUS", everything);
  REQUIRE(opus.ok());
  CHECK(contains(*opus, "rtpopusdepay ! opusdec"));
}

TEST_CASE("a missing decoder names its package; an unknown codec says what is taken") {
  auto aac = camera_audio_chain("MPEG4-GENERIC", has({"rtpmp4gdepay"}));
  REQUIRE_FALSE(aac.ok());
  CHECK(contains(aac.error(), "gstreamer1.0-libav"));
  CHECK(contains(aac.error(), "without sound"));
  auto g726 = camera_audio_chain("G726-32", everything);
  REQUIRE_FALSE(g726.ok());
  CHECK(contains(g726.error(), "G726-32"));
  CHECK(contains(g726.error(), "G.711"));
  CHECK_FALSE(camera_audio_chain("", everything).ok());
}

TEST_CASE("every chain, and the one for a sound not yet known, builds on this machine") {
  gst_init(nullptr, nullptr);
  const auto available = [](const std::string &name) { return element_available(name); };
  std::vector<std::string> chains = {any_camera_audio_chain()};
  for (const char *codec : {"PCMA", "PCMU", "MPEG4-GENERIC", "OPUS"})
    if (auto chain = camera_audio_chain(codec, available)) chains.push_back(*chain);
  CHECK(chains.size() == 5);
  for (const auto &chain : chains) {
    GError *raw = nullptr;
    auto pipeline = sink(gst_parse_launch((chain + " ! fakesink").c_str(), &raw));
    Owned<GError> error(raw);
    CHECK_MESSAGE(!error, chain);
    CHECK(pipeline != nullptr);
  }
}
