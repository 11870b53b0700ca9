#pragma once

#include <cstdint>

#include "artifact/artifact_store.h"
#include "base/status.h"

namespace cairn::artifact {

// What MoveDefaultTenantToRoot did.
struct LayoutMigrationResult {
  int64_t files_moved = 0;
  bool migrated = false;  // a folder of the earlier layout was found (and is now gone)
};

// Moves the default tenant's artifacts from the earlier layout, `default/<path>`, to the root,
// `<path>` (tenant_layout.h), through `store` itself, so an encrypting store re-encrypts each
// file for its new path. Called at start-up before the store serves anything; nothing else may
// write to the store meanwhile.
//
// Crash-safe and idempotent: each file is copied (published atomically by the writer's Commit)
// and only then removed from `default/`; the marker `.cairn-layout-migration` records that a
// migration is under way, so a process killed at any point leaves a store that the next call
// completes, and a call on a migrated (or new) store does nothing.
//
// Before the first file moves it checks that the move cannot mix the default tenant's files
// with another's: FAILED_PRECONDITION, naming the entry, when the root holds an entry that is
// neither a tenant folder nor one of the stores' own files (e.g. the folder of a tenant whose
// name is all digits, which the earlier rules allowed), or when `default/` holds a top-level
// name the default tenant may not use (IsDefaultTenantTopLevelName). Nothing is moved then.
StatusOr<LayoutMigrationResult> MoveDefaultTenantToRoot(ArtifactStore& store);

}  // namespace cairn::artifact
