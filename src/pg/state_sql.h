// The SQL that reads a node's replication state, defined once: the observation behind the
// role checks, /__opr/status and /__opr/replication, and the /metrics page use the same
// expressions, so they cannot disagree (on lag, say).
#pragma once

namespace pgrt::state_sql {

// Bytes received but not yet replayed; 0 on a primary and while nothing is pending. Until
// the WAL receiver streams again after a restart, the receive position can trail the
// replay position (or be NULL): nothing is pending then, never a negative lag.
#define PGRT_SQL_REPLAY_LAG_BYTES                                                     \
  "(CASE WHEN NOT pg_is_in_recovery() THEN 0 ELSE GREATEST(COALESCE(pg_wal_lsn_diff(" \
  "pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0), 0) END)::int8"

// Seconds since the last replayed commit while WAL is pending, else 0. clock_timestamp(),
// not now(): a commit replayed after the statement began would give a negative lag.
#define PGRT_SQL_REPLAY_LAG_SECONDS                                                   \
  "(CASE WHEN NOT pg_is_in_recovery() OR COALESCE(pg_last_wal_receive_lsn() <= "      \
  "pg_last_wal_replay_lsn(), true) THEN 0 ELSE GREATEST(COALESCE(extract(epoch FROM " \
  "clock_timestamp() - pg_last_xact_replay_timestamp()), 0), 0) END)::float8"

// A timestamptz as node-postgres renders one in JSON (JavaScript's Date.toISOString()):
// UTC, milliseconds (truncated, as a Date truncates), "Z". NULL stays NULL.
#define PGRT_SQL_ISO_UTC(expr) \
  "to_char((" expr ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

inline constexpr const char* kReplayLagBytes = PGRT_SQL_REPLAY_LAG_BYTES;
inline constexpr const char* kReplayLagSeconds = PGRT_SQL_REPLAY_LAG_SECONDS;

}  // namespace pgrt::state_sql
