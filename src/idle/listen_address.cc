#include "idle/listen_address.h"

#include <netdb.h>

#include <cstring>
#include <memory>

namespace pgrt {
namespace {

std::vector<std::string> SplitAddresses(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& item : in) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t comma = item.find(',', start);
      std::string a = item.substr(start, comma == std::string::npos ? comma : comma - start);
      a.erase(0, a.find_first_not_of(" \t"));
      a.erase(a.find_last_not_of(" \t") + 1);
      if (!a.empty()) out.push_back(a);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

}  // namespace

Result<std::vector<ListenAddress>> ResolveListenAddresses(const std::vector<std::string>& addresses,
                                                          int port) {
  const std::string service = std::to_string(port);
  std::vector<ListenAddress> out;
  for (const std::string& a : SplitAddresses(addresses)) {
    std::vector<std::pair<std::string, bool>> hosts;  // host, optional
    if (a == "*")
      hosts = {{"0.0.0.0", false}, {"::", true}};
    else
      hosts = {{a, false}};
    for (const auto& [host, optional] : hosts) {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      hints.ai_flags = AI_PASSIVE;
      addrinfo* found = nullptr;
      if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
        if (optional) continue;
        return Status::InvalidArgument(host + ": " + ::gai_strerror(rc));
      }
      std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
      for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        ListenAddress l;
        if (ai->ai_addrlen > sizeof l.addr) continue;
        std::memcpy(&l.addr, ai->ai_addr, ai->ai_addrlen);
        l.len = ai->ai_addrlen;
        l.where = host + ":" + service;
        l.optional = optional;
        out.push_back(l);
      }
    }
  }
  return out;
}

}  // namespace pgrt
