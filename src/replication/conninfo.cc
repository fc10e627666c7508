#include "replication/conninfo.h"

#include <unistd.h>

#include <cctype>
#include <sstream>

#include "pg/passfile.h"
#include "pgdata/layout.h"
#include "pgdata/tls_copies.h"
#include "util/fs.h"

namespace pgrt {
namespace {

// The value of `key=` in a conninfo fragment, or "".
std::string ConninfoGet(const std::string& conninfo, const std::string& key) {
  std::istringstream in(conninfo);
  std::string word;
  while (in >> word) {
    if (word.rfind(key + "=", 0) == 0) {
      std::string v = word.substr(key.size() + 1);
      if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "";
}

}  // namespace

std::string ConninfoValue(const std::string& value) {
  bool plain = !value.empty();
  for (char c : value) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '\'' || c == '\\') plain = false;
  }
  if (plain) return value;
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string PassfileLine(const Config& c, const Upstream& up) {
  return PassfileField(up.host) + ":" + std::to_string(up.port) +
         ":*:" + PassfileField(c.replication_user) + ":" + PassfileField(c.replication_password) +
         "\n";
}

std::string ReplicaApplicationName(const Config& c, const std::string& hostname) {
  std::string from_extra = ConninfoGet(c.primary_conninfo_extra, "application_name");
  if (!from_extra.empty()) return from_extra;
  std::string out;
  for (char ch : hostname) {
    unsigned char u = static_cast<unsigned char>(ch);
    out += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '_';
  }
  return out.empty() ? "pgrt" : out.substr(0, 63);
}

std::vector<std::pair<std::string, std::string>> PeerTlsParams(const Config& c,
                                                               const std::string& ca_path) {
  if (!c.ha_enabled() || c.tls_ca_file.empty()) return {};
  return {{"sslmode", "verify-full"}, {"sslrootcert", ca_path}};
}

std::string PeerCaCopy(const Config& c) { return TlsCaCopy(NodeLayout::From(c)); }

std::string PrimaryConninfo(const Config& c, const Upstream& up, const std::string& passfile,
                            const std::string& application_name) {
  std::string s = "host=" + ConninfoValue(up.host) + " port=" + std::to_string(up.port) +
                  " user=" + ConninfoValue(c.replication_user) +
                  " passfile=" + ConninfoValue(passfile) +
                  " application_name=" + ConninfoValue(application_name) +
                  // A hung connect can last minutes without it.
                  " connect_timeout=5 keepalives=1 keepalives_idle=10";
  for (const auto& [k, v] : PeerTlsParams(c, PeerCaCopy(c))) s += " " + k + "=" + ConninfoValue(v);
  if (!c.primary_conninfo_extra.empty()) s += " " + c.primary_conninfo_extra;
  return s;
}

}  // namespace pgrt
