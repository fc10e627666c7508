#include "tls/certificate.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <vector>

#include "tls/openssl_ptr.h"
#include "util/fs.h"

namespace pgrt {
namespace {

std::string Hex(const unsigned char* p, size_t n, const char* sep) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out += sep;
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

int64_t EpochOf(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(::timegm(&tm));
}

CertificateInfo Describe(X509* cert) {
  CertificateInfo info;
  BioPtr out(BIO_new(BIO_s_mem()));
  if (out && X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    long n = BIO_get_mem_data(out.get(), &data);
    if (n > 0) info.subject.assign(data, static_cast<size_t>(n));
  }
  if (const ASN1_INTEGER* serial = X509_get0_serialNumber(cert); serial != nullptr) {
    BnPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
    if (bn) {
      char* hex = BN_bn2hex(bn.get());
      if (hex != nullptr) info.serial = hex;
      OPENSSL_free(hex);
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) == 1) info.sha256 = Hex(md, len, ":");
  info.not_before = EpochOf(X509_get0_notBefore(cert));
  info.not_after = EpochOf(X509_get0_notAfter(cert));
  return info;
}

Result<std::string> ReadNamed(const std::string& path, const char* what) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status().Wrap(what);
  return *text;
}

}  // namespace

std::string OpenSslErrors() {
  std::string out;
  for (unsigned long e; (e = ERR_get_error()) != 0;) {
    char text[256];
    ERR_error_string_n(e, text, sizeof(text));
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out;
}

Result<std::vector<X509Ptr>> ParseCertificates(const std::string& pem) {
  ERR_clear_error();
  BioPtr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!in) return Status::Error("out of memory");
  std::vector<X509Ptr> certs;
  while (X509* c = PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr)) certs.emplace_back(c);
  // The loop ends at the end of the text (PEM_R_NO_START_LINE) or at a broken block.
  const unsigned long last = ERR_peek_last_error();
  if (certs.empty() || (last != 0 && ERR_GET_REASON(last) != PEM_R_NO_START_LINE)) {
    std::string why = OpenSslErrors();
    return Status::InvalidArgument(certs.empty()
                                       ? "no PEM certificate" + (why.empty() ? "" : ": " + why)
                                       : "a certificate does not parse: " + why);
  }
  ERR_clear_error();
  return certs;
}

Result<PkeyPtr> ParsePrivateKey(const std::string& pem) {
  ERR_clear_error();
  BioPtr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!in) return Status::Error("out of memory");
  PkeyPtr key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
  if (!key) return Status::InvalidArgument("no PEM private key: " + OpenSslErrors());
  return key;
}

Result<TlsMaterial> LoadTlsMaterial(const TlsFiles& files) {
  if (files.cert_file.empty() || files.key_file.empty())
    return Status::InvalidArgument("a certificate and its key are given together");
  TlsMaterial m;
  auto cert = ReadNamed(files.cert_file, "certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadNamed(files.key_file, "key");
  if (!key.ok()) return key.status();
  m.cert_pem = std::move(*cert);
  m.key_pem = std::move(*key);
  auto chain = ParseCertificates(m.cert_pem);
  if (!chain.ok()) return chain.status().Wrap("certificate " + files.cert_file);
  auto pkey = ParsePrivateKey(m.key_pem);
  if (!pkey.ok()) return pkey.status().Wrap("key " + files.key_file);
  X509* leaf = (*chain)[0].get();
  ERR_clear_error();
  if (X509_check_private_key(leaf, pkey->get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("key " + files.key_file + " does not belong to certificate " +
                                   files.cert_file);
  }
  m.leaf = Describe(leaf);
  if (!files.ca_file.empty()) {
    auto ca = ReadNamed(files.ca_file, "CA");
    if (!ca.ok()) return ca.status();
    m.ca_pem = std::move(*ca);
    auto cas = ParseCertificates(m.ca_pem);
    if (!cas.ok()) return cas.status().Wrap("CA " + files.ca_file);
  }
  return m;
}

Status CheckNotExpired(const CertificateInfo& leaf, SystemTime now) {
  const int64_t t =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (leaf.not_after <= t)
    return Status::FailedPrecondition("certificate " + leaf.subject + " expired at " +
                                      IsoTime(leaf.not_after));
  return Status::Ok();
}

std::string IsoTime(int64_t epoch_seconds) {
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace pgrt
