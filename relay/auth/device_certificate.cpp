#include "device_certificate.hpp"

#include "gobj.hpp"

namespace sl::relay {

std::string common_name(GTlsCertificate *cert) {
  gchar *raw = g_tls_certificate_get_subject_name(cert);  // "CN=cam-a,O=Example" (RFC 4514)
  const std::string subject = raw ? raw : "";
  g_free(raw);
  size_t at = 0;
  while (at < subject.size()) {
    const size_t end = subject.find(',', at);
    const std::string part = subject.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (part.rfind("CN=", 0) == 0) return part.substr(3);
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return {};
}

std::string fingerprint(GTlsCertificate *cert) {
  GByteArray *der = nullptr;
  g_object_get(cert, "certificate", &der, nullptr);
  if (!der) return {};
  gchar *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, der->data, der->len);
  g_byte_array_unref(der);
  std::string out = hex;
  g_free(hex);
  return out;
}

std::string describe(GTlsCertificate *cert) {
  const std::string cn = common_name(cert);
  return "certificate CN=" + (cn.empty() ? std::string("(none)") : cn) + " (sha256 " + fingerprint(cert) + ")";
}

std::string certificate_errors(GTlsCertificateFlags flags) {
  std::string out;
  auto add = [&](GTlsCertificateFlags flag, const char *text) {
    if (!(flags & flag)) return;
    if (!out.empty()) out += ", ";
    out += text;
  };
  add(G_TLS_CERTIFICATE_UNKNOWN_CA, "not issued by the tls-client-ca");
  add(G_TLS_CERTIFICATE_NOT_ACTIVATED, "not valid yet");
  add(G_TLS_CERTIFICATE_EXPIRED, "expired");
  add(G_TLS_CERTIFICATE_REVOKED, "revoked");
  add(G_TLS_CERTIFICATE_INSECURE, "insecure algorithm");
  add(G_TLS_CERTIFICATE_GENERIC_ERROR, "unusable");
  return out;
}

Result<std::set<std::string>> parse_revoked(const std::string &text) {
  std::set<std::string> out;
  gchar **lines = g_strsplit(text.c_str(), "\n", -1);
  int number = 0;
  std::string error;
  for (gchar **line = lines; *line && error.empty(); ++line) {
    ++number;
    std::string l = g_strstrip(*line);
    if (l.empty() || l[0] == '#') continue;
    if (l.rfind("sha256 Fingerprint=", 0) == 0) l = l.substr(19);  // openssl's own line
    std::string hex;
    for (char c : l)
      if (c != ':') hex += g_ascii_tolower(c);
    if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
      error = "line " + std::to_string(number) + " is not a SHA-256 fingerprint";
    else
      out.insert(hex);
  }
  g_strfreev(lines);
  if (!error.empty()) return fail(error);
  return out;
}

Result<std::set<std::string>> load_revoked(const std::string &path) {
  gchar *contents = nullptr;
  GError *raw = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, nullptr, &raw)) {
    Owned<GError> error(raw);
    return fail("Setting 'tls-client-revoked': " + std::string(error ? error->message : "unreadable") + ".");
  }
  const std::string text = contents;
  g_free(contents);
  auto parsed = parse_revoked(text);
  if (!parsed) return fail("Setting 'tls-client-revoked' (" + path + "): " + parsed.error() + ".");
  return parsed;
}

}  // namespace sl::relay
