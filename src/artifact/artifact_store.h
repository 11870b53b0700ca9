#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cairn::artifact {

// Artifact paths handed to a store are relative, '/'-separated and already checked by
// NormalizeArtifactPath: no "..", no "." segments, no empty segments, no leading '/', no NUL,
// no backslash, no drive letters. "" means the root.
//
// Stores are tenant-agnostic: tenant_layout.h maps a tenant's paths to store paths.

struct FileInfo {
  std::string path;  // basename, relative to the listed directory
  bool is_dir = false;
  std::optional<int64_t> file_size;  // files only
};

// Sequential reader of one stored file. Not thread-safe; one user at a time.
class ArtifactReader {
 public:
  virtual ~ArtifactReader() = default;
  virtual uint64_t Size() const = 0;
  // Reads up to `capacity` bytes; 0 at the end.
  virtual StatusOr<size_t> Read(char* buffer, size_t capacity) = 0;
};

// Writer of one file. Bytes become visible at the path only on Commit, atomically replacing any
// previous file; Abort (or destruction without Commit) discards them. Not thread-safe.
class ArtifactWriter {
 public:
  virtual ~ArtifactWriter() = default;
  virtual Status Append(std::string_view chunk) = 0;
  virtual Status Commit() = 0;
  virtual void Abort() = 0;
};

// Where artifact bytes live (local folder, S3, ...), optionally wrapped (encryption).
// Thread-safe: concurrent calls on different or equal paths are allowed; concurrent writers of
// one path end with one complete file (last commit wins).
// Errors: NOT_FOUND for a missing file on read; INVALID_ARGUMENT when a path collides with a
// file/directory of the other kind; UNAVAILABLE/INTERNAL for storage failures.
class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  virtual StatusOr<std::unique_ptr<ArtifactWriter>> OpenWriter(std::string_view path) = 0;
  virtual StatusOr<std::unique_ptr<ArtifactReader>> OpenReader(std::string_view path) = 0;
  // Direct children of a directory, sorted by name. A missing directory, or a path that is a
  // file, lists as empty.
  virtual StatusOr<std::vector<FileInfo>> List(std::string_view dir) = 0;
  // Removes a file or a whole directory tree. Missing paths are OK (idempotent).
  virtual Status Delete(std::string_view path) = 0;
};

// Forwards every call; tests override one method to inject faults.
class ArtifactStoreWrapper : public ArtifactStore {
 public:
  explicit ArtifactStoreWrapper(ArtifactStore& target) : target_(target) {}
  StatusOr<std::unique_ptr<ArtifactWriter>> OpenWriter(std::string_view path) override {
    return target_.OpenWriter(path);
  }
  StatusOr<std::unique_ptr<ArtifactReader>> OpenReader(std::string_view path) override {
    return target_.OpenReader(path);
  }
  StatusOr<std::vector<FileInfo>> List(std::string_view dir) override { return target_.List(dir); }
  Status Delete(std::string_view path) override { return target_.Delete(path); }

 private:
  ArtifactStore& target_;
};

// Checks and canonicalises a client-supplied relative path (already percent-decoded once).
// Rejects with INVALID_ARGUMENT: "..", absolute paths, invalid UTF-8, NUL and other control
// characters, backslashes, a leading drive letter ("C:"), and still-encoded traversal (a segment
// that would decode once more into ".", "..", '/', '\\', NUL or a drive letter, e.g. "%2e%2e",
// "%2f"). Drops "." and empty segments ("a//./b" gives "a/b") and a trailing '/'; "" and "."
// give "".
StatusOr<std::string> NormalizeArtifactPath(std::string_view raw);

}  // namespace cairn::artifact
