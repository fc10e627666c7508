#include "tls/client_context.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "tls/certificate.h"

namespace pgrt {

Result<std::unique_ptr<ClientTlsContext>> ClientTlsContext::Create(const ClientTlsOptions& o) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Status::Error("TLS: " + OpenSslErrors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  auto anchors = ParseCertificates(o.trusted_cert_pem);
  if (!anchors.ok()) return anchors.status().Wrap("the API's certificate");
  X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
  for (auto& c : *anchors) X509_STORE_add_cert(store, c.get());
  // The configured certificate (or an intermediate) is an anchor of its own: no root needed.
  X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (!o.cert_pem.empty()) {
    auto chain = ParseCertificates(o.cert_pem);
    if (!chain.ok()) return chain.status().Wrap("client certificate");
    auto key = ParsePrivateKey(o.key_pem);
    if (!key.ok()) return key.status().Wrap("client key");
    if (SSL_CTX_use_certificate(ctx.get(), (*chain)[0].get()) != 1)
      return Status::InvalidArgument("client certificate: " + OpenSslErrors());
    for (size_t i = 1; i < chain->size(); ++i)
      SSL_CTX_add1_chain_cert(ctx.get(), (*chain)[i].get());
    if (SSL_CTX_use_PrivateKey(ctx.get(), key->get()) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1)
      return Status::InvalidArgument("client key does not belong to the client certificate");
  }
  X509Ptr pinned(X509_dup((*anchors)[0].get()));
  return std::unique_ptr<ClientTlsContext>(new ClientTlsContext(std::move(ctx), std::move(pinned)));
}

SSL* ClientTlsContext::NewSsl() const { return SSL_new(ctx_.get()); }

Status ClientTlsContext::CheckPeer(SSL* ssl) const {
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) return Status::PermissionDenied("the API presented no certificate");
  const long verdict = SSL_get_verify_result(ssl);
  if (verdict != X509_V_OK)
    return Status::PermissionDenied(std::string("the API's certificate was not verified: ") +
                                    X509_verify_cert_error_string(verdict));
  if (X509_cmp(peer, pinned_.get()) != 0 &&
      X509_NAME_cmp(X509_get_subject_name(peer), X509_get_subject_name(pinned_.get())) != 0)
    return Status::PermissionDenied(
        "the API's certificate is neither PGRT_API_TLS_CERT_FILE's nor one with its subject");
  return Status::Ok();
}

}  // namespace pgrt
