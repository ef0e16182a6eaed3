// Devices that prove who they are with a client certificate (mutual TLS): the
// device id is the certificate's common name; a certificate is named in logs by
// that name and its SHA-256 fingerprint; revoked ones are listed by fingerprint.
#pragma once

#include "result.hpp"

#include <gio/gio.h>

#include <set>
#include <string>

namespace sl::relay {

// The subject's common name ("" if none).
std::string common_name(GTlsCertificate *cert);
// SHA-256 of the DER certificate, lower-case hex without separators.
std::string fingerprint(GTlsCertificate *cert);
// "CN=cam-a (sha256 0f3a...)", for log lines and refusals.
std::string describe(GTlsCertificate *cert);
// What GLib found wrong with a peer certificate, in words ("" if nothing).
std::string certificate_errors(GTlsCertificateFlags flags);
// A revocation list: one SHA-256 fingerprint a line (hex, colons and case as
// `openssl x509 -fingerprint -sha256` prints them or not), # comments.
Result<std::set<std::string>> parse_revoked(const std::string &text);
Result<std::set<std::string>> load_revoked(const std::string &path);

}  // namespace sl::relay
