// deploy/'s high-availability examples (deploy/compose/ha/, deploy/kubernetes/ha/), read as
// text and held to pgrt's contract: every PGRT_*/POSTGRES_* name in them is a variable pgrt
// reads (config/descriptors.h), nothing sets what PGRT_HA=etcd refuses, no secret is given
// as a literal value, HAProxy routes by pgrt's role checks in Patroni's shape, each node's
// environment as the files assemble it is one pgrt's LoadConfig accepts, and, where
// /usr/sbin/haproxy is installed, HAProxy itself accepts both haproxy.cfg files.
//
// The readers below know the few YAML forms these files use (maps of `KEY: value`, env lists
// of `- name:` items, `|` and `>-` blocks); a file written otherwise fails these tests, which
// is the point: the examples stay in a shape that is checked.
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/descriptors.h"
#include "scratch_dir.h"

namespace pgrt {
namespace {

namespace fs = std::filesystem;
using test::ReadText;
using test::ScratchDir;
using test::SplitLines;
using test::WriteText;

const std::string kSource = PGRT_SOURCE_DIR;
const std::string kCompose = kSource + "/deploy/compose/ha/compose.yaml";
const std::string kComposeHaproxy = kSource + "/deploy/compose/ha/haproxy.cfg";
const std::string kComposeSecrets = kSource + "/deploy/compose/secrets";
const std::string kKubernetes = kSource + "/deploy/kubernetes/ha";
const char* const kHaproxy = "/usr/sbin/haproxy";

struct File {
  std::string path;
  std::string text;
};

std::vector<File> HaFiles() {
  std::vector<std::string> paths = {kCompose, kComposeHaproxy};
  std::vector<std::string> manifests;
  for (const auto& entry : fs::directory_iterator(kKubernetes))
    if (entry.path().extension() == ".yaml") manifests.push_back(entry.path().string());
  std::sort(manifests.begin(), manifests.end());
  paths.insert(paths.end(), manifests.begin(), manifests.end());
  std::vector<File> files;
  for (const std::string& p : paths) files.push_back({p, ReadText(p)});
  return files;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

size_t Indent(const std::string& line) { return line.find_first_not_of(' '); }

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The text without comments: YAML and HAProxy both start one with '#' at the start of a line
// or after a blank (none of these files has a '#' inside a value).
std::string Uncommented(const std::string& text) {
  std::string out;
  for (const std::string& line : SplitLines(text)) {
    size_t cut = std::string::npos;
    for (size_t i = 0; i < line.size(); ++i)
      if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
        cut = i;
        break;
      }
    out += line.substr(0, cut) + "\n";
  }
  return out;
}

struct Name {
  std::string name;
  size_t pos;
};

// Every PGRT_*/POSTGRES_* name in `text`, where it stands.
std::vector<Name> Names(const std::string& text) {
  static const std::regex kName(R"((PGRT|POSTGRES)_[A-Z0-9_]*[A-Z0-9])");
  std::vector<Name> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kName);
       it != std::sregex_iterator(); ++it) {
    const size_t pos = static_cast<size_t>(it->position());
    const char before = pos > 0 ? text[pos - 1] : ' ';
    if (std::isalnum(static_cast<unsigned char>(before)) || before == '_') continue;
    out.push_back({it->str(), pos});
  }
  return out;
}

// The variables a compose file interpolates itself (${PGRT_IMAGE:-...}): the file's own
// parameters, not pgrt's settings.
std::set<std::string> Interpolated(const std::string& text) {
  std::set<std::string> out;
  for (const Name& n : Names(text))
    if (n.pos >= 2 && text.compare(n.pos - 2, 2, "${") == 0) out.insert(n.name);
  return out;
}

// Why pgrt does not read `name`, or nullopt when it does. NAME_FILE counts for the variables
// that may come from a file (secrets, POSTGRES_USER, POSTGRES_DB, POSTGRES_INITDB_ARGS).
std::optional<std::string> NotAVariable(const std::string& name) {
  if (FindDescriptor(name) != nullptr) return std::nullopt;
  if (EndsWith(name, "_FILE")) {
    const std::string base = name.substr(0, name.size() - 5);
    const Descriptor* d = FindDescriptor(base);
    if (d != nullptr && d->file_ok()) return std::nullopt;
    if (d != nullptr) return name + ": " + base + " cannot be read from a file";
  }
  return name + " is not a pgrt variable (docs/configuration.md)";
}

std::vector<std::string> UnknownVariables(const std::string& text) {
  const std::set<std::string> own = Interpolated(text);
  std::vector<std::string> problems;
  for (const Name& n : Names(text)) {
    if (own.count(n.name) != 0) continue;
    if (auto why = NotAVariable(n.name)) problems.push_back(*why);
  }
  return problems;
}

// What PGRT_HA=etcd refuses: the cluster, not the configuration, says which node leads.
std::vector<std::string> RefusedWithHa(const std::string& text) {
  std::vector<std::string> found;
  for (const Name& n : Names(Uncommented(text)))
    if (n.name == "POSTGRES_REPLICATION_MODE" || n.name == "POSTGRES_PRIMARY_HOST")
      found.push_back(n.name);
  return found;
}

bool IsSecretVariable(const std::string& name) {
  const Descriptor* d = FindDescriptor(name);
  return (d != nullptr && d->secret()) || EndsWith(name, "_PASSWORD") || name == "PGRT_API_TOKEN";
}

// Secrets given a value in the file itself: `NAME: value` or `NAME=value` (compose, a
// ConfigMap), or a `- name: NAME` item without `valueFrom:` (a pod's env list). Only NAME_FILE
// (a mounted file) or a secretKeyRef keeps the value out of the manifest.
std::vector<std::string> LiteralSecrets(const std::string& text) {
  const std::vector<std::string> lines = SplitLines(Uncommented(text));
  std::vector<std::string> problems;
  for (size_t i = 0; i < lines.size(); ++i) {
    for (const Name& n : Names(lines[i])) {
      if (!IsSecretVariable(n.name)) continue;
      const std::string where = "line " + std::to_string(i + 1) + ": " + n.name;
      const std::string before = Trim(lines[i].substr(0, n.pos));
      const std::string after = Trim(lines[i].substr(n.pos + n.name.size()));
      if (before == "- name:" || before == "name:") {
        size_t next = i + 1;
        while (next < lines.size() && Trim(lines[next]).empty()) ++next;
        if (next == lines.size() || !StartsWith(Trim(lines[next]), "valueFrom:"))
          problems.push_back(where + " is given a value, not a secretKeyRef");
      } else if ((StartsWith(after, ":") || StartsWith(after, "=")) &&
                 !Trim(after.substr(1)).empty()) {
        problems.push_back(where + " is given a literal value: use " + n.name + "_FILE");
      }
    }
  }
  return problems;
}

// ---- HAProxy -------------------------------------------------------------------------------

struct Section {
  std::string header;                             // "listen primary"
  std::vector<std::string> directives;            // trimmed, blanks collapsed
  std::vector<std::vector<std::string>> servers;  // each server line's words
};

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> out;
  std::string word;
  for (char c : line + " ") {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) out.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  return out;
}

std::string Joined(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::vector<Section> HaproxySections(const std::string& cfg) {
  std::vector<Section> sections;
  for (const std::string& line : SplitLines(Uncommented(cfg))) {
    if (Trim(line).empty()) continue;
    const std::vector<std::string> words = Words(line);
    if (line[0] != ' ' && line[0] != '\t') {
      sections.push_back({Joined(words), {}, {}});
    } else if (!sections.empty()) {
      sections.back().directives.push_back(Joined(words));
      if (words[0] == "server") sections.back().servers.push_back(words);
    }
  }
  return sections;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The server's host as written, without quotes and port.
std::string ServerHost(const std::vector<std::string>& server) {
  std::string address = server.size() > 2 ? server[2] : "";
  address.erase(std::remove(address.begin(), address.end(), '"'), address.end());
  return address.substr(0, address.rfind(':'));
}

// Patroni's haproxy.cfg shape with pgrt's role checks: `primary` on 5000 checking GET
// /primary, `replicas` on 5001 checking GET /replica, both expecting 200 from each node's
// API (3000), dropping sessions of a node marked down, over the same servers.
std::vector<std::string> HaproxyProblems(const std::string& cfg) {
  const std::vector<Section> sections = HaproxySections(cfg);
  std::vector<std::string> problems;
  std::map<std::string, std::set<std::string>> hosts;
  struct Listener {
    std::string name, port, check;
  };
  for (const auto& [name, port, check] :
       std::vector<Listener>{{"primary", "5000", "/primary"}, {"replicas", "5001", "/replica"}}) {
    auto s = std::find_if(sections.begin(), sections.end(),
                          [&](const Section& x) { return x.header == "listen " + name; });
    if (s == sections.end()) {
      problems.push_back("no `listen " + name + "`");
      continue;
    }
    auto need = [&](const std::string& directive) {
      if (!Contains(s->directives, directive))
        problems.push_back("listen " + name + ": no `" + directive + "`");
    };
    need("bind *:" + port);
    need("option httpchk GET " + check);
    need("http-check expect status 200");
    const bool drops = std::any_of(s->directives.begin(), s->directives.end(), [](const auto& d) {
      return StartsWith(d, "default-server ") &&
             d.find(" on-marked-down shutdown-sessions") != std::string::npos;
    });
    if (!drops)
      problems.push_back("listen " + name +
                         ": no default-server with on-marked-down shutdown-sessions");
    if (s->servers.size() < 2) problems.push_back("listen " + name + ": fewer than 2 servers");
    for (const auto& server : s->servers) {
      const std::string line = Joined(server);
      if (!Contains(server, "check") || line.find(" port 3000") == std::string::npos)
        problems.push_back("listen " + name + ": `" + line +
                           "` is not checked on the API port 3000");
      hosts[name].insert(ServerHost(server));
    }
  }
  if (hosts["primary"] != hosts["replicas"])
    problems.push_back("`primary` and `replicas` list different servers");
  return problems;
}

// A copy whose servers are all 127.0.0.1 (same ports), so `haproxy -c` resolves them here.
std::string WithLoopbackServers(const std::string& cfg) {
  std::string out;
  for (const std::string& line : SplitLines(cfg)) {
    std::vector<std::string> words = Words(line);
    if (words.size() > 2 && words[0] == "server") {
      std::string address = words[2];
      address.erase(std::remove(address.begin(), address.end(), '"'), address.end());
      const size_t colon = address.rfind(':');
      words[2] = "127.0.0.1" + (colon == std::string::npos ? "" : address.substr(colon));
      out += "    " + Joined(words) + "\n";
    } else {
      out += line + "\n";
    }
  }
  return out;
}

struct ShellRun {
  int exit_code = -1;
  std::string output;
};

// `command` through /bin/sh, stdout and stderr together.
ShellRun RunShell(const std::string& command) {
  ShellRun run;
  FILE* f = ::popen((command + " 2>&1").c_str(), "r");
  if (f == nullptr) return run;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) run.output.append(buf, n);
  const int status = ::pclose(f);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// ---- YAML, the forms these files use -------------------------------------------------------

std::string Unquoted(std::string v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  return v;
}

// Index of the first line at or after `from` whose trimmed text is `trimmed`.
std::optional<size_t> FindLine(const std::vector<std::string>& lines, const std::string& trimmed,
                               size_t from = 0) {
  for (size_t i = from; i < lines.size(); ++i)
    if (Trim(lines[i]) == trimmed) return i;
  return std::nullopt;
}

// The `KEY: value` children of the map that opens at lines[header] (merge keys `<<:` and
// nested maps left out).
Environment MapBlock(const std::vector<std::string>& lines, size_t header) {
  Environment out;
  const size_t parent = Indent(lines[header]);
  std::optional<size_t> child;
  for (size_t i = header + 1; i < lines.size(); ++i) {
    const std::string t = Trim(lines[i]);
    if (t.empty() || t[0] == '#') continue;
    const size_t indent = Indent(lines[i]);
    if (indent <= parent) break;
    if (!child) child = indent;
    if (indent != *child) continue;
    const size_t colon = t.find(':');
    const std::string key = t.substr(0, colon);
    const std::string value = colon == std::string::npos ? "" : Trim(t.substr(colon + 1));
    if (key == "<<" || value.empty()) continue;
    out[key] = Unquoted(value);
  }
  return out;
}

// A `KEY: |` block's text, its indentation removed.
std::string LiteralBlock(const std::vector<std::string>& lines, const std::string& key) {
  std::optional<size_t> header = FindLine(lines, key + ": |");
  if (!header) return "";
  std::string out;
  std::optional<size_t> indent;
  for (size_t i = *header + 1; i < lines.size(); ++i) {
    if (Trim(lines[i]).empty()) {
      out += "\n";
      continue;
    }
    if (!indent) indent = Indent(lines[i]);
    if (Indent(lines[i]) < *indent) break;
    out += lines[i].substr(*indent) + "\n";
  }
  return out;
}

struct EnvItem {
  std::string name;
  std::string value;       // `value:`, a `>-` block folded onto one line
  std::string field_path;  // `valueFrom: fieldRef: fieldPath:`
};

// A container's `env:` list, the one that opens at lines[header].
std::vector<EnvItem> EnvList(const std::vector<std::string>& lines, size_t header) {
  std::vector<EnvItem> items;
  const size_t parent = Indent(lines[header]);
  for (size_t i = header + 1; i < lines.size(); ++i) {
    const std::string t = Trim(lines[i]);
    if (t.empty() || t[0] == '#') continue;
    if (Indent(lines[i]) <= parent && !StartsWith(t, "- ")) break;
    if (Indent(lines[i]) < parent) break;
    if (StartsWith(t, "- name:")) {
      items.push_back({Trim(t.substr(7)), "", ""});
    } else if (items.empty()) {
      break;
    } else if (t == "value: >-" && i + 1 < lines.size()) {
      const size_t block = Indent(lines[i + 1]);
      while (i + 1 < lines.size() && !Trim(lines[i + 1]).empty() && Indent(lines[i + 1]) >= block)
        items.back().value += (items.back().value.empty() ? "" : " ") + Trim(lines[++i]);
    } else if (StartsWith(t, "value:")) {
      items.back().value = Unquoted(Trim(t.substr(6)));
    } else if (StartsWith(t, "fieldPath:")) {
      items.back().field_path = Trim(t.substr(10));
    }
  }
  return items;
}

// Kubernetes' $(NAME) references to variables defined before.
std::string Expand(std::string value, const Environment& defined) {
  for (const auto& [name, v] : defined) {
    const std::string ref = "$(" + name + ")";
    for (size_t p; (p = value.find(ref)) != std::string::npos;) value.replace(p, ref.size(), v);
  }
  return value;
}

// ---- the tests -----------------------------------------------------------------------------

TEST(DeployManifestsTest, TheHaExamplesAreWhereTheDocsSay) {
  const std::vector<File> files = HaFiles();
  std::set<std::string> names;
  for (const File& f : files) names.insert(fs::path(f.path).filename().string());
  for (const char* expected : {"compose.yaml", "haproxy.cfg", "kustomization.yaml", "secret.yaml",
                               "configmap.yaml", "etcd.yaml", "services.yaml",
                               "pgrt-statefulset.yaml", "haproxy.yaml", "disruption-budgets.yaml"})
    EXPECT_EQ(names.count(expected), 1u) << expected;
  for (const File& f : files) EXPECT_FALSE(f.text.empty()) << f.path;
  // The kustomization lists every manifest of its directory.
  const std::string kustomization = ReadText(kKubernetes + "/kustomization.yaml");
  for (const File& f : files) {
    const std::string name = fs::path(f.path).filename().string();
    if (fs::path(f.path).parent_path() == fs::path(kKubernetes) && name != "kustomization.yaml") {
      EXPECT_NE(kustomization.find("  - " + name + "\n"), std::string::npos) << name;
    }
  }
}

TEST(DeployManifestsTest, EveryPgrtOrPostgresNameInThemIsAVariablePgrtReads) {
  for (const File& f : HaFiles())
    for (const std::string& problem : UnknownVariables(f.text))
      ADD_FAILURE() << f.path << ": " << problem;
}

TEST(DeployManifestsTest, TheNameCheckCatchesUnknownNamesAndFileFormsOfNonSecrets) {
  EXPECT_TRUE(UnknownVariables("PGRT_HA: etcd\nPGRT_ETCD_PASSWORD_FILE: /x\nPOSTGRES_DB_FILE: /y\n"
                               "image: ${PGRT_IMAGE:-x}\n# see PGRT_IMAGE\n")
                  .empty());
  EXPECT_EQ(UnknownVariables("PGRT_ETCD_ENDPOINT: http://e:2379\n").size(), 1u);
  EXPECT_EQ(UnknownVariables("# links put PGRT_PRIMARY_PORT=tcp://... here\n").size(), 1u);
  EXPECT_EQ(UnknownVariables("PGRT_HA_TTL_FILE: /run/secrets/ttl\n").size(), 1u);
}

TEST(DeployManifestsTest, NoHaManifestSetsTheRoleOrThePrimaryHost) {
  for (const File& f : HaFiles())
    for (const std::string& name : RefusedWithHa(f.text))
      ADD_FAILURE() << f.path << " sets " << name << ", which PGRT_HA=etcd refuses";
  EXPECT_EQ(RefusedWithHa("      POSTGRES_REPLICATION_MODE: primary\n").size(), 1u);
  EXPECT_EQ(RefusedWithHa("  - name: POSTGRES_PRIMARY_HOST\n    value: p\n").size(), 1u);
}

TEST(DeployManifestsTest, NoSecretIsGivenAsALiteralValue) {
  for (const File& f : HaFiles())
    for (const std::string& problem : LiteralSecrets(f.text))
      ADD_FAILURE() << f.path << ": " << problem;
}

TEST(DeployManifestsTest, TheSecretCheckAcceptsFilesAndSecretKeyRefsOnly) {
  EXPECT_TRUE(LiteralSecrets("  POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password\n"
                             "  - name: PGRT_API_TOKEN\n    valueFrom:\n      secretKeyRef:\n"
                             "# POSTGRES_PASSWORD: in a comment\n")
                  .empty());
  EXPECT_EQ(LiteralSecrets("  POSTGRES_PASSWORD: hunter2\n").size(), 1u);
  EXPECT_EQ(LiteralSecrets("  - POSTGRES_REPLICATION_PASSWORD=\"s3cret\"\n").size(), 1u);
  EXPECT_EQ(LiteralSecrets("  PGRT_ETCD_PASSWORD: x\n").size(), 1u);
  EXPECT_EQ(LiteralSecrets("  - name: PGRT_API_TOKEN\n    value: change-me\n").size(), 1u);
}

TEST(DeployManifestsTest, BothHaproxyConfigsRouteByPgrtsRoleChecksInPatronisShape) {
  const std::string compose = ReadText(kComposeHaproxy);
  const std::string kubernetes =
      LiteralBlock(SplitLines(ReadText(kKubernetes + "/haproxy.yaml")), "haproxy.cfg");
  ASSERT_FALSE(kubernetes.empty()) << "no `haproxy.cfg: |` in haproxy.yaml";
  for (const auto& [where, cfg] :
       std::map<std::string, std::string>{{"compose", compose}, {"kubernetes", kubernetes}})
    for (const std::string& problem : HaproxyProblems(cfg))
      ADD_FAILURE() << where << ": " << problem;
}

TEST(DeployManifestsTest, TheHaproxyCheckCatchesAWrongRoleCheckAndAMissingSessionShutdown) {
  const std::string cfg = ReadText(kComposeHaproxy);
  ASSERT_TRUE(HaproxyProblems(cfg).empty());
  auto mutated = [&](const std::string& from, const std::string& to) {
    std::string c = Uncommented(cfg);  // the comments name the checks too
    const size_t p = c.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    return p == std::string::npos ? c : c.replace(p, from.size(), to);
  };
  EXPECT_FALSE(HaproxyProblems(mutated("GET /primary", "GET /health")).empty());
  EXPECT_FALSE(HaproxyProblems(mutated("GET /replica", "GET /primary")).empty());
  EXPECT_FALSE(HaproxyProblems(mutated(" on-marked-down shutdown-sessions", "")).empty());
  EXPECT_FALSE(HaproxyProblems(mutated("check port 3000", "check")).empty());
}

TEST(DeployManifestsTest, ComposeHaproxyServersAreTheNodesAdvertisedHosts) {
  const std::vector<std::string> lines = SplitLines(ReadText(kCompose));
  std::set<std::string> advertised;
  for (const std::string& line : lines)
    if (StartsWith(Trim(line), "PGRT_ADVERTISE_HOST:"))
      advertised.insert(Trim(Trim(line).substr(20)));
  std::set<std::string> servers;
  for (const Section& s : HaproxySections(ReadText(kComposeHaproxy)))
    for (const auto& server : s.servers) servers.insert(ServerHost(server));
  EXPECT_EQ(advertised.size(), 3u);
  EXPECT_EQ(servers, advertised);
}

TEST(DeployManifestsTest, HaproxyAcceptsBothConfigs) {
  if (!fs::exists(kHaproxy)) GTEST_SKIP() << kHaproxy << " is not installed";
  ScratchDir dir;
  const std::string kubernetes =
      LiteralBlock(SplitLines(ReadText(kKubernetes + "/haproxy.yaml")), "haproxy.cfg");
  WriteText(dir / "compose.cfg", WithLoopbackServers(ReadText(kComposeHaproxy)));
  WriteText(dir / "kubernetes.cfg", WithLoopbackServers(kubernetes));
  for (const char* name : {"compose.cfg", "kubernetes.cfg"}) {
    // The Kubernetes file reads these from the HAProxy pod's environment.
    const ShellRun run = RunShell("POD_NAMESPACE=pgrt CLUSTER_DOMAIN=cluster.local " +
                                  std::string(kHaproxy) + " -c -f '" + (dir / name) + "'");
    EXPECT_EQ(run.exit_code, 0) << name << ":\n" << run.output;
    EXPECT_NE(run.output.find("Configuration file is valid"), std::string::npos) << run.output;
  }
  // And it would refuse a broken one: the check is real.
  WriteText(dir / "broken.cfg", WithLoopbackServers(ReadText(kComposeHaproxy)) +
                                    "listen x\n    bind *:5000\n    nonsense on\n");
  EXPECT_NE(RunShell(std::string(kHaproxy) + " -c -f '" + (dir / "broken.cfg") + "'").exit_code, 0);
}

TEST(DeployManifestsTest, EveryComposeNodeRunsTheSharedEnvironmentAndPgrtAcceptsIt) {
  const std::vector<std::string> lines = SplitLines(ReadText(kCompose));
  std::optional<size_t> shared = FindLine(lines, "x-pgrt-env: &pgrt-env");
  ASSERT_TRUE(shared) << "no x-pgrt-env anchor in " << kCompose;
  const Environment base = MapBlock(lines, *shared);
  EXPECT_EQ(base.count("PGRT_HA") ? base.at("PGRT_HA") : "", "etcd");
  std::optional<size_t> services = FindLine(lines, "services:");
  ASSERT_TRUE(services);
  for (const std::string node : {"pgrt1", "pgrt2", "pgrt3"}) {
    std::optional<size_t> at = FindLine(lines, node + ":", *services);
    ASSERT_TRUE(at) << node;
    std::optional<size_t> env_at = FindLine(lines, "environment:", *at);
    ASSERT_TRUE(env_at) << node;
    const Environment own = MapBlock(lines, *env_at);
    // One environment for all: a node adds its name and address, nothing else.
    std::set<std::string> keys;
    for (const auto& [k, v] : own) keys.insert(k);
    EXPECT_EQ(keys, (std::set<std::string>{"PGRT_NODE_NAME", "PGRT_ADVERTISE_HOST"})) << node;
    Environment env = base;
    for (const auto& [k, v] : own) env[k] = v;
    for (auto& [k, v] : env)
      if (EndsWith(k, "_FILE") && StartsWith(v, "/run/secrets/"))
        v = kComposeSecrets + "/" + v.substr(13);  // the placeholders compose mounts there
    Result<Config> config = LoadConfig(env);
    ASSERT_TRUE(config.ok()) << node << ": " << config.status().message();
    EXPECT_TRUE(config->ha_enabled()) << node;
    EXPECT_EQ(config->node_name, node);
    EXPECT_EQ(config->advertise_host, node);
    EXPECT_FALSE(config->replication_password.empty()) << node;
  }
}

TEST(DeployManifestsTest, TheKubernetesPodEnvironmentIsOnePgrtAccepts) {
  const std::vector<std::string> config_map = SplitLines(ReadText(kKubernetes + "/configmap.yaml"));
  const std::vector<std::string> secret = SplitLines(ReadText(kKubernetes + "/secret.yaml"));
  const std::vector<std::string> sts = SplitLines(ReadText(kKubernetes + "/pgrt-statefulset.yaml"));
  std::optional<size_t> data = FindLine(config_map, "data:");
  std::optional<size_t> string_data = FindLine(secret, "stringData:");
  std::optional<size_t> env_at = FindLine(sts, "env:");
  ASSERT_TRUE(data && string_data && env_at);
  EXPECT_NE(std::find_if(sts.begin(), sts.end(),
                         [](const std::string& l) { return Trim(l) == "name: pgrt-ha-config"; }),
            sts.end())
      << "the pods read the ConfigMap through envFrom";

  // The Secret's keys as the pod sees them under /run/secrets/pgrt.
  ScratchDir dir;
  for (const auto& [key, value] : MapBlock(secret, *string_data)) WriteText(dir / key, value);

  // pgrt-1 in namespace pgrt: what the downward API gives it.
  const std::map<std::string, std::string> fields = {{"metadata.name", "pgrt-1"},
                                                     {"metadata.namespace", "pgrt"}};
  Environment env = MapBlock(config_map, *data);
  Environment defined;
  for (const EnvItem& item : EnvList(sts, *env_at)) {
    std::string value = item.field_path.empty()         ? Expand(item.value, defined)
                        : fields.count(item.field_path) ? fields.at(item.field_path)
                                                        : "";
    ASSERT_FALSE(value.empty()) << item.name;
    defined[item.name] = value;
    if (EndsWith(item.name, "_FILE") && StartsWith(value, "/run/secrets/pgrt/"))
      value = dir / value.substr(18);
    env[item.name] = value;
  }
  Result<Config> config = LoadConfig(env);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_TRUE(config->ha_enabled());
  EXPECT_EQ(config->node_name, "pgrt-1");
  EXPECT_EQ(config->advertise_host, "pgrt-1.pgrt-headless.pgrt.svc");
  EXPECT_EQ(config->etcd_endpoints,
            "http://etcd-0.etcd-headless.pgrt.svc:2379,http://etcd-1.etcd-headless.pgrt.svc:2379,"
            "http://etcd-2.etcd-headless.pgrt.svc:2379");
  EXPECT_FALSE(config->replication_password.empty());
  EXPECT_FALSE(config->api_token.empty());
}

}  // namespace
}  // namespace pgrt
