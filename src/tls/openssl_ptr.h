// OpenSSL objects owned by unique_ptr, and the parsers tls/ shares between its files.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "util/status.h"

namespace pgrt {

struct OpenSslFree {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
using BioPtr = std::unique_ptr<BIO, OpenSslFree>;
using BnPtr = std::unique_ptr<BIGNUM, OpenSslFree>;
using X509Ptr = std::unique_ptr<X509, OpenSslFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpenSslFree>;

// Every certificate of a PEM text, in order; InvalidArgument when there is none or one is
// broken.
Result<std::vector<X509Ptr>> ParseCertificates(const std::string& pem);
// The first private key of a PEM text (unencrypted).
Result<PkeyPtr> ParsePrivateKey(const std::string& pem);

}  // namespace pgrt
