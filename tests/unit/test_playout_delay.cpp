// The playout-delay header extension's bytes, and the element a payloader writes them with.
#include "capture/playout_delay.hpp"

#include <doctest/doctest.h>

#include <array>
#include <string>

using namespace sl::agent;
using Bytes = std::array<uint8_t, 3>;

TEST_CASE("minimum and maximum in 10 ms units, 12 bits each") {
  CHECK(playout_delay_bytes(0, 0) == Bytes{0, 0, 0});
  CHECK(playout_delay_bytes(100, 200) == Bytes{0x00, 0xa0, 0x14});  // 10 and 20 units
  CHECK(playout_delay_bytes(0, 40950) == Bytes{0x00, 0x0f, 0xff});
  CHECK(playout_delay_bytes(0, 99999) == Bytes{0x00, 0x0f, 0xff});  // clamped to the field
  CHECK(playout_delay_bytes(5, 5) == Bytes{0x00, 0x10, 0x01});      // rounded up: 1 unit
  CHECK(playout_delay_bytes(200, 100) == Bytes{0x01, 0x40, 0x14});  // the maximum is never below the minimum
}

TEST_CASE("the element writes the extension into RTP packets") {
  gst_init(nullptr, nullptr);
  GstRTPHeaderExtension *ext = make_playout_delay_extension(5, 0);
  REQUIRE(ext);
  CHECK(gst_rtp_header_extension_get_id(ext) == 5);
  CHECK(std::string(gst_rtp_header_extension_get_uri(ext)) == kPlayoutDelayUri);
  GstBuffer *packet = gst_rtp_buffer_new_allocate(10, 0, 0);
  guint8 data[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  CHECK(gst_rtp_header_extension_get_max_size(ext, packet) == 3);
  CHECK(gst_rtp_header_extension_write(ext, packet, GST_RTP_HEADER_EXTENSION_ONE_BYTE, packet, data, sizeof data) == 3);
  CHECK(data[0] == 0);
  CHECK(data[1] == 0);
  CHECK(data[2] == 0);
  CHECK(data[3] == 0xff);
  gst_buffer_unref(packet);
  gst_object_unref(ext);
}
