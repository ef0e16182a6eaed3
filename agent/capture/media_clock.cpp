#include "media_clock.hpp"

#include <sys/timex.h>

namespace sl::agent {

uint32_t wall_clock_rtp_time(int64_t wall_us, int clock_rate) {
  // (seconds since 1900) x rate, exactly: whole seconds and the rest apart, so
  // nothing overflows for any date this side of 2500.
  const int64_t ntp_us = wall_us + kNtpUnixOffsetS * 1000000;
  const uint64_t seconds = uint64_t(ntp_us / 1000000), micros = uint64_t(ntp_us % 1000000);
  return uint32_t(seconds * uint64_t(clock_rate) + micros * uint64_t(clock_rate) / 1000000);
}

std::string reference_clock() {
  struct timex t {};
  return adjtimex(&t) == TIME_ERROR ? "local" : "ntp=/traceable/";
}

}  // namespace sl::agent
