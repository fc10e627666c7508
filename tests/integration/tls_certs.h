// Certificates for the TLS tests, made with openssl(1) in a test's directory: a CA, and
// certificates it signs for 127.0.0.1 and localhost (so sslmode=verify-full and curl verify
// them), with a chosen serial and validity (negative days: already expired).
#pragma once

#include <string>

#include "harness/harness.h"
#include "pooler_helpers.h"

namespace pgrt::testing {

struct IssuedCert {
  std::string cert;  // paths
  std::string key;
};

class TestCa {
 public:
  // A CA in `dir` (ca.crt, ca.key); `name` is its common name.
  explicit TestCa(const std::string& dir, const std::string& name = "pgrt test CA") : dir_(dir) {
    Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout '" +
        key() + "' -out '" + cert() + "' -days 30 -subj '/CN=" + name + "'");
  }
  std::string cert() const { return dir_ + "/ca.crt"; }
  std::string key() const { return dir_ + "/ca.key"; }

  // `stem`.crt and `stem`.key in the CA's directory, signed by the CA.
  IssuedCert Issue(const std::string& stem, int serial, int days = 30,
                   const std::string& cn = "localhost") const {
    IssuedCert out{dir_ + "/" + stem + ".crt", dir_ + "/" + stem + ".key"};
    const std::string csr = dir_ + "/" + stem + ".csr", ext = dir_ + "/" + stem + ".ext";
    WriteFileOrDie(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    Run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout '" +
        out.key + "' -out '" + csr + "' -subj '/CN=" + cn + "'");
    Run("openssl x509 -req -in '" + csr + "' -CA '" + cert() + "' -CAkey '" + key() +
        "' -set_serial " + std::to_string(serial) + " -days " + std::to_string(days) +
        " -extfile '" + ext + "' -out '" + out.cert + "'");
    return out;
  }

 private:
  static void Run(const std::string& script) {
    CommandOutput r = pool::Shell(script + " 2>&1");
    if (r.exit_code != 0) throw std::runtime_error(script + ": " + r.output);
  }
  std::string dir_;
};

// The serial (hex, as openssl prints it) of the certificate served on 127.0.0.1:`port`;
// `starttls` "postgres" for postgres and PgBouncer, "" for HTTPS. "" when none was read.
inline std::string ServedSerial(int port, const std::string& starttls = "postgres") {
  CommandOutput r =
      pool::Shell("openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                  (starttls.empty() ? "" : " -starttls " + starttls) +
                  " </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null");
  const std::string prefix = "serial=";
  if (r.output.rfind(prefix, 0) != 0) return "";
  std::string s = r.output.substr(prefix.size());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// "07" for 7: openssl's rendering of a small serial.
inline std::string SerialHex(int serial) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02X", serial);
  return buf;
}

// Replaces `path` by a rename of a copy of `from` (how certbot and editors save).
inline void RenameOver(const std::string& from, const std::string& path) {
  WriteFileOrDie(path + ".new", ReadFileOrEmpty(from), 0600);
  if (std::rename((path + ".new").c_str(), path.c_str()) != 0)
    throw std::runtime_error("rename over " + path);
}

}  // namespace pgrt::testing
