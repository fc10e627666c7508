#include "replication/rewind.h"

#include "pg/passfile.h"
#include "pgdata/private_dir.h"
#include "replication/conninfo.h"
#include "util/fs.h"

namespace pgrt {

Result<RewindCommand> RewindCommandFor(const NodeContext& ctx, const Upstream& up,
                                       const std::string& private_dir) {
  const Config& c = ctx.config;
  const std::string line = PassfileField(up.host) + ":" + std::to_string(up.port) +
                           ":*:" + PassfileField(c.user) + ":" + PassfileField(c.password) + "\n";
  auto secret = UnnamedSecretFile(ctx, private_dir, line);
  if (!secret.ok()) return secret.status().Wrap("pg_rewind");
  RewindCommand cmd;
  cmd.password = std::move(*secret);
  SpawnSpec& spec = cmd.spec;
  spec.name = "pg_rewind";
  spec.argv = {ctx.Bin("pg_rewind"), "--target-pgdata=" + ctx.layout.pgdata,
               "--source-server=host=" + ConninfoValue(up.host) +
                   " port=" + std::to_string(up.port) + " user=" + ConninfoValue(c.user) +
                   " dbname=postgres connect_timeout=5 application_name=pgrt-rewind"};
  for (const auto& [k, v] : PeerTlsParams(c, PeerCaCopy(c)))
    spec.argv.back() += " " + k + "=" + ConninfoValue(v);
  spec.env = ctx.child_env;
  spec.env["PGPASSFILE"] = "/dev/stdin";  // a path, not the password
  spec.stdin_fd = cmd.password.get();
  spec.run_as = ctx.run_as;
  return cmd;
}

Status WriteReplicaFiles(const NodeContext& ctx, const Upstream& up) {
  const NodeLayout& l = ctx.layout;
  // The callers say what for ("replica: ...").
  if (Status st = WriteOwnedFile(ctx, l.standby_signal, "", 0600); !st.ok()) return st;
  if (up.host.empty()) return RemoveIfPresent(l.passfile);  // waiting for a leader
  return WriteOwnedFile(ctx, l.passfile, PassfileLine(ctx.config, up), 0600);
}

}  // namespace pgrt
