#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "artifact/artifact_store.h"
#include "artifact/artifact_store_factory.h"
#include "artifact/s3/s3_client.h"

namespace cairn::artifact {

struct S3ArtifactStoreOptions {
  // Key prefix of the store inside the bucket, without leading or trailing '/'; "" for the
  // bucket's root. The artifact "a/b.txt" is the key "<prefix>/a/b.txt".
  std::string prefix;
  // Bytes a writer buffers before sending a multipart part (S3's minimum is 5 MiB, except the
  // last part), and bytes a reader fetches per ranged GET. Each sends or fetches the next one in
  // the background while the caller fills or drains the current one, so an open writer or reader
  // holds at most two of these in memory, whatever the file's size.
  size_t part_size = size_t{8} << 20;
  size_t read_chunk = size_t{8} << 20;
};

// Artifacts as objects of one S3 bucket (AWS S3, MinIO, Ceph, ...) below a key prefix.
//
// Writers buffer a part in memory and send the previous one meanwhile: a file that fits one
// part goes up with one PutObject at Commit, a larger one as a multipart upload (started when
// the first part is full, completed at Commit, aborted on Abort, on destruction without Commit
// and on any failure), so nothing is visible before Commit and the last commit wins atomically.
// S3 has no directories: a directory is the common prefix of the keys below it, so an aborted
// upload leaves none, and Commit refuses with INVALID_ARGUMENT a path below an existing file (a
// HEAD per ancestor) or over an existing directory (a one-key listing). Those checks and the
// write are not one atomic step: two writers racing to create "a" and "a/b" at the same moment
// can both succeed, which a local store prevents.
//
// Readers fetch the file in ranged GETs of read_chunk bytes, the first when opened and each next
// one ahead of need; all but the first carry If-Match with the first answer's ETag, so a reader
// sees one whole version: a file replaced while a large read is under way fails that read with
// UNAVAILABLE rather than mixing versions. Listings follow ListObjectsV2 continuation tokens
// with delimiter '/'; Delete removes the key and every key below "<path>/" with DeleteObjects in
// batches of 1000. Failures of the bucket itself after start-up (keys rejected, bucket gone) are
// INTERNAL, as a storage failure, not the caller's INVALID_ARGUMENT or PERMISSION_DENIED.
// Thread-safe (S3Client is; the store holds no other state).
class S3ArtifactStore : public ArtifactStore {
 public:
  // Checks that the bucket answers with these credentials (one ListObjectsV2 of one key), so a
  // wrong bucket, endpoint or key fails here, at start-up, with S3's reason.
  static StatusOr<std::unique_ptr<S3ArtifactStore>> Open(std::unique_ptr<S3Client> client,
                                                         S3ArtifactStoreOptions options);

  StatusOr<std::unique_ptr<ArtifactWriter>> OpenWriter(std::string_view path) override;
  StatusOr<std::unique_ptr<ArtifactReader>> OpenReader(std::string_view path) override;
  StatusOr<std::vector<FileInfo>> List(std::string_view dir) override;
  Status Delete(std::string_view path) override;

  // The object key of a store path.
  std::string KeyOf(std::string_view path) const;
  // INVALID_ARGUMENT if a file exists at a proper ancestor of `path` or keys exist below it;
  // the requests run concurrently.
  Status CheckNoCollision(const std::string& path);
  S3Client& client() { return *client_; }
  const S3ArtifactStoreOptions& options() const { return options_; }

 private:
  S3ArtifactStore(std::unique_ptr<S3Client> client, S3ArtifactStoreOptions options);

  std::unique_ptr<S3Client> client_;
  const S3ArtifactStoreOptions options_;
};

// Registers "s3" (s3://bucket[/prefix][?endpoint=...&region=...&addressing=path|virtual
// &part_size_mb=N]) -> S3ArtifactStore. Settings the URI leaves out come from the standard AWS
// environment; see s3_store_config.h. Defined in s3_artifact_backend.cc.
Status RegisterS3ArtifactBackend(ArtifactStoreRegistry& registry);

}  // namespace cairn::artifact
