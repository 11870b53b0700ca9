#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "artifact/artifact_store.h"

namespace cairn::artifact {

struct LocalArtifactStoreOptions {
  // fdatasync each file before it is renamed into place and fsync its directory afterwards, so a
  // committed artifact survives a crash. Tests of unrelated code may turn it off for speed.
  bool durable = true;
};

// Artifacts as plain files under one root directory: the artifact "a/b.txt" is <root>/a/b.txt.
//
// Writes go to a file in the hidden staging directory <root>/.cairn-tmp-staging; Commit
// (optionally) syncs it, creates the target's parent directories and renames it over the
// target, so readers see either the old or the new complete file, and an aborted upload leaves
// nothing behind, not even empty directories. Names starting with ".cairn-tmp-" are reserved:
// List never shows them and paths that use them are rejected. Open removes staged files older
// than a day (left by a crash).
//
// Every path is resolved one segment at a time from a descriptor of the root, refusing symbolic
// links, so nothing reached through this store lies outside the root even if a link is planted
// inside it. Reading a directory gives NOT_FOUND (there is no file at that path), as on an object
// store. Thread-safe; holds no locks (the filesystem arbitrates).
class LocalArtifactStore : public ArtifactStore {
 public:
  // Opens (creating it and its parents if missing) the root directory.
  static StatusOr<std::unique_ptr<LocalArtifactStore>> Open(const std::filesystem::path& root,
                                                            LocalArtifactStoreOptions options = {});

  ~LocalArtifactStore() override;
  LocalArtifactStore(const LocalArtifactStore&) = delete;
  LocalArtifactStore& operator=(const LocalArtifactStore&) = delete;

  StatusOr<std::unique_ptr<ArtifactWriter>> OpenWriter(std::string_view path) override;
  StatusOr<std::unique_ptr<ArtifactReader>> OpenReader(std::string_view path) override;
  StatusOr<std::vector<FileInfo>> List(std::string_view dir) override;
  Status Delete(std::string_view path) override;

  const std::filesystem::path& root() const { return root_; }

 private:
  LocalArtifactStore(std::filesystem::path root, int root_fd, LocalArtifactStoreOptions options);

  std::filesystem::path root_;
  int root_fd_;  // O_DIRECTORY descriptor of root_, owned
  LocalArtifactStoreOptions options_;
};

}  // namespace cairn::artifact
