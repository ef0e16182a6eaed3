#include "static_files.hpp"

#include "http_routes.hpp"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include <cstring>
#include <string_view>

namespace sl::relay {

namespace {

std::shared_ptr<GBytes> share(GBytes *b) { return std::shared_ptr<GBytes>(b, g_bytes_unref); }

bool compressible(const std::string &type) {
  return type.starts_with("text/") || type.starts_with("application/json") || type.starts_with("image/svg");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls `each` with every comma-separated item of a header value, trimmed.
template <typename F>
void for_each_item(const char *value, F each) {
  std::string_view rest = value ? value : "";
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    each(trim(rest.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
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
  // An entry naming gzip decides; otherwise "*" does (RFC 9110 12.5.3).
  int named = -1, any = -1;
  for_each_item(accept_encoding, [&](std::string_view item) {
    const size_t semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    const bool gzip = coding == "gzip" || coding == "x-gzip";
    if (!gzip && coding != "*") return;
    bool refused = false;
    if (semi != std::string_view::npos) {
      const std::string params(trim(item.substr(semi + 1)));
      if (params.starts_with("q=") || params.starts_with("Q="))  // q=0, q=0.000: refused
        refused = g_ascii_strtod(params.c_str() + 2, nullptr) <= 0.0;
    }
    (gzip ? named : any) = refused ? 0 : 1;
  });
  return named >= 0 ? named == 1 : any == 1;
}

bool etag_matches(const char *if_none_match, const std::string &etag) {
  bool match = false;
  for_each_item(if_none_match, [&](std::string_view item) {
    if (item.starts_with("W/")) item.remove_prefix(2);  // weak comparison (RFC 9110 13.1.2)
    if (item == "*" || item == etag) match = true;
  });
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
