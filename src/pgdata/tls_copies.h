// The copies of the TLS files postgres and PgBouncer read, in PGDATA/pgrt-tls. A set (the
// certificate, its key with the mode postgres demands, the CA) lives in a directory of its
// own, and `pgrt-tls/current` is a symbolic link to the set in use: installing a new set is
// one rename of that link, so a reader (a reload, a postgres restarted at any moment) sees
// the old set or the new one, never a certificate with the other's key.
#pragma once

#include <string>

#include "pgdata/context.h"

namespace pgrt {

struct TlsCopyContent {
  std::string cert;  // PEM
  std::string key;
  std::string ca;  // "" without a CA
};

// The stable paths the settings name: <tls_dir>/current/{server.crt,server.key,ca.crt}.
std::string TlsCopyPath(const NodeLayout& layout, const char* name);
inline std::string TlsCertCopy(const NodeLayout& l) { return TlsCopyPath(l, "server.crt"); }
inline std::string TlsKeyCopy(const NodeLayout& l) { return TlsCopyPath(l, "server.key"); }
inline std::string TlsCaCopy(const NodeLayout& l) { return TlsCopyPath(l, "ca.crt"); }

// Makes `content` the current set: nothing changes when it already is (returns false);
// else a new set directory is written (each file owned by the run-as account, synced),
// `current` is pointed at it by a rename, and every other set is removed (returns true).
Result<bool> InstallTlsCopies(const NodeContext& ctx, const TlsCopyContent& content);

}  // namespace pgrt
