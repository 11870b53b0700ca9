#pragma once

#include <memory>

#include "artifact/artifact_store.h"
#include "base/factory_registry.h"
#include "base/uri.h"

namespace cairn::artifact {

// Chooses an ArtifactStore by URI scheme ("file", later "s3").
using ArtifactStoreRegistry = FactoryRegistry<ArtifactStore, const Uri&>;

// Registers every backend built into this binary.
Status RegisterBuiltinArtifactStores(ArtifactStoreRegistry& registry);

}  // namespace cairn::artifact
