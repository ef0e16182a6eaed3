// RTP timestamps on the wall clock (RFC 7273, "direct" media clock): a stream's
// RTP timestamp is its frame's capture time since the NTP epoch (1900) in
// clock-rate units, mod 2^32. The answer says so (`a=ts-refclk`, `a=mediaclk:direct=0`),
// and a page reads each shown frame's capture time from its RTP timestamp
// alone: what playing in step needs (docs/playback-sync.md). Pure arithmetic,
// and the clock's sync state from the kernel.
#pragma once

#include <cstdint>
#include <string>

namespace sl::agent {

// Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
inline constexpr int64_t kNtpUnixOffsetS = 2208988800;

// The RTP timestamp of wall-clock time `wall_us` (Unix, microseconds). Of the
// wall clock at running time zero: the payloader's timestamp-offset that makes
// its timestamps (offset + running time x rate) the capture times.
uint32_t wall_clock_rtp_time(int64_t wall_us, int clock_rate);

// `a=ts-refclk`'s value for this machine's clock: "ntp=/traceable/" when the
// kernel says it is synchronised (NTP, PTP, ...), "local" when not.
std::string reference_clock();

}  // namespace sl::agent
