// The web app's files as the relay serves them (relay/http/static_files.hpp):
// gzip that decompresses to the file, content negotiation, ETags, and a file
// read again once it changes.
#include "http/static_files.hpp"

#include <doctest/doctest.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include <string>

using namespace sl::relay;

namespace {

std::string gunzip(GBytes *bytes) {
  GZlibDecompressor *z = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  std::string out;
  const auto *in = static_cast<const guint8 *>(g_bytes_get_data(bytes, nullptr));
  gsize left = g_bytes_get_size(bytes);
  for (;;) {
    char buf[4096];
    gsize read = 0, written = 0;
    const GConverterResult r = g_converter_convert(G_CONVERTER(z), in, left, buf, sizeof buf, G_CONVERTER_INPUT_AT_END,
                                                   &read, &written, nullptr);
    REQUIRE(r != G_CONVERTER_ERROR);
    in += read;
    left -= read;
    out.append(buf, written);
    if (r == G_CONVERTER_FINISHED) break;
  }
  g_object_unref(z);
  return out;
}

std::string text(GBytes *b) {
  gsize n = 0;
  const auto *d = static_cast<const char *>(g_bytes_get_data(b, &n));
  return std::string(d, n);
}

struct TempDir {
  std::string path;
  TempDir() {
    gchar *p = g_dir_make_tmp("sl-static-XXXXXX", nullptr);
    path = p;
    g_free(p);
  }
  ~TempDir() {
    GDir *d = g_dir_open(path.c_str(), 0, nullptr);
    while (const char *name = d ? g_dir_read_name(d) : nullptr) g_remove((path + "/" + name).c_str());
    if (d) g_dir_close(d);
    g_rmdir(path.c_str());
  }
  void write(const std::string &name, const std::string &content) const {
    REQUIRE(g_file_set_contents((path + "/" + name).c_str(), content.data(), gssize(content.size()), nullptr));
  }
};

std::string script(int n) {
  std::string s;
  for (int i = 0; i < n; i++)
    s += "export function f" + std::to_string(i) + "() { return " + std::to_string(i) + "; }\n";
  return s;
}

}  // namespace

TEST_CASE("gzip decompresses to what went in, and is smaller for text") {
  const std::string js = script(400);
  auto z = gzip_bytes(js.data(), js.size());
  REQUIRE(z);
  CHECK(g_bytes_get_size(z.get()) < js.size() / 3);
  CHECK(gunzip(z.get()) == js);
  auto empty = gzip_bytes("", 0);
  REQUIRE(empty);
  CHECK(gunzip(empty.get()).empty());
}

TEST_CASE("Accept-Encoding: gzip when offered with a weight above zero") {
  CHECK(accepts_gzip("gzip, deflate, br, zstd"));
  CHECK(accepts_gzip("br;q=1.0, gzip;q=0.8"));
  CHECK(accepts_gzip("*"));
  CHECK(accepts_gzip(" x-gzip "));
  CHECK_FALSE(accepts_gzip(nullptr));
  CHECK_FALSE(accepts_gzip(""));
  CHECK_FALSE(accepts_gzip("identity"));
  CHECK_FALSE(accepts_gzip("deflate, br"));
  CHECK_FALSE(accepts_gzip("gzip;q=0"));
  CHECK_FALSE(accepts_gzip("gzip;q=0.000, identity"));
  CHECK_FALSE(accepts_gzip("gzip;q=0, *"));
  CHECK_FALSE(accepts_gzip("*;q=0"));
  CHECK_FALSE(accepts_gzip("gzipper"));
}

TEST_CASE("If-None-Match names the ETag, among others, weak, or *") {
  const std::string etag = "\"0123456789abcdef\"";
  CHECK(etag_matches("\"0123456789abcdef\"", etag));
  CHECK(etag_matches("\"x\", \"0123456789abcdef\"", etag));
  CHECK(etag_matches("W/\"0123456789abcdef\"", etag));
  CHECK(etag_matches("*", etag));
  CHECK_FALSE(etag_matches(nullptr, etag));
  CHECK_FALSE(etag_matches("", etag));
  CHECK_FALSE(etag_matches("\"0123456789abcdee\"", etag));
  CHECK_FALSE(etag_matches("0123456789abcdef", etag));
}

TEST_CASE("files are kept until they change, with an ETag and a gzip copy for text") {
  TempDir dir;
  dir.write("app.js", script(300));
  dir.write("tiny.js", "x");
  dir.write("pic.png", std::string(4000, 'a'));
  StaticFiles files(dir.path);

  auto js = files.get("app.js");
  REQUIRE(js);
  CHECK(js->content_type == "text/javascript; charset=utf-8");
  CHECK(text(js->bytes.get()) == script(300));
  REQUIRE(js->gzipped);
  CHECK(gunzip(js->gzipped.get()) == script(300));
  CHECK(js->etag.size() == 18);
  CHECK(js->etag.front() == '"');
  CHECK(files.get("app.js") == js);  // unchanged: the same entry

  CHECK_FALSE(files.get("tiny.js")->gzipped);  // too small to be worth it
  CHECK_FALSE(files.get("pic.png")->gzipped);  // not text
  CHECK_FALSE(files.get("missing.js"));
  CHECK_FALSE(files.get(""));  // the root itself is no file

  // Changed (another size): read again, with another ETag.
  dir.write("app.js", script(301));
  auto again = files.get("app.js");
  REQUIRE(again);
  CHECK(again != js);
  CHECK(again->etag != js->etag);
  CHECK(gunzip(again->gzipped.get()) == script(301));

  // Gone: no longer served.
  g_remove((dir.path + "/app.js").c_str());
  CHECK_FALSE(files.get("app.js"));
}
