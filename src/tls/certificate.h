// TLS material as pgrt checks it before anyone serves it: a certificate (chain), its private
// key and an optional CA bundle, read once from the operator's files and kept as PEM text.
// Nothing here touches the loop or the disk beyond reading the three files.
#pragma once

#include <cstdint>
#include <string>

#include "util/clock.h"
#include "util/status.h"

namespace pgrt {

// What an operator wants to know about a served certificate.
struct CertificateInfo {
  std::string subject;     // one line, RFC 2253 ("CN=db.example.com,O=...")
  std::string serial;      // hex
  std::string sha256;      // fingerprint of the DER, hex pairs joined by ':'
  int64_t not_before = 0;  // seconds since the epoch
  int64_t not_after = 0;
};

// The configured paths; cert and key are given together, the CA is optional.
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  bool empty() const { return cert_file.empty(); }
};

// The contents of a set that passed LoadTlsMaterial.
struct TlsMaterial {
  std::string cert_pem;  // the certificate first, then any intermediates
  std::string key_pem;
  std::string ca_pem;  // "" without a CA file
  CertificateInfo leaf;
};

// Reads the files and checks that they are usable together: each is readable, the certificate
// and every certificate of the CA bundle parse, the key parses and belongs to the certificate.
// Expiry is not judged here (see CheckNotExpired): a node started with an expired certificate
// still serves it, and says so. Errors name the file: InvalidArgument for content, IoError
// (or NotFound, PermissionDenied) for a file that cannot be read.
Result<TlsMaterial> LoadTlsMaterial(const TlsFiles& files);

// FailedPrecondition when `leaf` is no longer valid at `now`.
Status CheckNotExpired(const CertificateInfo& leaf, SystemTime now);

// "2026-11-28T16:00:00Z" for seconds since the epoch.
std::string IsoTime(int64_t epoch_seconds);

// The OpenSSL errors queued on this thread, oldest first, joined by "; " (and cleared); ""
// when none.
std::string OpenSslErrors();

}  // namespace pgrt
