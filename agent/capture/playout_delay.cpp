#include "playout_delay.hpp"

#include <algorithm>

namespace sl::agent {

std::array<uint8_t, 3> playout_delay_bytes(int min_ms, int max_ms) {
  auto units = [](int ms) { return unsigned(std::clamp((ms + 9) / 10, 0, kPlayoutDelayMaxMs / 10)); };
  const unsigned lo = units(min_ms), hi = units(std::max(min_ms, max_ms));
  return {uint8_t(lo >> 4), uint8_t(((lo & 0xf) << 4) | (hi >> 8)), uint8_t(hi & 0xff)};
}

namespace {

struct PlayoutDelayExt {
  GstRTPHeaderExtension parent;
  int max_ms;
};
struct PlayoutDelayExtClass {
  GstRTPHeaderExtensionClass parent_class;
};

GType playout_delay_ext_get_type();
G_DEFINE_TYPE(PlayoutDelayExt, playout_delay_ext, GST_TYPE_RTP_HEADER_EXTENSION)

GstRTPHeaderExtensionFlags supported_flags(GstRTPHeaderExtension *) {
  return GstRTPHeaderExtensionFlags(GST_RTP_HEADER_EXTENSION_ONE_BYTE | GST_RTP_HEADER_EXTENSION_TWO_BYTE);
}

gsize max_size(GstRTPHeaderExtension *, const GstBuffer *) { return 3; }

gssize write(GstRTPHeaderExtension *ext, const GstBuffer *, GstRTPHeaderExtensionFlags, GstBuffer *, guint8 *data,
             gsize size) {
  if (size < 3) return -1;
  const auto bytes = playout_delay_bytes(0, reinterpret_cast<PlayoutDelayExt *>(ext)->max_ms);
  std::copy(bytes.begin(), bytes.end(), data);
  return 3;
}

gboolean read(GstRTPHeaderExtension *, GstRTPHeaderExtensionFlags, const guint8 *, gsize, GstBuffer *) {
  return TRUE;  // we only send it
}

void playout_delay_ext_class_init(PlayoutDelayExtClass *klass) {
  auto *ext = GST_RTP_HEADER_EXTENSION_CLASS(klass);
  ext->get_supported_flags = supported_flags;
  ext->get_max_size = max_size;
  ext->write = write;
  ext->read = read;
  gst_element_class_set_static_metadata(GST_ELEMENT_CLASS(klass), "Playout delay", "Network/Extension/RTPHeader",
                                        "Tells the receiver how long it may hold frames", "Sightline");
  gst_rtp_header_extension_class_set_uri(ext, kPlayoutDelayUri);
}

void playout_delay_ext_init(PlayoutDelayExt *self) { self->max_ms = 0; }

}  // namespace

GstRTPHeaderExtension *make_playout_delay_extension(guint id, int max_ms) {
  auto *self = static_cast<PlayoutDelayExt *>(g_object_new(playout_delay_ext_get_type(), nullptr));
  self->max_ms = max_ms;
  gst_rtp_header_extension_set_id(GST_RTP_HEADER_EXTENSION(self), id);
  return GST_RTP_HEADER_EXTENSION(self);
}

}  // namespace sl::agent
