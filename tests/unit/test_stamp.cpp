// LTS1: the layout of the spec, CRC-8/SMBUS, and a round trip through a frame.
#include "capture/stamp.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace sl::agent;

TEST_CASE("CRC-8/SMBUS check value") {
  const char *check = "123456789";
  CHECK(crc8_smbus(reinterpret_cast<const uint8_t *>(check), 9) == 0xF4);
}

TEST_CASE("bit layout: sync, T, S, CRC, most significant first") {
  auto bits = stamp_bits(0x80000001u, 0x21);
  CHECK(bits[0]);
  CHECK_FALSE(bits[1]);
  CHECK(bits[2]);  // T's top bit
  CHECK_FALSE(bits[3]);
  CHECK(bits[33]);  // T's lowest bit
  CHECK(bits[34]);  // S = 100001
  CHECK_FALSE(bits[35]);
  CHECK(bits[39]);
  const uint8_t bytes[5] = {0x80, 0, 0, 1, 0x21};
  const uint8_t crc = crc8_smbus(bytes, 5);
  for (int i = 0; i < 8; ++i) CHECK(bits[40 + i] == bool((crc >> (7 - i)) & 1));
}

TEST_CASE("a stamped I420 frame reads back; a damaged one does not") {
  const int w = 640, h = 480;
  std::vector<uint8_t> y(w * h, 90), u(w * h / 4, 60), v(w * h / 4, 200);
  write_stamp(y.data(), w, u.data(), w / 2, v.data(), w / 2, 1234567890u, 42);
  CHECK(y[0] == 235);  // block 0 is 1
  CHECK(y[16] == 16);  // block 1 is 0
  CHECK(u[0] == 128);
  CHECK(v[(15) * (w / 2) + 191] == 128);
  CHECK(y[32 * w] == 90);  // below the stamp: untouched
  auto luma = [&](int x, int yy) { return y[yy * w + x]; };
  auto read = read_stamp(luma);
  REQUIRE(read);
  CHECK(read->t_ms == 1234567890u);
  CHECK(read->seq == 42);
  // Compression noise within the threshold still reads.
  auto noisy = [&](int x, int yy) { return uint8_t(y[yy * w + x] + ((x + yy) % 3 == 0 ? 20 : -10)); };
  CHECK(read_stamp(noisy));
  // One flipped data block fails the CRC.
  for (int row = 16; row < 32; ++row)
    for (int col = 16 * 10; col < 16 * 11; ++col) y[row * w + col] = y[row * w + col] == 235 ? 16 : 235;
  CHECK_FALSE(read_stamp(luma));
  // A frame without a stamp is not read as one.
  std::vector<uint8_t> plain(w * h, 128);
  CHECK_FALSE(read_stamp([&](int x, int yy) { return plain[yy * w + x]; }));
}
