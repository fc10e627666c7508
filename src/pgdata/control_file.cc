#include "pgdata/control_file.h"

#include <cstring>

#include "util/fs.h"

namespace pgrt {
namespace {

// ControlFileData: uint64 system_identifier, uint32 pg_control_version, uint32
// catalog_version_no, DBState state (an enum: 4 bytes).
constexpr size_t kStateOffset = 16;

}  // namespace

Result<ControlFacts> ReadControlFile(const std::string& pgdata) {
  auto control = ReadFile(JoinPath(pgdata, "global/pg_control"));
  if (!control.ok()) return control.status();
  if (control->size() < kStateOffset + sizeof(uint32_t))
    return Status::Error("pg_control is too short");
  ControlFacts facts;
  std::memcpy(&facts.system_identifier, control->data(), sizeof facts.system_identifier);
  uint32_t state = 0;
  std::memcpy(&state, control->data() + kStateOffset, sizeof state);
  facts.state = static_cast<ClusterState>(state);
  return facts;
}

}  // namespace pgrt
