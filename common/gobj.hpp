// Owning GLib/GStreamer/json-glib references from C++.
//
// Two helpers make the transfer mode visible at the call site:
//   adopt(p)  takes over a reference the callee handed us (transfer full);
//   ref(p)    takes a new reference to a borrowed pointer (transfer none).
// Both return an Owned<T>, a unique_ptr whose deleter drops exactly one reference.
//
// GStreamer's mini-objects (GstCaps, GstMessage, GstSample, GstBuffer, GstEvent,
// GstPromise, ...) and GstWebRTCSessionDescription are not GObjects: their owners
// are in gst_owned.hpp, and Owned<> of one without that header does not compile.
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include <memory>
#include <string>

// GStreamer's mini-objects and boxed types, declared without its headers so that
// g_object_unref on one fails to compile anywhere (gst_owned.hpp owns them). One
// list: each is declared and marked from it.
// (clang-format 14 does not settle on one layout for this list.)
// clang-format off
#define SL_GST_BOXED_TYPES(X) \
  X(GstMiniObject) X(GstCaps) X(GstMessage) X(GstSample) X(GstBuffer) X(GstBufferList) \
  X(GstEvent) X(GstQuery) X(GstPromise) X(GstStructure) X(GstWebRTCSessionDescription)
// clang-format on

#define SL_DECLARE_GST_TYPE(Type) typedef struct _##Type Type;
SL_GST_BOXED_TYPES(SL_DECLARE_GST_TYPE)
#undef SL_DECLARE_GST_TYPE

namespace sl {

template <typename T>
inline constexpr bool is_gst_boxed = false;
#define SL_MARK_GST_BOXED(Type) \
  template <>                   \
  inline constexpr bool is_gst_boxed<Type> = true;
SL_GST_BOXED_TYPES(SL_MARK_GST_BOXED)
#undef SL_MARK_GST_BOXED
#undef SL_GST_BOXED_TYPES

template <typename T>
struct Unref;

// GObject and everything derived from it (GstElement included: gst_object_unref
// is g_object_unref for our purposes, and works on floating refs we sank).
template <typename T>
struct GObjectUnref {
  static_assert(!is_gst_boxed<T>, "not a GObject: include gst_owned.hpp, which owns GStreamer's mini-objects");
  void operator()(T *p) const {
    if (p) g_object_unref(p);
  }
};

template <typename T>
struct Unref : GObjectUnref<T> {};

template <>
struct Unref<JsonNode> {
  void operator()(JsonNode *p) const {
    if (p) json_node_unref(p);
  }
};
template <>
struct Unref<JsonObject> {
  void operator()(JsonObject *p) const {
    if (p) json_object_unref(p);
  }
};
template <>
struct Unref<JsonArray> {
  void operator()(JsonArray *p) const {
    if (p) json_array_unref(p);
  }
};
template <>
struct Unref<GError> {
  void operator()(GError *p) const {
    if (p) g_error_free(p);
  }
};
template <>
struct Unref<GBytes> {
  void operator()(GBytes *p) const {
    if (p) g_bytes_unref(p);
  }
};
template <>
struct Unref<GKeyFile> {
  void operator()(GKeyFile *p) const {
    if (p) g_key_file_unref(p);
  }
};
template <>
struct Unref<GMainLoop> {
  void operator()(GMainLoop *p) const {
    if (p) g_main_loop_unref(p);
  }
};
template <>
struct Unref<GSource> {
  void operator()(GSource *p) const {
    if (p) g_source_unref(p);
  }
};
template <>
struct Unref<GUri> {
  void operator()(GUri *p) const {
    if (p) g_uri_unref(p);
  }
};
template <>
struct Unref<GHashTable> {
  void operator()(GHashTable *p) const {
    if (p) g_hash_table_unref(p);
  }
};

template <typename T>
using Owned = std::unique_ptr<T, Unref<T>>;

// The callee gave us a reference (transfer full): own it.
template <typename T>
Owned<T> adopt(T *p) {
  return Owned<T>(p);
}

// A new object with a floating reference (gst_element_factory_make, ...): sink it
// so that we hold one full reference whatever a bin does with it later.
template <typename T>
Owned<T> sink(T *p) {
  static_assert(!is_gst_boxed<T>, "not a GObject");
  if (p) g_object_ref_sink(p);
  return Owned<T>(p);
}

// Borrowed pointer (transfer none): take our own reference.
template <typename T>
Owned<T> ref(T *p) {
  static_assert(!is_gst_boxed<T>, "not a GObject: gst_owned.hpp has ref() for mini-objects");
  if (p) g_object_ref(p);
  return Owned<T>(p);
}
inline Owned<JsonNode> ref(JsonNode *p) { return Owned<JsonNode>(p ? json_node_ref(p) : nullptr); }

// g_free'd strings.
struct GFree {
  void operator()(void *p) const { g_free(p); }
};
using OwnedStr = std::unique_ptr<char, GFree>;
inline std::string take_string(char *p) {
  OwnedStr o(p);
  return o ? std::string(o.get()) : std::string();
}

// A GLib main-context source (timeout, idle) removed when the holder goes away.
class SourceId {
 public:
  SourceId() = default;
  explicit SourceId(guint id) : id_(id) {}
  SourceId(const SourceId &) = delete;
  SourceId &operator=(const SourceId &) = delete;
  SourceId(SourceId &&o) noexcept : id_(o.id_) { o.id_ = 0; }
  SourceId &operator=(SourceId &&o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      o.id_ = 0;
    }
    return *this;
  }
  ~SourceId() { reset(); }
  void reset(guint id = 0) {
    if (id_) g_source_remove(id_);
    id_ = id;
  }
  // The source removed itself (its callback returned G_SOURCE_REMOVE): forget it.
  void release() { id_ = 0; }
  explicit operator bool() const { return id_ != 0; }

 private:
  guint id_ = 0;
};

}  // namespace sl
