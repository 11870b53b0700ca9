#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "artifact/artifact_store.h"
#include "base/status.h"

namespace cairn::artifact {

// Where each tenant's artifacts live in an ArtifactStore (stores themselves know no tenants).
//
// The default tenant owns the store's root, laid out exactly as `mlflow server
// --artifacts-destination DIR` lays out DIR: `<experiment id>/<run id>/artifacts/...`,
// `<experiment id>/models/<model id>/artifacts/...`, `<experiment id>/traces/...`. An existing
// MLflow artifact folder is therefore a Cairn artifact root as it is, and the reverse.
//
// Every other tenant owns the folder named after it: `<tenant>/<experiment id>/...`. Tenant
// names (see IsTenantFolderName) can never be a name the default tenant uses at the top level:
// MLflow's experiment folders are decimal ids, and tenant names must contain a non-digit. So
// that the default tenant cannot reach another tenant's folder through an artifact location of
// its own (`mlflow-artifacts:/team-a/...`), the default tenant may not use a top-level name that
// is, or could become, a tenant folder, nor "default" (the folder of the layout before this
// one), nor a name starting with '.' (the stores' own files: `.cairn-keys`, `.cairn-tmp-*`,
// `.cairn-layout-migration`).
inline constexpr std::string_view kDefaultTenant = "default";

// True when `name` could be a non-default tenant's folder: 1 to 63 characters of
// [A-Za-z0-9_-] (compared case-insensitively, since tenant names are) with at least one
// non-digit, and not "default". Folder names of the default tenant's experiments (decimal ids)
// are never tenant folder names.
bool IsTenantFolderName(std::string_view name);

// True when the default tenant may use `segment` as the first segment of a path.
bool IsDefaultTenantTopLevelName(std::string_view segment);

// The store path of `normalized` (a path NormalizeArtifactPath accepted) in `tenant`'s space:
// `normalized` itself for the default tenant, `<tenant>/<normalized>` otherwise ("" and
// "<tenant>" for the tenant's root). INVALID_ARGUMENT for a malformed tenant name, or a default
// tenant path whose first segment is reserved (see above).
StatusOr<std::string> TenantStorePath(std::string_view tenant, std::string_view normalized);

// Drops from a listing of the store's root the entries that are not the default tenant's
// (tenant folders, the stores' own files), for the default tenant's root listing.
std::vector<FileInfo> DefaultTenantRootEntries(std::vector<FileInfo> root_entries);

}  // namespace cairn::artifact
