// LTS1: the layout of the spec, CRC-8/SMBUS, and a round trip through a frame;
// the audio mark.
#include "capture/audio_mark.hpp"
#include "capture/stamp.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
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

TEST_CASE("the audio mark beeps for 100 ms from each whole second of the wall clock") {
  using sl::agent::write_audio_mark;
  constexpr int kRate = 48000;
  // 10 ms buffers from 0.95 s to 1.25 s past a whole second: silence, then the
  // beep from exactly the second (sample 2400), then silence again after 100 ms.
  const int64_t start_us = 1'700'000'000'950'000;
  std::vector<int16_t> all;
  for (int b = 0; b < 30; ++b) {
    std::vector<int16_t> buf(480 * 2, 1234);
    write_audio_mark(buf.data(), 480, 2, kRate, start_us + b * 10000);
    all.insert(all.end(), buf.begin(), buf.end());
  }
  auto loud = [&](size_t from, size_t to) {
    int peak = 0;
    for (size_t i = from; i < to; ++i) peak = std::max(peak, std::abs(int(all[2 * i])));
    return peak;
  };
  CHECK(loud(0, 2400) == 0);                      // before the second: silence (what was there is gone)
  CHECK(loud(2400, 2448) > 10000);                // the first millisecond of the second: the beep
  CHECK(loud(2400 + 4700, 2400 + 4800) > 10000);  // still at 98 ms
  CHECK(loud(2400 + 4800, all.size() / 2) == 0);  // over after 100 ms
  for (size_t i = 0; i < all.size(); i += 2) CHECK(all[i] == all[i + 1]);  // both channels
  // A 1 kHz tone: a sign change every half millisecond (24 samples).
  int changes = 0;
  for (size_t i = 2401; i < 2400 + 4800; ++i) changes += (all[2 * i - 2] < 0) != (all[2 * i] < 0);
  CHECK(changes >= 195);
  CHECK(changes <= 205);
}
