#include "twcc_feedback.hpp"

#include <algorithm>
#include <climits>

namespace sl::agent {

namespace {
constexpr int64_t kDeltaUs = 250;
constexpr int64_t kReferenceUs = 64000;
enum Symbol : uint8_t { kNotReceived = 0, kSmallDelta = 1, kLargeDelta = 2, kReserved = 3 };

uint16_t be16(const uint8_t *p) { return uint16_t(p[0] << 8 | p[1]); }
}  // namespace

std::variant<TwccFeedback, std::string> parse_twcc_feedback(const uint8_t *data, size_t size) {
  if (size < 8) return std::string("transport feedback shorter than its 8-byte header");
  TwccFeedback fb;
  fb.base_seq = be16(data);
  const uint16_t count = be16(data + 2);
  // 24-bit signed reference time, in 64 ms.
  int32_t reference = int32_t(uint32_t(data[4]) << 16 | uint32_t(data[5]) << 8 | data[6]);
  if (reference & 0x800000) reference -= 0x1000000;
  fb.reference_us = int64_t(reference) * kReferenceUs;
  fb.feedback_count = data[7];

  // The packet status chunks, until every packet has its symbol.
  std::vector<uint8_t> symbols;
  symbols.reserve(count);
  size_t at = 8;
  while (symbols.size() < count) {
    if (at + 2 > size) return std::string("transport feedback ends inside its packet status chunks");
    const uint16_t chunk = be16(data + at);
    at += 2;
    const size_t left = count - symbols.size();
    if (!(chunk & 0x8000)) {  // run length: one symbol, repeated
      const uint8_t symbol = uint8_t((chunk >> 13) & 3);
      const size_t run = chunk & 0x1fff;
      if (run == 0) return std::string("transport feedback has an empty run");
      symbols.insert(symbols.end(), std::min(run, left), symbol);
    } else if (!(chunk & 0x4000)) {  // 14 one-bit symbols: received (small delta) or not
      for (int i = 0; i < 14 && symbols.size() < count; ++i) symbols.push_back(uint8_t((chunk >> (13 - i)) & 1));
    } else {  // 7 two-bit symbols
      for (int i = 0; i < 7 && symbols.size() < count; ++i) symbols.push_back(uint8_t((chunk >> (12 - 2 * i)) & 3));
    }
  }

  // Then one arrival delta per received packet, from the reference time on.
  int64_t arrival = fb.reference_us;
  fb.packets.reserve(count);
  for (size_t i = 0; i < symbols.size(); ++i) {
    TwccFeedback::Packet packet{uint16_t(fb.base_seq + i), std::nullopt};
    switch (symbols[i]) {
      case kNotReceived:
        break;
      case kSmallDelta:
        if (at + 1 > size) return std::string("transport feedback ends inside its arrival deltas");
        arrival += int64_t(data[at]) * kDeltaUs;
        at += 1;
        packet.arrival_us = arrival;
        break;
      case kLargeDelta:
        if (at + 2 > size) return std::string("transport feedback ends inside its arrival deltas");
        arrival += int64_t(int16_t(be16(data + at))) * kDeltaUs;
        at += 2;
        packet.arrival_us = arrival;
        break;
      default:
        return std::string("transport feedback uses the reserved packet status");
    }
    fb.packets.push_back(packet);
  }
  return fb;
}

std::vector<uint8_t> write_twcc_feedback(const TwccFeedback &fb) {
  std::vector<uint8_t> out;
  auto put16 = [&](uint16_t v) {
    out.push_back(uint8_t(v >> 8));
    out.push_back(uint8_t(v));
  };
  put16(fb.base_seq);
  put16(uint16_t(fb.packets.size()));
  const int64_t reference = fb.reference_us / kReferenceUs;
  out.push_back(uint8_t(reference >> 16));
  out.push_back(uint8_t(reference >> 8));
  out.push_back(uint8_t(reference));
  out.push_back(fb.feedback_count);

  std::vector<uint8_t> symbols;
  std::vector<uint8_t> deltas;
  int64_t previous = reference * kReferenceUs;
  for (const auto &packet : fb.packets) {
    if (!packet.arrival_us) {
      symbols.push_back(kNotReceived);
      continue;
    }
    const int64_t delta = (*packet.arrival_us - previous) / kDeltaUs;
    previous += delta * kDeltaUs;
    if (delta >= 0 && delta <= 255) {
      symbols.push_back(kSmallDelta);
      deltas.push_back(uint8_t(delta));
    } else {
      symbols.push_back(kLargeDelta);
      const auto wide = uint16_t(int16_t(std::clamp<int64_t>(delta, INT16_MIN, INT16_MAX)));
      deltas.push_back(uint8_t(wide >> 8));
      deltas.push_back(uint8_t(wide));
    }
  }
  for (size_t i = 0; i < symbols.size(); i += 7) {
    uint16_t chunk = 0xc000;
    for (size_t j = 0; j < 7 && i + j < symbols.size(); ++j) chunk |= uint16_t(symbols[i + j] << (12 - 2 * j));
    put16(chunk);
  }
  out.insert(out.end(), deltas.begin(), deltas.end());
  while (out.size() % 4) out.push_back(0);
  return out;
}

int64_t SeqUnwrapper::unwrap(uint16_t seq) {
  if (!last_) return *(last_ = seq);
  const int16_t step = int16_t(uint16_t(seq - uint16_t(*last_)));
  const int64_t value = *last_ + step;
  if (value > *last_) last_ = value;  // a late packet does not move the base back
  return value;
}

std::vector<PacketArrival> to_arrivals(const TwccFeedback &feedback, SeqUnwrapper &unwrapper) {
  std::vector<PacketArrival> arrivals;
  arrivals.reserve(feedback.packets.size());
  for (const auto &packet : feedback.packets) arrivals.push_back({unwrapper.unwrap(packet.seq), packet.arrival_us});
  return arrivals;
}

}  // namespace sl::agent
