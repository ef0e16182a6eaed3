// Owners for GStreamer's mini-objects and boxed types, beside gobj.hpp's GObject
// owners: Owned<GstCaps>, Owned<GstMessage>, Owned<GstSample>, Owned<GstBuffer>,
// Owned<GstEvent>, Owned<GstPromise>, Owned<GstStructure>,
// each dropped with its own function (the SDP and WebRTC types: gst_webrtc_owned.hpp).
// adopt(p) takes over a reference we were given (transfer full);
// ref(p) takes a new one (transfer none).
#pragma once

#include "gobj.hpp"

#include <gst/gst.h>

namespace sl {

#define SL_GST_UNREF(Type, free_fn)  \
  template <>                        \
  struct Unref<Type> {               \
    void operator()(Type *p) const { \
      if (p) free_fn(p);             \
    }                                \
  };
SL_GST_UNREF(GstMiniObject, gst_mini_object_unref)
SL_GST_UNREF(GstCaps, gst_caps_unref)
SL_GST_UNREF(GstMessage, gst_message_unref)
SL_GST_UNREF(GstSample, gst_sample_unref)
SL_GST_UNREF(GstBuffer, gst_buffer_unref)
SL_GST_UNREF(GstBufferList, gst_buffer_list_unref)
SL_GST_UNREF(GstEvent, gst_event_unref)
SL_GST_UNREF(GstQuery, gst_query_unref)
SL_GST_UNREF(GstPromise, gst_promise_unref)
SL_GST_UNREF(GstStructure, gst_structure_free)
#undef SL_GST_UNREF

// Transfer none, for the reference-counted mini-objects.
inline Owned<GstCaps> ref(GstCaps *p) { return Owned<GstCaps>(p ? gst_caps_ref(p) : nullptr); }
inline Owned<GstSample> ref(GstSample *p) { return Owned<GstSample>(p ? gst_sample_ref(p) : nullptr); }
inline Owned<GstBuffer> ref(GstBuffer *p) { return Owned<GstBuffer>(p ? gst_buffer_ref(p) : nullptr); }
inline Owned<GstMessage> ref(GstMessage *p) { return Owned<GstMessage>(p ? gst_message_ref(p) : nullptr); }

}  // namespace sl
