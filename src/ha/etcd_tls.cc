#include "ha/etcd_tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls/certificate.h"

namespace pgrt {
namespace {

TlsNotes* NotesOf(const SSL* ssl) {
  return ssl == nullptr ? nullptr : static_cast<TlsNotes*>(SSL_get_app_data(ssl));
}

// OpenSSL's verdict on each certificate of the chain: kept as it is (a failure fails the
// handshake), and the first reason written down so that the caller's error can say it.
int RecordVerifyFailure(int ok, X509_STORE_CTX* store) {
  if (ok == 1) return 1;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  TlsNotes* notes = NotesOf(ssl);
  if (notes != nullptr && notes->failure.empty()) {
    const int err = X509_STORE_CTX_get_error(store);
    const std::string why = X509_verify_cert_error_string(err);
    if (err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH)
      notes->failure = "the server's certificate does not name " + notes->host + " (" + why + ")";
    else
      notes->failure = "the server's certificate was not verified: " + why;
  }
  return 0;
}

// A fatal alert from the server (a client certificate it wanted and did not get, or did not
// trust) arrives after the client's side of a TLS 1.3 handshake is done; only this callback
// sees which alert it was.
void RecordAlert(const SSL* ssl, int where, int value) {
  if ((where & SSL_CB_ALERT) == 0 || (where & SSL_CB_READ) == 0) return;
  if ((value >> 8) != SSL3_AL_FATAL) return;
  TlsNotes* notes = NotesOf(ssl);
  if (notes != nullptr && notes->failure.empty())
    notes->failure =
        std::string("the server ended the TLS session: ") + SSL_alert_desc_string_long(value);
}

bool IsIpAddress(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

Result<std::unique_ptr<EtcdTls>> EtcdTls::Create(const EtcdTlsOptions& options) {
  if (options.cert_file.empty() != options.key_file.empty())
    return Status::InvalidArgument(
        "etcd TLS: a client certificate and its key are given together or not at all");
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return Status::Error("etcd TLS: " + OpenSslErrors());
  std::unique_ptr<EtcdTls> tls(new EtcdTls(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, &RecordVerifyFailure);
  SSL_CTX_set_info_callback(ctx, &RecordAlert);
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1)
      return Status::InvalidArgument("etcd TLS: CA file " + options.ca_file + ": " +
                                     OpenSslErrors());
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return Status::Error("etcd TLS: the system trust store: " + OpenSslErrors());
  }
  if (!options.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1)
      return Status::InvalidArgument("etcd TLS: client certificate " + options.cert_file + ": " +
                                     OpenSslErrors());
    if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
      return Status::InvalidArgument("etcd TLS: client key " + options.key_file + ": " +
                                     OpenSslErrors());
    if (SSL_CTX_check_private_key(ctx) != 1)
      return Status::InvalidArgument("etcd TLS: client key " + options.key_file +
                                     " does not belong to " + options.cert_file);
  }
  return tls;
}

EtcdTls::~EtcdTls() { SSL_CTX_free(ctx_); }

Result<SSL*> EtcdTls::NewSsl(TlsNotes& notes) const {
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) return Status::Error("etcd TLS: " + OpenSslErrors());
  bool named;
  if (IsIpAddress(notes.host)) {
    // An address is matched against the certificate's IP SANs; SNI carries names only.
    named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), notes.host.c_str()) == 1;
  } else {
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    named = SSL_set1_host(ssl, notes.host.c_str()) == 1 &&
            SSL_set_tlsext_host_name(ssl, notes.host.c_str()) == 1;
  }
  if (!named) {
    SSL_free(ssl);
    return Status::InvalidArgument("etcd TLS: cannot check certificates against " + notes.host +
                                   ": " + OpenSslErrors());
  }
  SSL_set_app_data(ssl, &notes);
  return ssl;
}

}  // namespace pgrt
