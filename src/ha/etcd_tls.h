// EtcdTls: the TLS side of pgrt's etcd client — one SSL_CTX made from the operator's files,
// and a fresh SSL for each connection that verifies the server's certificate chain and that
// the certificate names the host the endpoint gives (a DNS name or an IP address). Verification
// is never turned off: without a CA file the system's trust store is used. A client
// certificate and key, when given, are offered for mutual TLS.
//
// Loading the files reads them once, when the client is made (before the loop serves anyone);
// the handshakes themselves run on the loop through libevent's bufferevent_openssl.
#pragma once

#include <memory>
#include <string>

#include "util/status.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace pgrt {

struct EtcdTlsOptions {
  std::string ca_file;    // PEM CA bundle for the server's chain; "" → the system trust store
  std::string cert_file;  // PEM client certificate (chain) for mutual TLS; "" → none
  std::string key_file;   // its PEM private key; given exactly when cert_file is
};

// What one TLS connection learned about why it failed, filled in by OpenSSL's callbacks during
// the handshake. Owned by the connection and outliving its SSL.
struct TlsNotes {
  std::string host;     // the name or address the certificate must carry
  std::string failure;  // "" while nothing went wrong
};

class EtcdTls {
 public:
  static Result<std::unique_ptr<EtcdTls>> Create(const EtcdTlsOptions& options);
  ~EtcdTls();
  EtcdTls(const EtcdTls&) = delete;
  EtcdTls& operator=(const EtcdTls&) = delete;

  // A client SSL for one connection to `notes.host`: SNI for a name, and a check of the
  // certificate's names against it. `notes` must outlive the SSL; the caller owns the SSL.
  Result<SSL*> NewSsl(TlsNotes& notes) const;

 private:
  explicit EtcdTls(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

}  // namespace pgrt
