#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "artifact/artifact_store.h"
#include "artifact/artifact_store_factory.h"

namespace cairn::artifact {

struct LocalArtifactStoreOptions {
  // fdatasync each file before it is renamed into place and fsync its directory afterwards, so a
  // committed artifact survives a crash. Tests of unrelated code may turn it off for speed.
  bool durable = true;
};

// Artifacts as plain files under one root directory: the artifact "a/b.txt" is <root>/a/b.txt.
//
// Writes go to a file in this store's own folder of the hidden staging directory
// <root>/.cairn-tmp-staging; Commit (optionally) syncs it, creates the target's parent
// directories and renames it over the target, so readers see either the old or the new complete
// file, and an aborted upload leaves nothing behind, not even empty directories. Names starting
// with ".cairn-tmp-" are reserved: List never shows them and paths that use them are rejected.
//
// The store's staging folder is locked (flock) while the store or any of its writers is open.
// Open removes at once every staging folder whose lock is free, i.e. everything a crashed or
// killed process (or a store closed with a writer still open) staged, and leaves alone the
// folders of stores still open in this or another process sharing the root. Files staged by
// earlier versions directly in the staging directory, whose owners cannot be told, go once a day
// old; so does everything staged on a filesystem without flock. The store keeps no other
// leftovers to sweep, so there is no periodic sweep.
//
// Every path is resolved one segment at a time from a descriptor of the root, refusing symbolic
// links, so nothing reached through this store lies outside the root even if a link is planted
// inside it. Reading a directory gives NOT_FOUND (there is no file at that path), as on an object
// store. Thread-safe; a mutex guards only the staging folder's descriptor, otherwise the
// filesystem arbitrates.
class LocalArtifactStore : public ArtifactStore {
 public:
  // Opens (creating it and its parents if missing) the root directory, sweeps what crashed
  // processes staged and creates this store's staging folder.
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
  LocalArtifactStore(std::filesystem::path root, int root_fd, LocalArtifactStoreOptions options,
                     int staging_fd, std::string staging_name);

  // A new descriptor (owned by the caller) of the staging folder, sharing its lock. With
  // `replace_if_gone`, first replaces the folder if it was removed behind the store's back.
  StatusOr<int> StagingForWriter(bool replace_if_gone);

  std::filesystem::path root_;
  int root_fd_;  // O_DIRECTORY descriptor of root_, owned
  LocalArtifactStoreOptions options_;
  std::mutex staging_mu_;
  int staging_fd_;            // guarded by staging_mu_; the locked staging folder, owned
  std::string staging_name_;  // guarded by staging_mu_; its name in <root>/.cairn-tmp-staging
};

// Registers "file" (file:///abs/path, file://localhost/abs/path, file:relative/path, and bare
// paths through CreateArtifactStore) -> LocalArtifactStore. Defined in local_artifact_backend.cc.
Status RegisterLocalArtifactBackend(ArtifactStoreRegistry& registry);

}  // namespace cairn::artifact
