// CertWatch: one configured certificate set (certificate, key, optional CA), watched and
// rotated while pgrt runs. When any of the files changes (process/file_watch.h: renames and
// link swaps included), the new set is read and checked — every file readable, the
// certificate and CA parse, the key belongs to the certificate, the certificate has not
// expired — and only then handed to `install`, which puts it into service (postgres's and
// PgBouncer's copies and a reload; the API's context). A set that fails any check, or that
// `install` cannot use, is refused: one error line in the log, `last_error` and a failure
// count in NodeState (shown by /__opr/status and /metrics), and the last good set stays in use.
//
// Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "process/event_loop.h"
#include "process/file_watch.h"
#include "state/node_state.h"
#include "tls/certificate.h"

namespace pgrt {

class CertWatch {
 public:
  using Install = std::function<Status(const TlsMaterial&)>;

  // `which` names the set in logs, status and metrics ("postgres", "api").
  CertWatch(EventLoop& loop, NodeState& state, std::string which, TlsFiles files, Install install,
            FileWatchTiming timing = {});

  // The set as it is at start-up, checked. A set that cannot be used is an error (pgrt does
  // not start); an expired certificate is used all the same, logged and reported, so the node
  // runs and its expiry alert fires. `install` is not called: the caller puts it in place.
  Result<TlsMaterial> LoadInitial();
  // Watches the files from now on.
  void Start();

  // Looks at the files now, as a change would (tests, SIGHUP).
  void Check();

 private:
  void Report();

  EventLoop& loop_;
  NodeState& state_;
  const std::string which_;
  const TlsFiles files_;
  Install install_;
  FileWatch watch_;
  TlsMaterial current_;
  TlsCertStatus status_;
};

}  // namespace pgrt
