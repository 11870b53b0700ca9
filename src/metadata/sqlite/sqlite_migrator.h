#pragma once

#include <vector>

#include "base/status.h"
#include "metadata/migrations/migration.h"
#include "metadata/sqlite/sqlite_db.h"

namespace cairn::metadata::sqlite {

// Brings the database to the newest version in `steps`. Everything happens in one
// BEGIN IMMEDIATE transaction, so when several processes open the same file at once the first
// migrates while the others wait on the write lock (busy timeout) and then find nothing to do; a
// failed step leaves the database as it was. FAILED_PRECONDITION when the database already has
// a version newer than `steps` know (a newer binary migrated it).
Status Migrate(Connection& connection, const std::vector<migrations::Migration>& steps);

// The newest version applied, 0 for a database never migrated.
StatusOr<int> SchemaVersion(Connection& connection);

}  // namespace cairn::metadata::sqlite
