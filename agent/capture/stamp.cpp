#include "stamp.hpp"

#include <cstring>

namespace sl::agent {

namespace {
constexpr uint8_t kOne = 235;
constexpr uint8_t kZero = 16;
constexpr uint8_t kGrey = 128;
}  // namespace

uint8_t crc8_smbus(const uint8_t *data, size_t len) {
  uint8_t crc = 0;
  for (size_t i = 0; i < len; ++i) {
    crc ^= data[i];
    for (int b = 0; b < 8; ++b) crc = (crc & 0x80) ? uint8_t((crc << 1) ^ 0x07) : uint8_t(crc << 1);
  }
  return crc;
}

std::array<bool, kStampBlocks> stamp_bits(uint32_t t, uint8_t seq) {
  std::array<bool, kStampBlocks> bits{};
  seq &= 0x3f;
  const uint8_t bytes[5] = {uint8_t(t >> 24), uint8_t(t >> 16), uint8_t(t >> 8), uint8_t(t), seq};
  const uint8_t crc = crc8_smbus(bytes, sizeof bytes);
  bits[0] = true;
  bits[1] = false;
  for (int i = 0; i < 32; ++i) bits[2 + i] = (t >> (31 - i)) & 1;
  for (int i = 0; i < 6; ++i) bits[34 + i] = (seq >> (5 - i)) & 1;
  for (int i = 0; i < 8; ++i) bits[40 + i] = (crc >> (7 - i)) & 1;
  return bits;
}

void write_stamp(uint8_t *y, int y_stride, uint8_t *u, int u_stride, uint8_t *v, int v_stride, uint32_t t_ms,
                 uint8_t seq) {
  const auto bits = stamp_bits(t_ms, seq);
  for (int k = 0; k < kStampBlocks; ++k) {
    const int bx = 16 * (k % 24), by = 16 * (k / 24);
    const uint8_t value = bits[k] ? kOne : kZero;
    for (int row = 0; row < 16; ++row) std::memset(y + size_t(by + row) * y_stride + bx, value, 16);
  }
  for (int row = 0; row < kStampHeight / 2; ++row) {
    std::memset(u + size_t(row) * u_stride, kGrey, kStampWidth / 2);
    std::memset(v + size_t(row) * v_stride, kGrey, kStampWidth / 2);
  }
}

std::optional<StampValue> read_stamp(const std::function<uint8_t(int x, int y)> &luma) {
  std::array<double, kStampBlocks> level{};
  for (int k = 0; k < kStampBlocks; ++k) {
    const int bx = 16 * (k % 24) + 4, by = 16 * (k / 24) + 4;
    double sum = 0;
    for (int yy = 0; yy < 8; ++yy)
      for (int xx = 0; xx < 8; ++xx) sum += luma(bx + xx, by + yy);
    level[k] = sum / 64.0;
  }
  if (level[0] - level[1] < 64) return std::nullopt;  // no sync pair: not a stamp
  const double threshold = (level[0] + level[1]) / 2;
  uint32_t t = 0;
  uint8_t seq = 0, crc = 0;
  for (int i = 0; i < 32; ++i) t = (t << 1) | (level[2 + i] > threshold ? 1u : 0u);
  for (int i = 0; i < 6; ++i) seq = uint8_t((seq << 1) | (level[34 + i] > threshold ? 1 : 0));
  for (int i = 0; i < 8; ++i) crc = uint8_t((crc << 1) | (level[40 + i] > threshold ? 1 : 0));
  const uint8_t bytes[5] = {uint8_t(t >> 24), uint8_t(t >> 16), uint8_t(t >> 8), uint8_t(t), seq};
  if (crc8_smbus(bytes, sizeof bytes) != crc) return std::nullopt;
  return StampValue{t, seq};
}

}  // namespace sl::agent
