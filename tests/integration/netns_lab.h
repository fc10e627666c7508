// NetnsLab: a private network for tests made of network namespaces (ip netns, as root). A
// hub namespace holds a bridge; each host is a namespace of its own joined to the bridge by a
// veth pair, with an address 10.77.<subnet>.<n>/24 that exists only inside these namespaces
// (nothing is added to the root namespace, so the machine's own network is never touched).
// Processes run in a host through Launcher() (`ip netns exec`, which execs the program in its
// own process), test threads through Enter() (setns affects only the calling thread). Cut()
// drops every packet between a host and given addresses with an nftables table in the host's
// namespace; Heal() deletes it. Every namespace made is deleted when the lab goes out of scope
// (declare the lab before the processes that run in it, so they are ended first).
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "harness/harness.h"

namespace pgrt::testing {

inline constexpr char kIp[] = "/usr/sbin/ip";
inline constexpr char kNft[] = "/usr/sbin/nft";

class NetnsLab {
 public:
  NetnsLab() {
    std::random_device rd;
    tag_ = std::to_string(10000 + rd() % 90000);
    subnet_ = std::to_string(1 + rd() % 250);
    hub_ = "pgrt-" + tag_ + "-hub";
    if (!Ip({"netns", "add", hub_})) return;
    made_.push_back(hub_);
    Ip({"-n", hub_, "link", "set", "lo", "up"}) &&
        Ip({"-n", hub_, "link", "add", "br0", "type", "bridge"}) &&
        Ip({"-n", hub_, "link", "set", "br0", "up"});
  }
  ~NetnsLab() {
    // Hosts first: deleting a namespace ends its end of the veth pair, and with it the other.
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) Ip({"netns", "del", *it});
  }
  NetnsLab(const NetnsLab&) = delete;
  NetnsLab& operator=(const NetnsLab&) = delete;

  // "" while every step succeeded; else what failed, with its output.
  const std::string& error() const { return error_; }

  // A host `name` on the bridge at 10.77.<subnet>.<n>; its address.
  std::string AddHost(const std::string& name, int n) {
    const std::string ns = Namespace(name);
    const std::string address = "10.77." + subnet_ + "." + std::to_string(n);
    const std::string hub_end = "h" + tag_ + "n" + std::to_string(n);  // at most 15 characters
    if (!Ip({"netns", "add", ns})) return address;
    made_.push_back(ns);
    Ip({"-n", ns, "link", "set", "lo", "up"}) &&
        Ip({"-n", hub_, "link", "add", hub_end, "type", "veth", "peer", "name", "eth0", "netns",
            ns}) &&
        Ip({"-n", hub_, "link", "set", hub_end, "master", "br0", "up"}) &&
        Ip({"-n", ns, "addr", "add", address + "/24", "dev", "eth0"}) &&
        Ip({"-n", ns, "link", "set", "eth0", "up"});
    return address;
  }

  std::string Namespace(const std::string& host) const { return "pgrt-" + tag_ + "-" + host; }
  // The argv prefix that runs a program in `host`.
  std::vector<std::string> Launcher(const std::string& host) const {
    return {kIp, "netns", "exec", Namespace(host)};
  }
  // Moves the calling thread into `host`'s network namespace; false when it could not.
  bool Enter(const std::string& host) const {
    const std::string path = "/run/netns/" + Namespace(host);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::setns(fd, CLONE_NEWNET) == 0;
    ::close(fd);
    return ok;
  }

  // In `host`'s namespace, drops every packet from or to `addresses`: a silent partition
  // (no reset, no ICMP), as a cut cable or a lost route looks.
  bool Cut(const std::string& host, const std::vector<std::string>& addresses) {
    std::string set;
    for (size_t i = 0; i < addresses.size(); ++i) set += (i ? ", " : "") + addresses[i];
    const std::string rules =
        "table inet pgrt_cut {\n"
        "  chain in { type filter hook input priority 0; policy accept; ip saddr { " +
        set +
        " } drop; }\n"
        "  chain out { type filter hook output priority 0; policy accept; ip daddr { " +
        set + " } drop; }\n}\n";
    const std::string file = dir_.Sub("cut-" + host + ".nft");
    WriteFileOrDie(file, rules);
    return Run(Launcher(host), {kNft, "-f", file});
  }
  bool Heal(const std::string& host) {
    return Run(Launcher(host), {kNft, "delete", "table", "inet", "pgrt_cut"});
  }

 private:
  bool Ip(const std::vector<std::string>& args) { return Run({kIp}, args); }
  bool Run(std::vector<std::string> argv, const std::vector<std::string>& args) {
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandOutput out = RunCommand(
        argv, {{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}});
    if (out.exit_code == 0) return true;
    std::string line;
    for (const std::string& a : argv) line += a + " ";
    if (error_.empty()) error_ = line + "→ " + std::to_string(out.exit_code) + ": " + out.output;
    return false;
  }

  TempDir dir_;
  std::string tag_, subnet_, hub_;
  std::vector<std::string> made_;
  std::string error_;
};

}  // namespace pgrt::testing
