// Who a relayed client is, told to postgres by the loopback address the door connects
// from. Behind the door postgres sees every client arrive from loopback, so pg_hba.conf
// could no longer tell a remote client from a local one (TLS required for remote clients,
// replication from POSTGRES_REPLICATION_ALLOWED_NETWORKS only). The door keeps the
// distinction by binding its connection to postgres to one of three loopback addresses,
// and pg_hba.conf (pgdata/settings.cc) gives each its rules.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

namespace pgrt {

enum class ClientClass {
  kLocal,              // loopback or the Unix socket: the rules of local TCP clients
  kRemote,             // any other address: the rules of remote clients, no replication
  kRemoteReplication,  // a remote address inside POSTGRES_REPLICATION_ALLOWED_NETWORKS
};

// The address the door connects to postgres from, for each class (pgdata/settings.h).
const char* SourceAddress(ClientClass c);

// `networks`: CIDRs as the configuration checked them ("10.0.0.0/8", "::/0").
ClientClass Classify(const sockaddr* addr, const std::vector<std::string>& networks);

// The class a connection coming from one of the door's own source addresses stands for
// (a relay of the door that reached the door again: idle/door.h).
ClientClass ClassOfRelaySource(const sockaddr* addr);

// True when `addr` (IPv4, IPv6 or IPv4-mapped) lies in `cidr`.
bool InCidr(const sockaddr* addr, const std::string& cidr);

}  // namespace pgrt
