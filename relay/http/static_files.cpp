#include "static_files.hpp"

#include "http_routes.hpp"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include <cstring>
#include <string_view>

namespace sl::relay {

namespace {

std::shared_ptr<GBytes> share(GBytes *b) { return std::shared_ptr<GBytes>(b, g_bytes_unref); }

bool compressible(const std::string &type) {
  return type.starts_with("text/") || type.starts_with("application/json") || type.starts_with("image/svg");
}

}  // namespace

std::shared_ptr<GBytes> gzip_bytes(const void *data, gsize size) {
  GZlibCompressor *z = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
  GByteArray *out = g_byte_array_new();
  const auto *in = static_cast<const guint8 *>(data);
  gsize left = size;
  bool ok = true;
  for (;;) {
    guint8 buf[16384];
    gsize read = 0, written = 0;
    const GConverterResult r = g_converter_convert(G_CONVERTER(z), in, left, buf, sizeof buf, G_CONVERTER_INPUT_AT_END,
                                                   &read, &written, nullptr);
    if (r == G_CONVERTER_ERROR) {
      ok = false;
      break;
    }
    in += read;
    left -= read;
    g_byte_array_append(out, buf, guint(written));
    if (r == G_CONVERTER_FINISHED) break;
  }
  g_object_unref(z);
  if (!ok) {
    g_byte_array_unref(out);
    return nullptr;
  }
  return share(g_byte_array_free_to_bytes(out));
}

bool accepts_gzip(const char *accept_encoding) {
  if (!accept_encoding) return false;
  // libsoup reads the weights: `acceptable` in order of preference, q=0 ones in
  // `refused`. A coding named decides; otherwise "*" does (RFC 9110 12.5.3).
  GSList *refused = nullptr;
  GSList *acceptable = soup_header_parse_quality_list(accept_encoding, &refused);
  const auto names = [](GSList *list, const char *coding) {
    return g_slist_find_custom(list, coding, [](gconstpointer a, gconstpointer b) {
             return g_ascii_strcasecmp(static_cast<const char *>(a), static_cast<const char *>(b));
           }) != nullptr;
  };
  const bool named = names(acceptable, "gzip") || names(acceptable, "x-gzip");
  const bool gzip_refused = names(refused, "gzip") || names(refused, "x-gzip");
  const bool yes = named || (!gzip_refused && names(acceptable, "*"));
  soup_header_free_list(acceptable);
  soup_header_free_list(refused);
  return yes;
}

bool etag_matches(const char *if_none_match, const std::string &etag) {
  if (!if_none_match) return false;
  GSList *tags = soup_header_parse_list(if_none_match);
  bool match = false;
  for (GSList *t = tags; t && !match; t = t->next) {
    std::string_view tag = static_cast<const char *>(t->data);
    if (tag.starts_with("W/")) tag.remove_prefix(2);  // weak comparison (RFC 9110 13.1.2)
    match = tag == "*" || tag == etag;
  }
  soup_header_free_list(tags);
  return match;
}

std::shared_ptr<const StaticFile> StaticFiles::get(const std::string &relative) {
  const std::string path = root_ + "/" + relative;
  GStatBuf st;
  if (g_stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
  const gint64 mtime_us = gint64(st.st_mtim.tv_sec) * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
  if (auto it = cache_.find(relative);
      it != cache_.end() && it->second->size == goffset(st.st_size) && it->second->mtime_us == mtime_us)
    return it->second;

  gchar *data = nullptr;
  gsize size = 0;
  if (!g_file_get_contents(path.c_str(), &data, &size, nullptr)) {
    cache_.erase(relative);
    return nullptr;
  }
  auto file = std::make_shared<StaticFile>();
  file->content_type = content_type_for(relative);
  file->size = goffset(st.st_size);
  file->mtime_us = mtime_us;
  gchar *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, reinterpret_cast<const guchar *>(data), size);
  file->etag = "\"" + std::string(sum, 16) + "\"";
  g_free(sum);
  if (compressible(file->content_type) && size > 256) {
    auto z = gzip_bytes(data, size);
    if (z && g_bytes_get_size(z.get()) < size) file->gzipped = std::move(z);
  }
  file->bytes = share(g_bytes_new_take(data, size));
  cache_[relative] = file;
  return file;
}

}  // namespace sl::relay
