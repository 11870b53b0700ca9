#pragma once

#include <string_view>
#include <vector>

#include "base/status.h"
#include "sqlite/connection.h"

namespace cairn::sqlite {

// One step of a database's schema history. Steps are applied in version order, each at most
// once, and recorded in the database's schema_version table. Append only: a released step is
// never edited; a change is a new step.
struct Migration {
  int version;                   // 1, 2, 3, ... without gaps
  std::string_view description;  // recorded with the version
  std::string_view sql;          // one or more statements, run inside the migration transaction
};

// Brings the database to the newest version in `steps`. Everything happens in one
// BEGIN IMMEDIATE transaction, so when several processes open the same file at once the first
// migrates while the others wait on the write lock (busy timeout) and then find nothing to do; a
// failed step leaves the database as it was. FAILED_PRECONDITION when the database already has
// a version newer than `steps` know (a newer binary migrated it).
Status Migrate(Connection& connection, const std::vector<Migration>& steps);

// The newest version applied, 0 for a database never migrated.
StatusOr<int> SchemaVersion(Connection& connection);

}  // namespace cairn::sqlite
