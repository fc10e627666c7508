// ServerTlsContext: an SSL_CTX for accepting TLS connections, built from checked material
// (certificate.h). With a CA, clients are asked for a certificate and one they present is
// verified against it; a client that presents none still connects (what it may do then is
// the caller's decision, see HttpRequest::client_cert_verified).
//
// A context is immutable once built: a rotation builds a new one and new connections use it,
// while connections made with the old one keep it (each SSL holds a reference).
#pragma once

#include <memory>

#include "tls/certificate.h"
#include "tls/openssl_ptr.h"

namespace pgrt {

class ServerTlsContext {
 public:
  static Result<std::shared_ptr<ServerTlsContext>> Create(const TlsMaterial& material);

  // A server SSL for one accepted connection; the caller owns it. nullptr when OpenSSL fails.
  SSL* NewSsl() const;
  bool verifies_clients() const { return verifies_clients_; }

 private:
  ServerTlsContext(SslCtxPtr ctx, bool verifies)
      : ctx_(std::move(ctx)), verifies_clients_(verifies) {}
  SslCtxPtr ctx_;
  bool verifies_clients_;
};

}  // namespace pgrt
