// A camera's H.264: what is passed through as it is, put right, or decoded and
// encoded again (the verdicts, pure), what the probe sees in real streams (the
// camera stand-in's x264 output, with and without B-frames), and the fix-up at
// the bitstream level: a stream whose keyframes lack SPS/PPS leaves the agent's
// pass-through with them before every IDR.
#include "capture/camera_h264.hpp"
#include "capture/camera_h264_probe.hpp"
#include "capture/camera_standin.hpp"
#include "gst_owned.hpp"

#include <doctest/doctest.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <string>
#include <vector>

using namespace sl::agent;

namespace {

H264Sps sps(ProfileLevel profile) {
  H264Sps s;
  s.profile = profile;
  s.max_num_reorder_frames = 0;
  return s;
}

// `frames` access units after a keyframe with its parameter sets.
H264Observed seen_stream(const H264Sps &first, int frames = 30) {
  H264Observed seen;
  AccessUnitFacts key{true, true, true, false, first};
  observe(seen, key, false);
  for (int i = 1; i < frames; ++i) observe(seen, AccessUnitFacts{}, false);
  return seen;
}

bool has_x264() {
  gst_init(nullptr, nullptr);
  return gst_registry_check_feature_version(gst_registry_get(), "x264enc", 1, 0, 0);
}

using AccessUnits = std::vector<std::vector<uint8_t>>;

// Runs `description` (ending in an appsink named "out") to its end; what came out.
AccessUnits run_to_end(const std::string &description, const AccessUnits &input = {}) {
  GError *raw = nullptr;
  auto pipeline = sl::sink(gst_parse_launch(description.c_str(), &raw));
  sl::Owned<GError> error(raw);
  REQUIRE(pipeline);
  REQUIRE_FALSE(error);
  auto out = sl::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  REQUIRE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  if (auto in = sl::adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "in"))) {
    GstClockTime pts = 0;
    for (const auto &au : input) {
      GstBuffer *buffer = gst_buffer_new_memdup(au.data(), au.size());
      GST_BUFFER_PTS(buffer) = GST_BUFFER_DTS(buffer) = pts;
      GST_BUFFER_DURATION(buffer) = GST_SECOND / 30;
      pts += GST_SECOND / 30;
      REQUIRE(gst_app_src_push_buffer(GST_APP_SRC(in.get()), buffer) == GST_FLOW_OK);
    }
    gst_app_src_end_of_stream(GST_APP_SRC(in.get()));
  }
  AccessUnits units;
  while (auto sample = sl::adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(out.get()), 10 * GST_SECOND))) {
    GstMapInfo map;
    GstBuffer *buffer = gst_sample_get_buffer(sample.get());
    REQUIRE(gst_buffer_map(buffer, &map, GST_MAP_READ));
    units.emplace_back(map.data, map.data + map.size);
    gst_buffer_unmap(buffer, &map);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return units;
}

// Drops SPS and PPS from every access unit but the first, as some cameras send them.
AccessUnits parameter_sets_once(const AccessUnits &units) {
  AccessUnits out;
  for (size_t i = 0; i < units.size(); ++i) {
    std::vector<uint8_t> au;
    for (const auto &nal : split_annexb(units[i])) {
      if (i > 0 && (nal_type(nal) == nal::kSps || nal_type(nal) == nal::kPps)) continue;
      au.insert(au.end(), {0, 0, 0, 1});
      au.insert(au.end(), nal.begin(), nal.end());
    }
    out.push_back(std::move(au));
  }
  return out;
}

// Keyframes in `units`, and how many came without SPS and PPS before them.
std::pair<int, int> keyframes_without_parameter_sets(const AccessUnits &units) {
  int keys = 0, bare = 0;
  for (const auto &au : units) {
    const auto facts = read_access_unit(au);
    if (!facts.idr) continue;
    ++keys;
    if (!facts.sps || !facts.pps) ++bare;
  }
  return {keys, bare};
}

}  // namespace

TEST_CASE("a clean stream browsers decode passes through as it is") {
  for (const auto profile :
       {ProfileLevel{0x42, 0xe0, 0x1f}, ProfileLevel{0x4d, 0x40, 0x28}, ProfileLevel{0x64, 0, 0x28}}) {
    const auto v = judge_camera_h264(seen_stream(sps(profile)));
    CHECK(v.pass_through);
    CHECK_FALSE(v.parameter_sets_added);
    CHECK(v.summary.find("passed through as it is") != std::string::npos);
    CHECK(v.summary.find(profile.hex()) != std::string::npos);
  }
}

TEST_CASE("B-frames are decoded and encoded again, however they show") {
  const H264Sps high = sps({0x64, 0, 0x28});
  H264Observed b_slices = seen_stream(high);
  observe(b_slices, AccessUnitFacts{false, false, false, true, {}}, false);
  H264Observed reordered = seen_stream(high);
  observe(reordered, AccessUnitFacts{}, true);  // DTS != PTS
  H264Sps says_reorder = high;
  says_reorder.max_num_reorder_frames = 2;
  for (const auto &seen : {b_slices, reordered, seen_stream(says_reorder)}) {
    const auto v = judge_camera_h264(seen);
    CHECK_FALSE(v.pass_through);
    CHECK(v.summary.find("B-frames") != std::string::npos);
    CHECK(v.summary.find("decoded and encoded again") != std::string::npos);
  }
}

TEST_CASE("profiles browsers do not decode are decoded and encoded again, with the reason") {
  H264Sps high10 = sps({0x6e, 0, 0x28});
  high10.bit_depth_luma = high10.bit_depth_chroma = 10;
  H264Sps high10_as_high = sps({0x64, 0, 0x28});  // the bit depth alone says it
  high10_as_high.bit_depth_luma = 10;
  H264Sps h422 = sps({0x7a, 0, 0x28});
  h422.chroma_format_idc = 2;
  H264Sps chroma422_as_high = sps({0x64, 0, 0x28});
  chroma422_as_high.chroma_format_idc = 2;
  H264Sps interlaced = sps({0x4d, 0, 0x28});
  interlaced.frame_mbs_only = false;
  const std::pair<H264Sps, const char *> cases[] = {
      {high10, "(high 10 profile, level 4.0, profile-level-id 6e0028): that profile is not one browsers decode"},
      {high10_as_high, "10-bit"},
      {h422, "(high 4:2:2 profile"},
      {chroma422_as_high, "4:2:2"},
      {interlaced, "interlaced"},
      {sps({0xf4, 0, 0x28}), "not one"},
  };
  for (const auto &[s, why] : cases) {
    const auto v = judge_camera_h264(seen_stream(s));
    CHECK_FALSE(v.pass_through);
    CHECK_MESSAGE(v.summary.find(why) != std::string::npos, v.summary);
  }
  const auto unread = judge_camera_h264(H264Observed{});
  CHECK_FALSE(unread.pass_through);
  CHECK(unread.summary.find("no readable SPS") != std::string::npos);
}

TEST_CASE("keyframes without SPS/PPS pass through with them put back, and say so") {
  H264Observed seen = seen_stream(sps({0x64, 0, 0x28}));
  observe(seen, AccessUnitFacts{false, false, true, false, {}}, false);  // a bare IDR
  const auto v = judge_camera_h264(seen);
  CHECK(v.pass_through);
  CHECK(v.parameter_sets_added);
  CHECK(v.summary.find("SPS/PPS put before each keyframe") != std::string::npos);
}

TEST_CASE("the decoder for encoding again: the hardware one first, libav's otherwise") {
  auto only = [](std::vector<std::string> have) {
    return [have](const std::string &name) { return std::find(have.begin(), have.end(), name) != have.end(); };
  };
  CHECK(*choose_h264_decoder(only({"avdec_h264", "v4l2h264dec"})) == "v4l2h264dec");
  CHECK(*choose_h264_decoder(only({"avdec_h264"})) == "avdec_h264");
  auto none = choose_h264_decoder(only({}));
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().find("gstreamer1.0-libav") != std::string::npos);
}

TEST_CASE("the probe reads the camera stand-in's real streams: High without B-frames, and with") {
  if (!has_x264()) return;
  for (const auto &[format, bframes] : {std::pair{"h264-high", false}, std::pair{"h264-high-bframes", true}}) {
    auto standin = camera_standin(format, "smpte", {320, 240, 30});
    REQUIRE(standin);
    auto seen =
        probe_camera_h264(standin->element + " ! capsfilter caps=video/x-h264,width=320,height=240,framerate=30/1");
    if (!seen) FAIL(seen.error());
    REQUIRE(seen->sps);
    CHECK(seen->sps->profile.profile_idc == 100);
    CHECK(seen->keyframes >= 1);
    CHECK(seen->b_slices == bframes);
    CHECK(judge_camera_h264(*seen).pass_through == !bframes);
  }
}

TEST_CASE("a stream with SPS/PPS only at its start leaves the pass-through with them before every IDR") {
  if (!has_x264()) return;
  const AccessUnits encoded = run_to_end(
      "videotestsrc num-buffers=60 ! video/x-raw,format=I420,width=320,height=240,framerate=30/1"
      " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10"
      " ! video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=out sync=false");
  const AccessUnits camera = parameter_sets_once(encoded);
  const auto [keys, bare] = keyframes_without_parameter_sets(camera);
  REQUIRE(keys >= 4);
  REQUIRE(bare == keys - 1);  // the input really lacks them

  H264Observed seen;
  for (const auto &au : camera) observe(seen, read_access_unit(au), false);
  CHECK(judge_camera_h264(seen).parameter_sets_added);

  const std::string caps = "video/x-h264,stream-format=byte-stream,alignment=au,width=320,height=240,framerate=30/1";
  const AccessUnits sent = run_to_end("appsrc name=in format=time caps=" + caps + " ! " + kPassThroughH264 +
                                          " ! video/x-h264,stream-format=byte-stream,alignment=au"
                                          " ! appsink name=out sync=false",
                                      camera);
  const auto [sent_keys, sent_bare] = keyframes_without_parameter_sets(sent);
  CHECK(sent_keys == keys);
  CHECK(sent_bare == 0);
}
