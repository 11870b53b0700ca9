#include "artifact/layout_migration.h"

#include <string>
#include <string_view>
#include <vector>

#include "artifact/tenant_layout.h"

namespace cairn::artifact {
namespace {

constexpr std::string_view kLegacyFolder = "default";
constexpr std::string_view kMarker = ".cairn-layout-migration";

std::string Join(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (name.empty()) return std::string(dir);
  return std::string(dir) + "/" + std::string(name);
}

StatusOr<bool> Exists(ArtifactStore& store, std::string_view path) {
  auto reader = store.OpenReader(path);
  if (reader.ok()) return true;
  if (reader.status().code() == StatusCode::kNotFound) return false;
  return reader.status();
}

Status Copy(ArtifactStore& store, std::string_view from, std::string_view to) {
  ASSIGN_OR_RETURN(std::unique_ptr<ArtifactReader> reader, store.OpenReader(from));
  ASSIGN_OR_RETURN(std::unique_ptr<ArtifactWriter> writer, store.OpenWriter(to));
  std::vector<char> buffer(size_t{1} << 20);
  while (true) {
    ASSIGN_OR_RETURN(size_t n, reader->Read(buffer.data(), buffer.size()));
    if (n == 0) break;
    RETURN_IF_ERROR(writer->Append(std::string_view(buffer.data(), n)));
  }
  return writer->Commit();
}

// Copies every file below `default/<relative>` to `<relative>`, then deletes the source file.
Status MoveTree(ArtifactStore& store, const std::string& relative, int64_t& moved) {
  ASSIGN_OR_RETURN(std::vector<FileInfo> children, store.List(Join(kLegacyFolder, relative)));
  for (const FileInfo& child : children) {
    std::string rel = Join(relative, child.path);
    if (child.is_dir) {
      RETURN_IF_ERROR(MoveTree(store, rel, moved));
      continue;
    }
    std::string from = Join(kLegacyFolder, rel);
    RETURN_IF_ERROR(Copy(store, from, rel));
    RETURN_IF_ERROR(store.Delete(from));
    ++moved;
  }
  return Status::Ok();
}

Status CheckNoCollision(ArtifactStore& store, const std::vector<FileInfo>& legacy) {
  ASSIGN_OR_RETURN(std::vector<FileInfo> root, store.List(""));
  for (const FileInfo& entry : root) {
    if (entry.path == kLegacyFolder || entry.path.starts_with('.') ||
        IsTenantFolderName(entry.path)) {
      continue;
    }
    return FailedPrecondition(
        "cannot move the default tenant's artifacts from 'default/' to the artifact root: the "
        "root already holds '" +
        entry.path +
        "', which is not a tenant folder (a tenant named only with digits?); move it away and "
        "start again");
  }
  for (const FileInfo& entry : legacy) {
    if (!IsDefaultTenantTopLevelName(entry.path)) {
      return FailedPrecondition("cannot move 'default/" + entry.path +
                                "' to the artifact root: that name is reserved for tenant "
                                "folders; move it away and start again");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<LayoutMigrationResult> MoveDefaultTenantToRoot(ArtifactStore& store) {
  LayoutMigrationResult result;
  ASSIGN_OR_RETURN(std::vector<FileInfo> legacy, store.List(kLegacyFolder));
  ASSIGN_OR_RETURN(bool under_way, Exists(store, kMarker));
  if (legacy.empty()) {
    // Either nothing to do, or the last run was killed after its final Delete("default").
    if (under_way) RETURN_IF_ERROR(store.Delete(kMarker));
    RETURN_IF_ERROR(store.Delete(kLegacyFolder));  // an empty folder, if any
    result.migrated = under_way;
    return result;
  }
  if (!under_way) {
    RETURN_IF_ERROR(CheckNoCollision(store, legacy));
    ASSIGN_OR_RETURN(std::unique_ptr<ArtifactWriter> marker, store.OpenWriter(kMarker));
    RETURN_IF_ERROR(marker->Append("moving default/ to the root\n"));
    RETURN_IF_ERROR(marker->Commit());
  }
  RETURN_IF_ERROR(MoveTree(store, "", result.files_moved));
  RETURN_IF_ERROR(store.Delete(kLegacyFolder));
  RETURN_IF_ERROR(store.Delete(kMarker));
  result.migrated = true;
  return result;
}

}  // namespace cairn::artifact
