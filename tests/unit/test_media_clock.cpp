// RTP timestamps on the wall clock (agent/capture/media_clock.hpp, RFC 7273
// "direct" media clock): seconds since 1900 times the clock rate, mod 2^32.
#include "capture/media_clock.hpp"

#include <doctest/doctest.h>

using namespace sl::agent;

TEST_CASE("the RTP time of a wall-clock instant counts from 1900 in clock-rate units") {
  // The Unix epoch is 2208988800 s after the NTP epoch.
  CHECK(wall_clock_rtp_time(0, 90000) == uint32_t(uint64_t(2208988800) * 90000 % (uint64_t(1) << 32)));
  CHECK(wall_clock_rtp_time(0, 48000) == uint32_t(uint64_t(2208988800) * 48000 % (uint64_t(1) << 32)));
  // 2026-12-05 12:00:00 UTC and 1 ms later: 90 ticks at 90 kHz, 48 at 48 kHz.
  const int64_t noon_us = int64_t(1796472000) * 1000000;
  CHECK(uint32_t(wall_clock_rtp_time(noon_us + 1000, 90000) - wall_clock_rtp_time(noon_us, 90000)) == 90);
  CHECK(uint32_t(wall_clock_rtp_time(noon_us + 1000, 48000) - wall_clock_rtp_time(noon_us, 48000)) == 48);
  // Whole seconds exactly, whatever the date: no overflow for centuries.
  const int64_t far_us = int64_t(9000000000) * 1000000;  // the year 2255
  CHECK(uint32_t(wall_clock_rtp_time(far_us + 1000000, 90000) - wall_clock_rtp_time(far_us, 90000)) == 90000);
  // Below a tick: the same timestamp.
  CHECK(wall_clock_rtp_time(noon_us + 5, 90000) == wall_clock_rtp_time(noon_us, 90000));
}

TEST_CASE("a payloader offset at running time zero makes its timestamps the capture times") {
  // The payloader stamps offset + running time x rate; with the offset the RTP
  // time of the wall clock at running time zero, a frame captured at running
  // time R (wall clock zero + R) gets the RTP time of its capture.
  const int64_t zero_us = int64_t(1796472000) * 1000000 + 123456;
  const uint32_t offset = wall_clock_rtp_time(zero_us, 90000);
  for (int64_t running_us : {int64_t(0), int64_t(33333), int64_t(3600) * 1000000 + 1000}) {
    const uint32_t stamped = offset + uint32_t(running_us * 90000 / 1000000);
    const uint32_t captured = wall_clock_rtp_time(zero_us + running_us, 90000);
    CHECK(int32_t(stamped - captured) >= -1);  // rounding: at most a tick apart
    CHECK(int32_t(stamped - captured) <= 1);
  }
}

TEST_CASE("the reference clock is named as RFC 7273 names it") {
  const std::string clock = reference_clock();
  CHECK((clock == "local" || clock == "ntp=/traceable/"));
}
