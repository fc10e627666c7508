// Throwaway certificates for TLS tests against etcd, made with the openssl CLI in a test's
// temporary directory: a CA, a server certificate it signs for the names given, and a client
// certificate it signs (for mutual TLS). EC P-256 keys: quick to make.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "harness/harness.h"

namespace pgrt::testing {

struct EtcdCerts {
  std::string ca;
  std::string server_cert, server_key;
  std::string client_cert, client_key;
  std::string named_client_cert, named_client_key;  // a client certificate with a CN
};

namespace etcd_certs_detail {

inline void Openssl(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  auto r = RunCommand(args, {{"PATH", "/usr/bin:/bin"}, {"HOME", dir}});
  if (r.exit_code != 0) throw std::runtime_error("openssl " + args[1] + ": " + r.output);
}

// A key and a certificate for `subject` signed by the CA in `dir`, with `extensions`.
inline void Issue(const std::string& dir, const std::string& name, const std::string& subject,
                  const std::string& extensions) {
  const std::string base = dir + "/" + name;
  Openssl(dir, {"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", base + ".key", "-out", base + ".csr", "-subj", subject});
  WriteFileOrDie(base + ".ext", extensions);
  Openssl(dir,
          {"x509", "-req", "-in", base + ".csr", "-CA", dir + "/ca.crt", "-CAkey", dir + "/ca.key",
           "-CAcreateserial", "-days", "2", "-out", base + ".crt", "-extfile", base + ".ext"});
}

}  // namespace etcd_certs_detail

// `server_names` are the server certificate's subjectAltNames ("IP:127.0.0.1,DNS:localhost").
inline EtcdCerts MakeEtcdCerts(const std::string& dir, const std::string& server_names) {
  using etcd_certs_detail::Issue;
  using etcd_certs_detail::Openssl;
  Openssl(dir, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", dir + "/ca.key", "-out", dir + "/ca.crt", "-days", "2",
                "-subj", "/CN=pgrt test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  // clientAuth too: etcd's JSON gateway calls its own gRPC server with this certificate, which
  // must pass as a client's when etcd requires client certificates.
  Issue(dir, "server", "/CN=etcd",
        "subjectAltName=" + server_names + "\nextendedKeyUsage=serverAuth,clientAuth\n");
  // No CN: etcd refuses a gateway request whose client certificate has one once
  // authentication is on (it would not be the user, the token is).
  Issue(dir, "client", "/O=pgrt test client", "extendedKeyUsage=clientAuth\n");
  Issue(dir, "named-client", "/CN=pgrt", "extendedKeyUsage=clientAuth\n");
  return EtcdCerts{dir + "/ca.crt",          dir + "/server.crt", dir + "/server.key",
                   dir + "/client.crt",      dir + "/client.key", dir + "/named-client.crt",
                   dir + "/named-client.key"};
}

}  // namespace pgrt::testing
