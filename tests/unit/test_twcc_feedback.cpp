// Transport feedback read from bytes (a hand-made message with both chunk kinds),
// written back, refused when broken; sequence numbers unwrapped.
#include "congestion/twcc_feedback.hpp"

#include <doctest/doctest.h>

#include <random>
#include <vector>

using namespace sl::agent;

namespace {
TwccFeedback parsed(const std::vector<uint8_t> &bytes) {
  auto result = parse_twcc_feedback(bytes.data(), bytes.size());
  REQUIRE(std::holds_alternative<TwccFeedback>(result));
  return std::get<TwccFeedback>(result);
}
std::string refused(const std::vector<uint8_t> &bytes) {
  auto result = parse_twcc_feedback(bytes.data(), bytes.size());
  REQUIRE(std::holds_alternative<std::string>(result));
  return std::get<std::string>(result);
}
// Base 100, 5 packets, reference 1 (64 ms), count 3; a run of 2 "small delta",
// then a one-bit vector: not received, received, received; deltas 4, 8, 1, 2.
const std::vector<uint8_t> kExample = {0x00, 0x64, 0x00, 0x05, 0x00, 0x00, 0x01, 0x03,
                                       0x20, 0x02, 0x98, 0x00, 0x04, 0x08, 0x01, 0x02};
}  // namespace

TEST_CASE("a feedback message with a run and a one-bit vector") {
  const TwccFeedback fb = parsed(kExample);
  CHECK(fb.base_seq == 100);
  CHECK(fb.feedback_count == 3);
  CHECK(fb.reference_us == 64000);
  REQUIRE(fb.packets.size() == 5);
  CHECK(fb.packets[0].seq == 100);
  CHECK(fb.packets[0].arrival_us == 65000);
  CHECK(fb.packets[1].arrival_us == 67000);
  CHECK_FALSE(fb.packets[2].arrival_us);
  CHECK(fb.packets[3].arrival_us == 67250);
  CHECK(fb.packets[4].seq == 104);
  CHECK(fb.packets[4].arrival_us == 67750);
}

TEST_CASE("broken feedback is refused with the reason, at every length short of whole") {
  for (size_t n = 0; n < kExample.size(); ++n) {
    const std::vector<uint8_t> cut(kExample.begin(), kExample.begin() + long(n));
    CHECK_FALSE(refused(cut).empty());
  }
  CHECK(refused({0, 1, 0, 1, 0, 0, 0, 0, 0xf0, 0x00}).find("reserved") != std::string::npos);  // two-bit "11"
  CHECK(refused({0, 1, 0, 1, 0, 0, 0, 0, 0x20, 0x00}).find("empty run") != std::string::npos);
}

TEST_CASE("what is written reads back: receptions, losses, late and early arrivals, a negative reference") {
  std::mt19937 rng(11);
  for (int round = 0; round < 50; ++round) {
    TwccFeedback fb;
    fb.base_seq = uint16_t(65500 + round);  // across the wrap
    fb.feedback_count = uint8_t(round);
    fb.reference_us = int64_t(round - 25) * 64000;
    int64_t arrival = fb.reference_us;
    for (int i = 0; i < 1 + round * 7; ++i) {
      TwccFeedback::Packet packet{uint16_t(fb.base_seq + i), std::nullopt};
      if (rng() % 5) {
        arrival += int64_t(rng() % 400) * 250 - (rng() % 10 == 0 ? 20000 : 0);  // sometimes earlier: reordered
        packet.arrival_us = arrival;
      }
      fb.packets.push_back(packet);
    }
    const auto bytes = write_twcc_feedback(fb);
    CHECK(bytes.size() % 4 == 0);
    const TwccFeedback back = parsed(bytes);
    CHECK(back.base_seq == fb.base_seq);
    CHECK(back.feedback_count == fb.feedback_count);
    CHECK(back.reference_us == fb.reference_us);
    REQUIRE(back.packets.size() == fb.packets.size());
    for (size_t i = 0; i < fb.packets.size(); ++i) {
      CHECK(back.packets[i].seq == fb.packets[i].seq);
      CHECK(back.packets[i].arrival_us == fb.packets[i].arrival_us);
    }
  }
}

TEST_CASE("sequence numbers count on across the wrap, and a late one stays behind") {
  SeqUnwrapper u;
  CHECK(u.unwrap(65534) == 65534);
  CHECK(u.unwrap(65535) == 65535);
  CHECK(u.unwrap(0) == 65536);
  CHECK(u.unwrap(65535) == 65535);  // late
  CHECK(u.unwrap(2) == 65538);
  TwccFeedback fb;
  fb.packets = {{65535, 1000}, {0, std::nullopt}, {1, 2000}};
  SeqUnwrapper fresh;
  const auto arrivals = to_arrivals(fb, fresh);
  REQUIRE(arrivals.size() == 3);
  CHECK(arrivals[0].seq == 65535);
  CHECK(arrivals[1].seq == 65536);
  CHECK_FALSE(arrivals[1].arrival_us);
  CHECK(arrivals[2].seq == 65537);
}
