// The web app's files as the relay serves them: read once and kept while the
// file is unchanged (its size and mtime), each with an ETag (a repeat visit
// revalidates in one small request: 304) and, for text, a gzip copy (the page's
// scripts are ~65 KB, ~18 KB compressed: on a thin link they arrive before the
// picture fills it). Pure file and byte work; the HTTP side is http_routes.cpp.
#pragma once

#include <glib.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <string>

namespace sl::relay {

struct StaticFile {
  std::string content_type;
  std::string etag;                 // quoted, from size, mtime and content
  std::shared_ptr<GBytes> bytes;    // as on disk
  std::shared_ptr<GBytes> gzipped;  // null when not worth it (not text, or no smaller)
  goffset size = 0;
  gint64 mtime_us = 0;
};

// gzip (RFC 1952) of `data`, or null on failure.
std::shared_ptr<GBytes> gzip_bytes(const void *data, gsize size);

// Whether an Accept-Encoding header value accepts gzip (q=0 refuses it).
bool accepts_gzip(const char *accept_encoding);

// Whether an If-None-Match header value names `etag` (or is *).
bool etag_matches(const char *if_none_match, const std::string &etag);

class StaticFiles {
 public:
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}

  // The file `relative` (already checked to stay under the root), or null when
  // it is not a regular file or cannot be read.
  std::shared_ptr<const StaticFile> get(const std::string &relative);

 private:
  std::string root_;
  std::map<std::string, std::shared_ptr<const StaticFile>> cache_;
};

}  // namespace sl::relay
