// ClientTlsContext: how pgrt's own command-line clients reach the node's API over HTTPS.
//
// The node's API is on loopback and its certificate usually names a public host, not
// 127.0.0.1, so a host-name check cannot apply. The client trusts what the node itself is
// configured with instead: the certificates of PGRT_API_TLS_CERT_FILE are its trust anchors
// (the certificate itself, or an intermediate of its chain), and the certificate served must
// be the configured one or carry the same subject (a renewal the server already uses while the
// file is being replaced). Verification is never turned off.
#pragma once

#include <memory>
#include <string>

#include "tls/openssl_ptr.h"

namespace pgrt {

struct ClientTlsOptions {
  std::string trusted_cert_pem;  // PGRT_API_TLS_CERT_FILE's content
  std::string cert_pem;          // client certificate to present; "" for none
  std::string key_pem;
};

class ClientTlsContext {
 public:
  static Result<std::unique_ptr<ClientTlsContext>> Create(const ClientTlsOptions& options);

  SSL* NewSsl() const;  // the caller owns it
  // After the handshake: ok when the chain verified and the server's certificate is the
  // configured one or has its subject.
  Status CheckPeer(SSL* ssl) const;

 private:
  ClientTlsContext(SslCtxPtr ctx, X509Ptr pinned)
      : ctx_(std::move(ctx)), pinned_(std::move(pinned)) {}
  SslCtxPtr ctx_;
  X509Ptr pinned_;
};

}  // namespace pgrt
