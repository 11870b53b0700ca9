#include <filesystem>
#include <memory>
#include <string>

#include "artifact/local/local_artifact_store.h"

namespace cairn::artifact {
namespace {

// file:///abs/path, file://localhost/abs/path, file:relative/path, and bare paths.
StatusOr<std::unique_ptr<ArtifactStore>> CreateLocalStore(const Uri& uri) {
  if (uri.has_authority && !uri.authority.empty() && uri.authority != "localhost") {
    return InvalidArgument("file URI '" + uri.ToString() +
                           "' names a remote host; use file:///absolute/path");
  }
  std::string path = uri.path;
  if (!uri.scheme.empty()) {
    ASSIGN_OR_RETURN(path, PercentDecode(uri.path));
  }
  if (path.empty()) return InvalidArgument("artifact URI '" + uri.ToString() + "' has no path");
  ASSIGN_OR_RETURN(std::unique_ptr<LocalArtifactStore> store,
                   LocalArtifactStore::Open(std::filesystem::path(path)));
  return std::unique_ptr<ArtifactStore>(std::move(store));
}

}  // namespace

Status RegisterLocalArtifactBackend(ArtifactStoreRegistry& registry) {
  return registry.Register("file", CreateLocalStore);
}

}  // namespace cairn::artifact
