#include "tls/cert_watch.h"

#include <spdlog/spdlog.h>

namespace pgrt {
namespace {

std::vector<std::string> Paths(const TlsFiles& f) {
  std::vector<std::string> out{f.cert_file, f.key_file};
  if (!f.ca_file.empty()) out.push_back(f.ca_file);
  return out;
}

bool SameSet(const TlsMaterial& a, const TlsMaterial& b) {
  return a.cert_pem == b.cert_pem && a.key_pem == b.key_pem && a.ca_pem == b.ca_pem;
}

}  // namespace

CertWatch::CertWatch(EventLoop& loop, NodeState& state, std::string which, TlsFiles files,
                     Install install, FileWatchTiming timing)
    : loop_(loop),
      state_(state),
      which_(std::move(which)),
      files_(std::move(files)),
      install_(std::move(install)),
      watch_(loop, Paths(files_), timing, [this] { Check(); }) {}

Result<TlsMaterial> CertWatch::LoadInitial() {
  auto m = LoadTlsMaterial(files_);
  if (!m.ok()) return m.status().Wrap("TLS (" + which_ + ")");
  current_ = *m;
  if (Status st = CheckNotExpired(m->leaf, loop_.clock().WallNow()); !st.ok()) {
    spdlog::error("TLS ({}): {}; serving it until it is replaced", which_, st.message());
    status_.last_error = st.message();
  }
  Report();
  return m;
}

void CertWatch::Start() { watch_.Start(); }

void CertWatch::Check() {
  auto m = LoadTlsMaterial(files_);
  Status st = m.ok() ? CheckNotExpired(m->leaf, loop_.clock().WallNow()) : m.status();
  if (st.ok() && SameSet(*m, current_)) return;  // touched, or rewritten with the same content
  if (st.ok()) st = install_(*m);
  if (!st.ok()) {
    ++status_.failures;
    status_.last_error = st.message();
    spdlog::error("TLS ({}): new certificate set refused, the current one stays in use: {}", which_,
                  st.message());
    Report();
    return;
  }
  current_ = std::move(*m);
  ++status_.rotations;
  status_.last_rotation = loop_.clock().WallNow();
  status_.last_error.clear();
  spdlog::info("TLS ({}): new certificate in use: {} (serial {}, valid until {})", which_,
               current_.leaf.subject, current_.leaf.serial, IsoTime(current_.leaf.not_after));
  Report();
}

void CertWatch::Report() {
  status_.subject = current_.leaf.subject;
  status_.serial = current_.leaf.serial;
  status_.sha256 = current_.leaf.sha256;
  status_.not_after = current_.leaf.not_after;
  state_.SetTls(which_, status_);
}

}  // namespace pgrt
