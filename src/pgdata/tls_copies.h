// The copies of the TLS files postgres and PgBouncer read, in PGDATA/pgrt-tls. The set in use
// (the certificate, its key with the mode postgres demands, the CA) is the directory
// `pgrt-tls/current`. A new set is written into `pgrt-tls/next` and exchanged with `current`
// by one rename (renameat2 RENAME_EXCHANGE): a reader (a reload, a postgres restarted at any
// moment) sees the old set or the new one, never a certificate with the other's key. No
// symbolic link: pg_basebackup skips them and pgBackRest refuses one that points into PGDATA.
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
// else the new set is written (each file owned by the run-as account, synced), exchanged with
// `current`, and the previous one removed (returns true).
Result<bool> InstallTlsCopies(const NodeContext& ctx, const TlsCopyContent& content);

}  // namespace pgrt
