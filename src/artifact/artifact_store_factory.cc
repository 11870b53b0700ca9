#include "artifact/artifact_store_factory.h"

#include <string>

namespace cairn::artifact {

StatusOr<std::unique_ptr<ArtifactStore>> CreateArtifactStore(const ArtifactStoreRegistry& registry,
                                                             std::string_view uri_text) {
  ASSIGN_OR_RETURN(Uri uri, Uri::Parse(uri_text));
  return registry.Create(uri.scheme.empty() ? "file" : uri.scheme, uri);
}

}  // namespace cairn::artifact
