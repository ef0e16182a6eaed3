// LTS1, the latency stamp (docs/latency-stamp.md): 48 blocks of 16x16 luma
// pixels at the top-left of each frame encoding the capture time T (wall-clock
// ms mod 2^32) and frame number S (mod 64), with a CRC-8 so readers can tell a
// damaged stamp from a real one. Written into I420 frames; read back in tests.
#pragma once

#include "stamp_geometry.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>

namespace sl::agent {

uint8_t crc8_smbus(const uint8_t *data, size_t len);

std::array<bool, kStampBlocks> stamp_bits(uint32_t t_ms, uint8_t seq);

// Writes the stamp into an I420 frame's planes (luma full size, chroma halved).
void write_stamp(uint8_t *y, int y_stride, uint8_t *u, int u_stride, uint8_t *v, int v_stride, uint32_t t_ms,
                 uint8_t seq);

struct StampValue {
  uint32_t t_ms = 0;
  uint8_t seq = 0;
};

// Reads a stamp back, given the luma at (x, y). nullopt when sync or CRC fail.
std::optional<StampValue> read_stamp(const std::function<uint8_t(int x, int y)> &luma);

}  // namespace sl::agent
