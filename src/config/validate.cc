#include "config/validate.h"

#include <libpq-fe.h>

#include <memory>
#include <optional>

#include "config/values.h"

namespace pgrt {
namespace {

using Problem = std::optional<std::string>;

struct Rule {
  std::vector<std::string> vars;  // the rule is skipped when one of these is itself invalid
  Problem (*check)(const Config&);
};

// A WAL location as postgres prints it: two hex numbers of 1-8 digits, "X/X".
bool IsLsn(const std::string& s) {
  size_t slash = s.find('/');
  if (slash == std::string::npos) return false;
  auto hex = [](const std::string& part) {
    return !part.empty() && part.size() <= 8 &&
           part.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  };
  return hex(s.substr(0, slash)) && hex(s.substr(slash + 1));
}

// POSTGRES_PRIMARY_CONNINFO_EXTRA is appended to primary_conninfo as it is: a fragment libpq
// cannot parse would leave the replica unable to connect, found only at its first attempt.
Problem CheckConninfoFragment(const std::string& fragment) {
  if (fragment.empty()) return std::nullopt;
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(fragment.c_str(), &error), &PQconninfoFree);
  if (options != nullptr) return std::nullopt;
  std::string why = error != nullptr ? error : "out of memory";
  PQfreemem(error);
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  return "POSTGRES_PRIMARY_CONNINFO_EXTRA: " + Quote(fragment) +
         " is not a connection string: " + why;
}

// Two listeners on one port fail at bind time with a less helpful message.
Problem SamePort(const char* name, int port, const char* other, int other_port) {
  if (port != other_port) return std::nullopt;
  return std::string(name) + ": " + std::to_string(port) + " is also " + other;
}

// Cluster and node names are path segments of etcd keys, and node names also appear in
// application_name and URLs: no slash, nothing a shell or a URL would mangle.
Problem CheckKeySegment(const char* var, const std::string& n) {
  if (!n.empty() && n.size() <= 63 && n != "." && n != ".." &&
      n.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
          std::string::npos)
    return std::nullopt;
  return std::string(var) + ": " + Quote(n) + " is not a name (allowed: 1-63 of A-Z a-z 0-9 _ . -)";
}

const std::vector<Rule>& Rules() {
  static const std::vector<Rule> kRules = {
      {{"POSTGRES_REPLICATION_MODE", "POSTGRES_PRIMARY_HOST"},
       [](const Config& c) -> Problem {
         if (c.replication_mode != ReplicationMode::kReplica || !c.primary_host.empty()) {
           return std::nullopt;
         }
         return "POSTGRES_PRIMARY_HOST: required when POSTGRES_REPLICATION_MODE=replica";
       }},
      {{"POSTGRES_REPLICATION_MODE", "POSTGRES_REPLICATION_PASSWORD"},
       [](const Config& c) -> Problem {
         if (c.replication_mode == ReplicationMode::kStandalone ||
             !c.replication_password.empty()) {
           return std::nullopt;
         }
         return std::string("POSTGRES_REPLICATION_PASSWORD: required when ") +
                "POSTGRES_REPLICATION_MODE=" + ToString(c.replication_mode) +
                " (or POSTGRES_REPLICATION_PASSWORD_FILE)";
       }},
      {{"PGRT_HA", "POSTGRES_REPLICATION_MODE", "POSTGRES_PRIMARY_HOST"},
       [](const Config& c) -> Problem {
         // One environment for every node: the cluster, not the configuration, says which
         // node is the primary.
         if (!c.ha_enabled()) return std::nullopt;
         if (c.replication_mode != ReplicationMode::kStandalone)
           return "POSTGRES_REPLICATION_MODE: not used with PGRT_HA=etcd (the cluster elects "
                  "the primary); unset it";
         if (!c.primary_host.empty())
           return "POSTGRES_PRIMARY_HOST: not used with PGRT_HA=etcd (replicas follow the "
                  "elected leader); unset it";
         return std::nullopt;
       }},
      {{"PGRT_HA", "PGRT_ETCD_ENDPOINTS"},
       [](const Config& c) -> Problem {
         if (!c.ha_enabled()) return std::nullopt;
         if (c.etcd_endpoints.empty()) return "PGRT_ETCD_ENDPOINTS: required when PGRT_HA=etcd";
         size_t start = 0;
         while (start <= c.etcd_endpoints.size()) {
           size_t comma = c.etcd_endpoints.find(',', start);
           std::string url = c.etcd_endpoints.substr(
               start, comma == std::string::npos ? std::string::npos : comma - start);
           if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
             return "PGRT_ETCD_ENDPOINTS: " + Quote(url) +
                    " is not an http:// or https:// URL (e.g. http://etcd1:2379)";
           if (comma == std::string::npos) break;
           start = comma + 1;
         }
         return std::nullopt;
       }},
      {{"PGRT_HA", "POSTGRES_REPLICATION_PASSWORD"},
       [](const Config& c) -> Problem {
         if (!c.ha_enabled() || !c.replication_password.empty()) return std::nullopt;
         return "POSTGRES_REPLICATION_PASSWORD: required when PGRT_HA=etcd (or "
                "POSTGRES_REPLICATION_PASSWORD_FILE)";
       }},
      {{"PGRT_HA", "PGRT_SYNC_MODE"},
       [](const Config& c) -> Problem {
         if (c.sync_mode == "off") return std::nullopt;
         if (!c.ha_enabled()) return "PGRT_SYNC_MODE: needs PGRT_HA=etcd";
         return std::nullopt;
       }},
      {{"PGRT_IDLE_TIMEOUT", "PGRT_HA"},
       [](const Config& c) -> Problem {
         // A sleeping leader would hold the lease with no postgres behind it.
         if (!c.idle_enabled() || !c.ha_enabled()) return std::nullopt;
         return "PGRT_IDLE_TIMEOUT: not available with PGRT_HA=etcd (a sleeping leader would "
                "hold the lease with no postgres behind it)";
       }},
      {{"PGRT_CLUSTER_NAME"},
       [](const Config& c) { return CheckKeySegment("PGRT_CLUSTER_NAME", c.cluster_name); }},
      {{"PGRT_NODE_NAME"},
       [](const Config& c) -> Problem {
         if (c.node_name.empty()) return std::nullopt;
         return CheckKeySegment("PGRT_NODE_NAME", c.node_name);
       }},
      {{"PGRT_ETCD_CERT_FILE", "PGRT_ETCD_KEY_FILE"},
       [](const Config& c) -> Problem {
         if (c.etcd_cert_file.empty() == c.etcd_key_file.empty()) return std::nullopt;
         return c.etcd_key_file.empty()
                    ? "PGRT_ETCD_KEY_FILE: required when PGRT_ETCD_CERT_FILE is set"
                    : "PGRT_ETCD_CERT_FILE: required when PGRT_ETCD_KEY_FILE is set";
       }},
      {{"PGRT_ETCD_USERNAME", "PGRT_ETCD_PASSWORD"},
       [](const Config& c) -> Problem {
         if (c.etcd_username.empty() == c.etcd_password.empty()) return std::nullopt;
         return c.etcd_password.empty()
                    ? "PGRT_ETCD_PASSWORD: required when PGRT_ETCD_USERNAME is set"
                    : "PGRT_ETCD_USERNAME: required when PGRT_ETCD_PASSWORD is set";
       }},
      {{"POSTGRES_USER"},
       [](const Config& c) -> Problem {
         // initdb creates this role itself and fails half-way on these characters
         // ("invalid character in extension owner", or its own SQL breaking).
         if (c.user.find_first_of("\"$'\\") == std::string::npos) return std::nullopt;
         return "POSTGRES_USER: PostgreSQL's initdb does not accept \", $, ' or \\ in the "
                "superuser's name (other roles and POSTGRES_DB may hold them)";
       }},
      {{"POSTGRES_REPLICATION_MODE", "PGRT_HA", "POSTGRES_REPLICATION_USER", "POSTGRES_USER"},
       [](const Config& c) -> Problem {
         // The primary sets the replication role's password at every start: sharing the
         // superuser would overwrite the superuser's password.
         if ((c.replication_mode == ReplicationMode::kStandalone && !c.ha_enabled()) ||
             c.replication_user != c.user) {
           return std::nullopt;
         }
         return "POSTGRES_REPLICATION_USER: must differ from POSTGRES_USER";
       }},
      {{"POSTGRES_REPLICATION_MODE", "PGRT_HA", "POSTGRES_MAX_WAL_SENDERS"},
       [](const Config& c) -> Problem {
         if ((c.replication_mode != ReplicationMode::kPrimary && !c.ha_enabled()) ||
             c.max_wal_senders > 0) {
           return std::nullopt;
         }
         return "POSTGRES_MAX_WAL_SENDERS: must be at least 1 when "
                "POSTGRES_REPLICATION_MODE=primary or PGRT_HA=etcd";
       }},
      {{"POSTGRES_REPLICATION_MODE", "POSTGRES_MAX_REPLICATION_SLOTS"},
       [](const Config& c) -> Problem {
         if (c.replication_mode != ReplicationMode::kPrimary || c.max_replication_slots > 0) {
           return std::nullopt;
         }
         return "POSTGRES_MAX_REPLICATION_SLOTS: must be at least 1 when "
                "POSTGRES_REPLICATION_MODE=primary";
       }},
      {{"POSTGRES_TLS_CERT_FILE", "POSTGRES_TLS_KEY_FILE"},
       [](const Config& c) -> Problem {
         if (c.tls_cert_file.empty() == c.tls_key_file.empty()) return std::nullopt;
         return c.tls_key_file.empty()
                    ? "POSTGRES_TLS_KEY_FILE: required when POSTGRES_TLS_CERT_FILE is set"
                    : "POSTGRES_TLS_CERT_FILE: required when POSTGRES_TLS_KEY_FILE is set";
       }},
      {{"PGRT_API_TLS_CERT_FILE", "PGRT_API_TLS_KEY_FILE"},
       [](const Config& c) -> Problem {
         if (c.api_tls_cert_file.empty() == c.api_tls_key_file.empty()) return std::nullopt;
         return c.api_tls_key_file.empty()
                    ? "PGRT_API_TLS_KEY_FILE: required when PGRT_API_TLS_CERT_FILE is set"
                    : "PGRT_API_TLS_CERT_FILE: required when PGRT_API_TLS_KEY_FILE is set";
       }},
      {{"PGRT_API_TLS_CA_FILE", "PGRT_API_TLS_CERT_FILE"},
       [](const Config& c) -> Problem {
         if (c.api_tls_ca_file.empty() || !c.api_tls_cert_file.empty()) return std::nullopt;
         return "PGRT_API_TLS_CA_FILE: needs PGRT_API_TLS_CERT_FILE and PGRT_API_TLS_KEY_FILE "
                "(client certificates need HTTPS)";
       }},
      {{"PGRT_API_TLS_CLIENT_CERT_FILE", "PGRT_API_TLS_CLIENT_KEY_FILE"},
       [](const Config& c) -> Problem {
         if (c.api_tls_client_cert_file.empty() == c.api_tls_client_key_file.empty())
           return std::nullopt;
         return c.api_tls_client_key_file.empty() ? "PGRT_API_TLS_CLIENT_KEY_FILE: required when "
                                                    "PGRT_API_TLS_CLIENT_CERT_FILE is set"
                                                  : "PGRT_API_TLS_CLIENT_CERT_FILE: required when "
                                                    "PGRT_API_TLS_CLIENT_KEY_FILE is set";
       }},
      {{"POSTGRES_TLS_REQUIRED", "POSTGRES_TLS_CERT_FILE"},
       [](const Config& c) -> Problem {
         if (!c.tls_required || !c.tls_cert_file.empty()) return std::nullopt;
         return "POSTGRES_TLS_REQUIRED: needs POSTGRES_TLS_CERT_FILE and POSTGRES_TLS_KEY_FILE";
       }},
      {{"PGRT_RESTORE_TARGET_TIME", "PGRT_RESTORE_TARGET_LSN", "PGRT_RESTORE_TARGET_XID",
        "PGRT_RESTORE_FROM"},
       [](const Config& c) -> Problem {
         int targets = !c.restore_target_time.empty() + !c.restore_target_lsn.empty() +
                       !c.restore_target_xid.empty();
         if (targets == 0) return std::nullopt;
         if (c.restore_from.empty()) {
           const char* name = !c.restore_target_time.empty()  ? "PGRT_RESTORE_TARGET_TIME"
                              : !c.restore_target_lsn.empty() ? "PGRT_RESTORE_TARGET_LSN"
                                                              : "PGRT_RESTORE_TARGET_XID";
           return std::string(name) + ": needs PGRT_RESTORE_FROM";
         }
         if (targets > 1)
           return "PGRT_RESTORE_TARGET_*: give one of PGRT_RESTORE_TARGET_TIME, "
                  "PGRT_RESTORE_TARGET_LSN and PGRT_RESTORE_TARGET_XID";
         return std::nullopt;
       }},
      {{"PGRT_RESTORE_TARGET_LSN"},
       [](const Config& c) -> Problem {
         if (c.restore_target_lsn.empty() || IsLsn(c.restore_target_lsn)) return std::nullopt;
         return "PGRT_RESTORE_TARGET_LSN: " + Quote(c.restore_target_lsn) +
                " is not a WAL location (allowed: hex/hex such as 0/3000060)";
       }},
      {{"PGRT_RESTORE_TARGET_XID"},
       [](const Config& c) -> Problem {
         const std::string& x = c.restore_target_xid;
         if (x.empty() ||
             (x.size() <= 20 && x.find_first_not_of("0123456789") == std::string::npos))
           return std::nullopt;
         return "PGRT_RESTORE_TARGET_XID: " + Quote(x) + " is not a transaction ID";
       }},
      {{"PGRT_DUMP_SCHEDULE", "PGRT_DUMP_DIR"},
       [](const Config& c) -> Problem {
         if (c.dump_schedule.empty() || !c.dump_dir.empty()) return std::nullopt;
         return "PGRT_DUMP_SCHEDULE: needs PGRT_DUMP_DIR";
       }},
      {{"PGRT_BACKUP_SCHEDULE", "PGRT_BACKUP"},
       [](const Config& c) -> Problem {
         if (c.backup_schedule.empty() || c.backup != "none") return std::nullopt;
         return "PGRT_BACKUP_SCHEDULE: needs PGRT_BACKUP=pgbackrest";
       }},
      {{"PGRT_API_PORT", "POSTGRES_PORT"},
       [](const Config& c) {
         return SamePort("PGRT_API_PORT", c.api_port, "POSTGRES_PORT", c.port);
       }},
      {{"PGBOUNCER_ENABLED", "PGBOUNCER_PORT", "POSTGRES_PORT"},
       [](const Config& c) -> Problem {
         if (!c.pgbouncer_enabled) return std::nullopt;
         return SamePort("PGBOUNCER_PORT", c.pgbouncer_port, "POSTGRES_PORT", c.port);
       }},
      {{"PGBOUNCER_ENABLED", "PGBOUNCER_PORT", "PGRT_API_PORT"},
       [](const Config& c) -> Problem {
         if (!c.pgbouncer_enabled) return std::nullopt;
         return SamePort("PGBOUNCER_PORT", c.pgbouncer_port, "PGRT_API_PORT", c.api_port);
       }},
      {{"POSTGRES_PRIMARY_CONNINFO_EXTRA"},
       [](const Config& c) { return CheckConninfoFragment(c.primary_conninfo_extra); }},
      {{"PGRT_SOCKET_DIR", "POSTGRES_PORT"},
       [](const Config& c) -> Problem {
         // sun_path holds 108 bytes with the NUL; PostgreSQL refuses longer paths at start.
         const std::string path = c.socket_dir + "/.s.PGSQL." + std::to_string(c.port);
         if (path.size() <= 107) return std::nullopt;
         return "PGRT_SOCKET_DIR: socket path " + path + " is longer than 107 bytes";
       }},
  };
  return kRules;
}

}  // namespace

std::vector<std::string> CheckCrossField(const Config& config,
                                         const std::set<std::string>& invalid) {
  std::vector<std::string> problems;
  for (const Rule& rule : Rules()) {
    bool skip = false;
    for (const std::string& var : rule.vars) skip = skip || invalid.count(var) > 0;
    if (skip) continue;
    if (Problem p = rule.check(config)) problems.push_back(std::move(*p));
  }
  return problems;
}

}  // namespace pgrt
