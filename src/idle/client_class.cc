#include "idle/client_class.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

#include "pgdata/settings.h"

namespace pgrt {
namespace {

// An address as 16 bytes (IPv4 as IPv4-mapped IPv6), so one comparison serves both.
std::optional<std::array<uint8_t, 16>> Bytes(const sockaddr* addr) {
  std::array<uint8_t, 16> b{};
  if (addr->sa_family == AF_INET6) {
    std::memcpy(b.data(), &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, 16);
    return b;
  }
  if (addr->sa_family == AF_INET) {
    b[10] = b[11] = 0xff;
    std::memcpy(b.data() + 12, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, 4);
    return b;
  }
  return std::nullopt;
}

bool IsMappedV4(const std::array<uint8_t, 16>& b) {
  for (int i = 0; i < 10; ++i)
    if (b[i] != 0) return false;
  return b[10] == 0xff && b[11] == 0xff;
}

bool PrefixEqual(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

}  // namespace

const char* SourceAddress(ClientClass c) {
  switch (c) {
    case ClientClass::kLocal:
      return kRelayLocalSource;
    case ClientClass::kRemote:
      return kRelayRemoteSource;
    case ClientClass::kRemoteReplication:
      return kRelayReplicationSource;
  }
  return kRelayRemoteSource;
}

bool InCidr(const sockaddr* addr, const std::string& cidr) {
  auto have = Bytes(addr);
  const size_t slash = cidr.find('/');
  if (!have || slash == std::string::npos) return false;
  const std::string net = cidr.substr(0, slash);
  const int bits = std::atoi(cidr.c_str() + slash + 1);
  std::array<uint8_t, 16> want{};
  if (net.find(':') != std::string::npos) {
    if (inet_pton(AF_INET6, net.c_str(), want.data()) != 1) return false;
    return PrefixEqual(*have, want, bits);
  }
  if (!IsMappedV4(*have)) return false;
  want[10] = want[11] = 0xff;
  if (inet_pton(AF_INET, net.c_str(), want.data() + 12) != 1) return false;
  return PrefixEqual(*have, want, 96 + bits);
}

ClientClass ClassOfRelaySource(const sockaddr* addr) {
  if (InCidr(addr, std::string(kRelayRemoteSource) + "/32")) return ClientClass::kRemote;
  if (InCidr(addr, std::string(kRelayReplicationSource) + "/32"))
    return ClientClass::kRemoteReplication;
  return ClientClass::kLocal;
}

ClientClass Classify(const sockaddr* addr, const std::vector<std::string>& networks) {
  if (addr->sa_family == AF_UNIX || InCidr(addr, "127.0.0.0/8") || InCidr(addr, "::1/128"))
    return ClientClass::kLocal;
  for (const std::string& cidr : networks)
    if (InCidr(addr, cidr)) return ClientClass::kRemoteReplication;
  return ClientClass::kRemote;
}

}  // namespace pgrt
