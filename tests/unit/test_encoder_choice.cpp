// Encoder choice against fake lists of what a machine has.
#include "capture/encoder_choice.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace sl::agent;

namespace {
auto has(std::set<std::string> elements) {
  return [elements](const std::string &e) { return elements.count(e) > 0; };
}
EncoderChoice chosen(const sl::Result<EncoderChoice> &v) {
  REQUIRE(v.ok());
  return *v;
}
}  // namespace

TEST_CASE("a Raspberry Pi 4 uses its hardware encoder") {
  auto c = chosen(choose_encoder("auto", has({"v4l2h264enc", "x264enc", "vp8enc"})));
  CHECK(c.element == "v4l2h264enc");
  CHECK(c.codec == Codec::H264);
}

TEST_CASE("a PC or a Pi 5 uses x264, then openh264, then VP8") {
  CHECK(chosen(choose_encoder("auto", has({"x264enc", "openh264enc", "vp8enc"}))).element == "x264enc");
  CHECK(chosen(choose_encoder("", has({"openh264enc", "vp8enc"}))).element == "openh264enc");
  auto vp8 = chosen(choose_encoder("auto", has({"vp8enc"})));
  CHECK(vp8.element == "vp8enc");
  CHECK(vp8.codec == Codec::VP8);
}

TEST_CASE("nothing to encode with is a clear error") {
  auto v = choose_encoder("auto", has({}));
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().find("No video encoder") != std::string::npos);
}

TEST_CASE("an encoder can be forced, and forcing a missing or unknown one says so") {
  CHECK(chosen(choose_encoder("vp8enc", has({"x264enc", "vp8enc"}))).element == "vp8enc");
  auto missing = choose_encoder("v4l2h264enc", has({"x264enc"}));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().find("'encoder'") != std::string::npos);
  auto unknown = choose_encoder("nvenc", has({"x264enc"}));
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().find("nvenc") != std::string::npos);
}

TEST_CASE("H.264 chains are browser-safe and carry the settings") {
  const std::string x264 = describe_encoder({"x264enc", Codec::H264}, 1500, 25);
  CHECK(x264.find("tune=zerolatency") != std::string::npos);
  CHECK(x264.find("bitrate=1500") != std::string::npos);
  CHECK(x264.find("key-int-max=50") != std::string::npos);
  CHECK(x264.find("profile=constrained-baseline") != std::string::npos);
  CHECK(x264.find("config-interval=-1") != std::string::npos);
  const std::string pi = describe_encoder({"v4l2h264enc", Codec::H264}, 2000, 30);
  CHECK(pi.find("video_bitrate=2000000") != std::string::npos);
  CHECK(pi.find("h264_i_frame_period=60") != std::string::npos);
  CHECK(pi.find("video_bitrate_mode=1") != std::string::npos);  // constant bitrate
  CHECK(pi.find("repeat_sequence_header=1") != std::string::npos);
  CHECK(pi.find("level=(string)4") != std::string::npos);
  CHECK(pi.find("profile=constrained-baseline") != std::string::npos);
  CHECK(describe_encoder({"vp8enc", Codec::VP8}, 800, 30).find("target-bitrate=800000") != std::string::npos);
}

TEST_CASE("a running encoder's bitrate is set through the same knowledge that built it") {
  auto x264 = bitrate_setting("x264enc", 1500);
  REQUIRE(x264);
  CHECK(x264->property == "bitrate");
  CHECK(x264->value == "1500");                              // kbit/s
  CHECK(bitrate_setting("vp8enc", 800)->value == "800000");  // bit/s
  CHECK(bitrate_setting("vp8enc", 800)->property == "target-bitrate");
  CHECK(bitrate_setting("v4l2h264enc", 2000)->value == "controls,video_bitrate=2000000");
  auto passthrough = bitrate_setting("passthrough", 1000);
  REQUIRE_FALSE(passthrough);
  CHECK(passthrough.error().find("its own H.264") != std::string::npos);
}
