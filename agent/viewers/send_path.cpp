#include "send_path.hpp"

#include "gobj.hpp"

GST_DEBUG_CATEGORY_STATIC(sl_send_path_debug);
#define GST_CAT_DEFAULT sl_send_path_debug

namespace sl::agent::send_path {

namespace {

void init_debug() {
  static const bool done = [] {
    GST_DEBUG_CATEGORY_INIT(sl_send_path_debug, "sightline-sendpath", 0, "Sightline: webrtcbin's send path");
    return true;
  }();
  (void)done;
}

bool made_by(GstElement *element, const char *factory) {
  GstElementFactory *f = element ? gst_element_get_factory(element) : nullptr;
  return f && g_strcmp0(GST_OBJECT_NAME(f), factory) == 0;
}

Owned<GstElement> parent_of(GstPad *pad) { return adopt(pad ? gst_pad_get_parent_element(pad) : nullptr); }
Owned<GstPad> peer_of(GstPad *pad) { return adopt(pad ? gst_pad_get_peer(pad) : nullptr); }
Owned<GstPad> pad_of(GstElement *element, const char *name) {
  return adopt(element ? gst_element_get_static_pad(element, name) : nullptr);
}

// The FEC bin webrtcbin builds: exactly rtpulpfecenc and rtpredenc, both passing
// packets through unchanged.
bool pass_through_fec_bin(GstElement *bin) {
  if (!bin || !GST_IS_BIN(bin)) return false;
  GstElement *ulpfec = nullptr, *red = nullptr;
  int children = 0;
  for (GList *l = GST_BIN_CHILDREN(GST_BIN(bin)); l; l = l->next, ++children) {
    auto *child = GST_ELEMENT(l->data);
    if (made_by(child, "rtpulpfecenc"))
      ulpfec = child;
    else if (made_by(child, "rtpredenc"))
      red = child;
  }
  if (children != 2 || !ulpfec || !red) return false;
  // rtpulpfecenc passes packets on untouched without a payload type (255: FEC
  // not negotiated) or with nothing to protect; rtpredenc with no RED distance
  // and no RED-only output.
  guint fec_pt = 0, percentage = 1, important = 1, distance = 1;
  gboolean red_always = TRUE;
  g_object_get(ulpfec, "pt", &fec_pt, "percentage", &percentage, "percentage-important", &important, nullptr);
  g_object_get(red, "distance", &distance, "allow-no-red-blocks", &red_always, nullptr);
  const bool fec_idle = fec_pt == 255 || (percentage == 0 && important == 0);
  return fec_idle && distance == 0 && !red_always;
}

void drop(GstElement *parent, GstElement *element) {
  gst_element_set_locked_state(element, TRUE);
  gst_element_set_state(element, GST_STATE_NULL);
  gst_bin_remove(GST_BIN(parent), element);
}

}  // namespace

void announce_input(GstElement *webrtc, unsigned mline, const std::string &stream_id, GstCaps *caps) {
  init_debug();
  GST_DEBUG_OBJECT(webrtc, "input announced: %s", take_string(gst_caps_to_string(caps)).c_str());
  auto pad = pad_of(webrtc, ("sink_" + std::to_string(mline)).c_str());
  if (!pad) return;
  gst_pad_send_event(pad.get(), gst_event_new_stream_start(stream_id.c_str()));
  gst_pad_send_event(pad.get(), gst_event_new_caps(caps));
}

bool trim(GstElement *webrtc, unsigned mline) {
  init_debug();
  auto sink = pad_of(webrtc, ("sink_" + std::to_string(mline)).c_str());
  if (!sink || !GST_IS_GHOST_PAD(sink.get())) return false;
  auto target = adopt(gst_ghost_pad_get_target(GST_GHOST_PAD(sink.get())));
  auto clocksync = parent_of(target.get());
  if (!made_by(clocksync.get(), "clocksync")) {  // not connected yet, or another layout
    GST_DEBUG_OBJECT(webrtc, "send path not trimmed: no clocksync at its input");
    return false;
  }
  auto clocksync_src = pad_of(clocksync.get(), "src");
  auto fec_sink = peer_of(clocksync_src.get());
  auto fec = parent_of(fec_sink.get());
  if (!pass_through_fec_bin(fec.get())) return false;
  auto fec_src = pad_of(fec.get(), "src");
  auto next = peer_of(fec_src.get());
  if (!next || GST_OBJECT_PARENT(clocksync.get()) != GST_OBJECT(webrtc) ||
      GST_OBJECT_PARENT(fec.get()) != GST_OBJECT(webrtc))
    return false;

  gst_pad_unlink(fec_src.get(), next.get());
  if (!gst_ghost_pad_set_target(GST_GHOST_PAD(sink.get()), next.get())) {
    // Put it back as it was: webrtcbin's path, untrimmed, still works.
    gst_pad_link(fec_src.get(), next.get());
    return false;
  }
  drop(webrtc, clocksync.get());
  drop(webrtc, fec.get());
  GST_DEBUG_OBJECT(webrtc, "send path trimmed: clocksync and the pass-through FEC/RED bin taken out");
  return true;
}

}  // namespace sl::agent::send_path
