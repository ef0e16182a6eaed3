// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-
// cc-extensions-01, section 3.1): the FCI of the RTCP transport feedback message
// (RTPFB, FMT 15) that browsers send about every packet carrying the transport-
// wide sequence number: which arrived, and when, on the browser's clock. Read from
// untrusted bytes (a clear error, never a crash: fuzz target fuzz_twcc_feedback),
// and written (the tests' browser).
#pragma once

#include "congestion/gcc_estimator.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sl::agent {

// The header extension that carries the transport-wide sequence number (a=extmap).
inline constexpr const char *kTwccUri = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

struct TwccFeedback {
  uint16_t base_seq = 0;
  uint8_t feedback_count = 0;  // the receiver's own count of these messages
  int64_t reference_us = 0;    // the first arrival's base: a multiple of 64 ms
  struct Packet {
    uint16_t seq = 0;
    std::optional<int64_t> arrival_us;  // on the receiver's clock; nullopt: not received
  };
  std::vector<Packet> packets;  // base_seq onwards, one per packet status
};

// The FCI's bytes (after the sender and media SSRCs) into packets and arrival
// times, or why they are not valid feedback.
std::variant<TwccFeedback, std::string> parse_twcc_feedback(const uint8_t *data, size_t size);

// The FCI for these packets (status vector chunks of two-bit symbols; arrival
// deltas rounded to 250 us), padded to 32 bits as RTCP needs.
std::vector<uint8_t> write_twcc_feedback(const TwccFeedback &feedback);

// Transport-wide sequence numbers are 16 bits; the estimator counts on.
class SeqUnwrapper {
 public:
  int64_t unwrap(uint16_t seq);

 private:
  std::optional<int64_t> last_;
};

// Feedback as the estimator takes it: sequence numbers unwrapped.
std::vector<PacketArrival> to_arrivals(const TwccFeedback &feedback, SeqUnwrapper &unwrapper);

}  // namespace sl::agent
