// The runtime's TLS: POSTGRES_TLS_* (postgres and PgBouncer) and PGRT_API_TLS_* (the API),
// each checked at start and then watched, a new set installed without a restart
// (tls/cert_watch.h).
#include <spdlog/spdlog.h>

#include "pgdata/tls_copies.h"
#include "runtime/runtime.h"

namespace pgrt {

Status Runtime::InitTls() {
  if (!config_.tls_cert_file.empty()) {
    postgres_tls_ = std::make_unique<CertWatch>(
        loop_, state_, "postgres",
        TlsFiles{config_.tls_cert_file, config_.tls_key_file, config_.tls_ca_file},
        [this](const TlsMaterial& m) { return InstallPostgresTls(m); });
    // Checked now; the node's start-up writes the copies (pgdata/owned_files.h).
    auto initial = postgres_tls_->LoadInitial();
    if (!initial.ok()) return initial.status();
  }
  if (!config_.api_tls_cert_file.empty()) {
    api_tls_ = std::make_unique<CertWatch>(
        loop_, state_, "api",
        TlsFiles{config_.api_tls_cert_file, config_.api_tls_key_file, config_.api_tls_ca_file},
        [this](const TlsMaterial& m) -> Status {
          auto ctx = ServerTlsContext::Create(m);
          if (!ctx.ok()) return ctx.status();
          api_tls_context_ = std::move(*ctx);  // open connections keep the one they started with
          return Status::Ok();
        });
    auto initial = api_tls_->LoadInitial();
    if (!initial.ok()) return initial.status();
    auto ctx = ServerTlsContext::Create(*initial);
    if (!ctx.ok()) return ctx.status().Wrap("TLS (api)");
    api_tls_context_ = std::move(*ctx);
    api_->UseTls([this] { return api_tls_context_->NewSsl(); });
    api_tls_->Start();
  }
  return Status::Ok();
}

Status Runtime::InstallPostgresTls(const TlsMaterial& m) {
  auto changed = InstallTlsCopies(ctx_, TlsCopyContent{m.cert_pem, m.key_pem, m.ca_pem});
  if (!changed.ok()) return changed.status();
  // postgres reloads its certificate on SIGHUP (new connections use it, open ones keep
  // theirs); PgBouncer likewise on its reload.
  if (*changed) node_.Reload();
  return Status::Ok();
}

}  // namespace pgrt
