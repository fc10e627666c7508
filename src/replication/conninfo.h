// How a replica reaches its primary: the primary_conninfo string and the password file it
// names. The password lives only in that 0600 file (libpq's passfile), never in a
// settings file, on a command line or in an environment.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "pgdata/topology.h"

namespace pgrt {

// 'value' quoted for a libpq conninfo string (backslash and quote escaped) when needed.
std::string ConninfoValue(const std::string& value);

// One line of a .pgpass file: the replication user's password for any database on the
// upstream's host:port.
std::string PassfileLine(const Config& c, const Upstream& up);

// The application_name a replica reports: from POSTGRES_PRIMARY_CONNINFO_EXTRA when it sets
// one, else the host name (a pod's name in a StatefulSet), made safe for
// synchronous_standby_names.
std::string ReplicaApplicationName(const Config& c, const std::string& hostname);

// primary_conninfo for following `up`; `passfile` is the path of the password file.
// Connections to a peer (PGRT_HA with POSTGRES_TLS_CA_FILE) verify its certificate against
// that CA and the host they were given (sslmode=verify-full). `ca_path`: the CA as the
// connecting process can read it. Empty without HA or without a CA.
std::vector<std::pair<std::string, std::string>> PeerTlsParams(const Config& c,
                                                               const std::string& ca_path);
// The CA's copy in PGDATA (readable by postgres's account, as pgrt writes it).
std::string PeerCaCopy(const Config& c);

std::string PrimaryConninfo(const Config& c, const Upstream& up, const std::string& passfile,
                            const std::string& application_name);

}  // namespace pgrt
