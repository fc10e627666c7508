#include "tls/server_context.h"

#include <openssl/err.h>

namespace pgrt {

Result<std::shared_ptr<ServerTlsContext>> ServerTlsContext::Create(const TlsMaterial& m) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Status::Error("TLS: " + OpenSslErrors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // No session cache: a connection costs nothing once it is closed.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  auto chain = ParseCertificates(m.cert_pem);
  if (!chain.ok()) return chain.status().Wrap("TLS certificate");
  auto key = ParsePrivateKey(m.key_pem);
  if (!key.ok()) return key.status().Wrap("TLS key");
  if (SSL_CTX_use_certificate(ctx.get(), (*chain)[0].get()) != 1)
    return Status::InvalidArgument("TLS certificate: " + OpenSslErrors());
  for (size_t i = 1; i < chain->size(); ++i)
    if (SSL_CTX_add1_chain_cert(ctx.get(), (*chain)[i].get()) != 1)
      return Status::InvalidArgument("TLS certificate chain: " + OpenSslErrors());
  if (SSL_CTX_use_PrivateKey(ctx.get(), key->get()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1)
    return Status::InvalidArgument("TLS key: " + OpenSslErrors());
  const bool verifies = !m.ca_pem.empty();
  if (verifies) {
    auto cas = ParseCertificates(m.ca_pem);
    if (!cas.ok()) return cas.status().Wrap("TLS CA");
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    for (auto& ca : *cas) {
      X509_STORE_add_cert(store, ca.get());
      if (names != nullptr)
        sk_X509_NAME_push(names, X509_NAME_dup(X509_get_subject_name(ca.get())));
    }
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx.get(), names);
    // Asked for, verified when given, not required: read-only calls need no certificate.
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  ERR_clear_error();
  return std::shared_ptr<ServerTlsContext>(new ServerTlsContext(std::move(ctx), verifies));
}

SSL* ServerTlsContext::NewSsl() const {
  SSL* ssl = SSL_new(ctx_.get());
  if (ssl == nullptr) ERR_clear_error();
  return ssl;
}

}  // namespace pgrt
