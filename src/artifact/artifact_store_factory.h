#pragma once

#include <memory>
#include <string_view>

#include "artifact/artifact_store.h"
#include "base/factory_registry.h"
#include "base/uri.h"

namespace cairn::artifact {

// Chooses an ArtifactStore by URI scheme ("file", later "s3"). Backends are separate libraries;
// server/backends.cc registers the ones built in, by explicit calls.
using ArtifactStoreRegistry = FactoryRegistry<std::unique_ptr<ArtifactStore>, const Uri&>;

// Parses `uri_text` and creates the store registered for its scheme; a bare path (no scheme)
// means "file". INVALID_ARGUMENT for a malformed URI or an unknown scheme.
StatusOr<std::unique_ptr<ArtifactStore>> CreateArtifactStore(const ArtifactStoreRegistry& registry,
                                                             std::string_view uri_text);

}  // namespace cairn::artifact
