#include "artifact/s3/s3_artifact_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <future>
#include <optional>

namespace cairn::artifact {
namespace {

constexpr int kListPageKeys = 1000;

// Store paths must already be canonical (NormalizeArtifactPath(path) == path).
Status CheckPath(std::string_view path) {
  ASSIGN_OR_RETURN(std::string normalized, NormalizeArtifactPath(path));
  if (normalized != path) {
    return InvalidArgument("artifact path is not canonical (use '" + normalized + "')");
  }
  return Status::Ok();
}

// A rejected key or a missing bucket after start-up is the server's problem, not the caller's:
// INTERNAL (HTTP 500) with S3's reason rather than a 400 or 403 that would blame the client.
// S3ArtifactStore::Open keeps the precise codes for the start-up check.
Status StorageFailure(Status status) {
  if (status.code() == StatusCode::kPermissionDenied ||
      status.code() == StatusCode::kInvalidArgument) {
    return Internal(status.message());
  }
  return status;
}

template <typename T>
StatusOr<T> StorageFailure(StatusOr<T> result) {
  if (result.ok()) return result;
  return StorageFailure(result.status());
}

class S3ArtifactWriter : public ArtifactWriter {
 public:
  S3ArtifactWriter(S3ArtifactStore& store, std::string path)
      : store_(store), path_(std::move(path)), key_(store.KeyOf(path_)) {}

  ~S3ArtifactWriter() override { Abort(); }

  Status Append(std::string_view chunk) override {
    if (closed_) return FailedPrecondition("artifact writer is closed");
    const size_t part_size = store_.options().part_size;
    while (!chunk.empty()) {
      size_t take = std::min(chunk.size(), part_size - buffer_.size());
      buffer_.append(chunk.data(), take);
      chunk.remove_prefix(take);
      if (buffer_.size() == part_size) {
        Status sent = SendPart();
        if (!sent.ok()) {
          Abort();
          return sent;
        }
      }
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (closed_) return FailedPrecondition("artifact writer is closed");
    Status done = Finish();
    if (!done.ok()) {
      Abort();
      return done;
    }
    closed_ = true;
    return Status::Ok();
  }

  void Abort() override {
    if (closed_) return;
    closed_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
    if (in_flight_.valid()) in_flight_.wait();
    in_flight_ = {};
    if (upload_id_.empty()) return;
    Status aborted = store_.client().AbortMultipartUpload(key_, upload_id_);
    if (!aborted.ok()) {
      // The bucket's lifecycle rule for incomplete uploads is the backstop.
      spdlog::warn("could not abort the multipart upload of {}: {}", key_, aborted.ToString());
    }
    upload_id_.clear();
  }

 private:
  // Sends the full buffer as the next part in the background, after the previous part landed,
  // so the caller fills the next part while this one travels.
  Status SendPart() {
    if (upload_id_.empty()) {
      ASSIGN_OR_RETURN(upload_id_, StorageFailure(store_.client().CreateMultipartUpload(key_)));
    }
    RETURN_IF_ERROR(WaitForPart());
    in_flight_ =
        std::async(std::launch::async,
                   [&client = store_.client(), key = key_, upload_id = upload_id_,
                    part_number = static_cast<int>(etags_.size()) + 1, body = std::move(buffer_)] {
                     return client.UploadPart(key, upload_id, part_number, body);
                   });
    buffer_.clear();
    return Status::Ok();
  }

  // Waits for the part in flight, if any, and records its ETag.
  Status WaitForPart() {
    if (!in_flight_.valid()) return Status::Ok();
    StatusOr<std::string> etag = in_flight_.get();
    if (!etag.ok()) return StorageFailure(etag.status());
    etags_.push_back(std::move(*etag));
    return Status::Ok();
  }

  Status Finish() {
    RETURN_IF_ERROR(store_.CheckNoCollision(path_));
    if (upload_id_.empty()) return StorageFailure(store_.client().PutObject(key_, buffer_));
    if (!buffer_.empty()) RETURN_IF_ERROR(SendPart());
    RETURN_IF_ERROR(WaitForPart());
    RETURN_IF_ERROR(
        StorageFailure(store_.client().CompleteMultipartUpload(key_, upload_id_, etags_)));
    upload_id_.clear();  // nothing left to abort
    return Status::Ok();
  }

  S3ArtifactStore& store_;
  const std::string path_;
  const std::string key_;
  std::string buffer_;                            // the part being filled
  std::future<StatusOr<std::string>> in_flight_;  // the part being sent: its ETag
  std::string upload_id_;
  std::vector<std::string> etags_;  // of the parts that landed
  bool closed_ = false;
};

class S3ArtifactReader : public ArtifactReader {
 public:
  S3ArtifactReader(S3Client& client, std::string key, size_t chunk, S3Range first)
      : client_(client),
        key_(std::move(key)),
        chunk_(chunk),
        size_(first.object_size),
        etag_(std::move(first.etag)),
        buffer_(std::move(first.body)),
        next_offset_(buffer_.size()) {
    Prefetch();
  }

  uint64_t Size() const override { return size_; }

  StatusOr<size_t> Read(char* buffer, size_t capacity) override {
    if (position_ == buffer_.size()) {
      if (!next_.valid()) return size_t{0};
      StatusOr<S3Range> range = next_.get();
      if (!range.ok()) {
        if (range.status().code() == StatusCode::kFailedPrecondition ||
            range.status().code() == StatusCode::kNotFound) {
          return Unavailable("artifact " + key_ + " was replaced or deleted while being read");
        }
        return StorageFailure(range.status());
      }
      if (range->body.empty()) return Internal("S3 returned no bytes inside " + key_);
      buffer_ = std::move(range->body);
      position_ = 0;
      next_offset_ += buffer_.size();
      Prefetch();
    }
    size_t n = std::min(capacity, buffer_.size() - position_);
    std::memcpy(buffer, buffer_.data() + position_, n);
    position_ += n;
    return n;
  }

 private:
  // Starts fetching the chunk after the buffered one, so the network works while the caller
  // consumes: at most two chunks in memory.
  void Prefetch() {
    if (next_offset_ >= size_) return;
    next_ = std::async(std::launch::async,
                       [&client = client_, key = key_, offset = next_offset_, chunk = chunk_,
                        etag = etag_] { return client.GetRange(key, offset, chunk, etag); });
  }

  S3Client& client_;
  const std::string key_;
  const size_t chunk_;
  const uint64_t size_;
  const std::string etag_;
  std::string buffer_;
  size_t position_ = 0;
  uint64_t next_offset_;                 // of the first byte after buffer_
  std::future<StatusOr<S3Range>> next_;  // bytes from next_offset_, when any are left
};

}  // namespace

S3ArtifactStore::S3ArtifactStore(std::unique_ptr<S3Client> client, S3ArtifactStoreOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

StatusOr<std::unique_ptr<S3ArtifactStore>> S3ArtifactStore::Open(std::unique_ptr<S3Client> client,
                                                                 S3ArtifactStoreOptions options) {
  if (options.part_size < (size_t{5} << 20) || options.part_size > (size_t{5} << 30)) {
    return InvalidArgument("S3 part size must be between 5 MiB and 5 GiB");
  }
  if (options.read_chunk == 0) return InvalidArgument("S3 read chunk must be positive");
  if (!options.prefix.empty()) RETURN_IF_ERROR(CheckPath(options.prefix));
  std::unique_ptr<S3ArtifactStore> store(
      new S3ArtifactStore(std::move(client), std::move(options)));
  StatusOr<S3ListPage> probe = store->client_->ListObjects(store->KeyOf(""), "/", "", 1);
  if (!probe.ok()) {
    return Status(probe.status().code(), "S3 artifact store s3://" +
                                             store->client_->options().bucket + " at " +
                                             store->client_->options().endpoint +
                                             " is not usable: " + probe.status().message());
  }
  return store;
}

std::string S3ArtifactStore::KeyOf(std::string_view path) const {
  if (options_.prefix.empty()) return std::string(path);
  if (path.empty()) return options_.prefix + "/";
  return options_.prefix + "/" + std::string(path);
}

Status S3ArtifactStore::CheckNoCollision(const std::string& path) {
  // One HEAD per ancestor and one listing below the path, all at once: on a remote S3 this costs
  // one round trip instead of depth + 1.
  std::vector<std::string> ancestors;
  for (size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    ancestors.push_back(path.substr(0, slash));
  }
  std::vector<std::future<StatusOr<std::optional<uint64_t>>>> heads;
  heads.reserve(ancestors.size());
  for (const std::string& ancestor : ancestors) {
    heads.push_back(std::async(std::launch::async,
                               [this, key = KeyOf(ancestor)] { return client_->HeadObject(key); }));
  }
  StatusOr<S3ListPage> below = client_->ListObjects(KeyOf(path) + "/", "", "", 1);
  Status failure;
  std::string file_ancestor;
  for (size_t i = 0; i < heads.size(); ++i) {
    StatusOr<std::optional<uint64_t>> head = heads[i].get();  // every future is waited for
    if (!head.ok()) {
      if (failure.ok()) failure = StorageFailure(head.status());
    } else if (head->has_value() && file_ancestor.empty()) {
      file_ancestor = ancestors[i];
    }
  }
  RETURN_IF_ERROR(failure);
  if (!file_ancestor.empty()) {
    return InvalidArgument("cannot write artifact '" + path + "': '" + file_ancestor +
                           "' is a file");
  }
  if (!below.ok()) return StorageFailure(below.status());
  if (!below->objects.empty()) {
    return InvalidArgument("cannot write artifact '" + path + "': it is a directory");
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<ArtifactWriter>> S3ArtifactStore::OpenWriter(std::string_view path) {
  RETURN_IF_ERROR(CheckPath(path));
  if (path.empty()) return InvalidArgument("cannot write the artifact root");
  return std::unique_ptr<ArtifactWriter>(new S3ArtifactWriter(*this, std::string(path)));
}

StatusOr<std::unique_ptr<ArtifactReader>> S3ArtifactStore::OpenReader(std::string_view path) {
  RETURN_IF_ERROR(CheckPath(path));
  if (path.empty()) return NotFound("the artifact root is a directory");
  std::string key = KeyOf(path);
  StatusOr<S3Range> first = client_->GetRange(key, 0, options_.read_chunk, "");
  if (!first.ok()) {
    if (first.status().code() == StatusCode::kNotFound) {
      return NotFound("artifact '" + std::string(path) + "' does not exist");
    }
    return StorageFailure(first.status());
  }
  return std::unique_ptr<ArtifactReader>(
      new S3ArtifactReader(*client_, std::move(key), options_.read_chunk, std::move(*first)));
}

StatusOr<std::vector<FileInfo>> S3ArtifactStore::List(std::string_view dir) {
  RETURN_IF_ERROR(CheckPath(dir));
  const std::string prefix = dir.empty() ? KeyOf("") : KeyOf(dir) + "/";
  std::vector<FileInfo> out;
  std::string token;
  do {
    ASSIGN_OR_RETURN(S3ListPage page,
                     StorageFailure(client_->ListObjects(prefix, "/", token, kListPageKeys)));
    for (const S3Object& object : page.objects) {
      if (!object.key.starts_with(prefix)) continue;
      std::string name = object.key.substr(prefix.size());
      // "" is a folder marker some tools create for the directory itself.
      if (name.empty() || name.find('/') != std::string::npos) continue;
      out.push_back({std::move(name), false, static_cast<int64_t>(object.size)});
    }
    for (const std::string& common : page.common_prefixes) {
      if (!common.starts_with(prefix) || common.size() <= prefix.size() + 1) continue;
      out.push_back({common.substr(prefix.size(), common.size() - prefix.size() - 1), true, {}});
    }
    token = std::move(page.next_continuation_token);
  } while (!token.empty());
  std::sort(out.begin(), out.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  return out;
}

Status S3ArtifactStore::Delete(std::string_view path) {
  RETURN_IF_ERROR(CheckPath(path));
  std::vector<std::string> batch;
  if (!path.empty()) batch.push_back(KeyOf(path));
  const std::string prefix = path.empty() ? KeyOf("") : KeyOf(path) + "/";
  std::string token;
  do {
    ASSIGN_OR_RETURN(S3ListPage page,
                     StorageFailure(client_->ListObjects(prefix, "", token, kListPageKeys)));
    for (S3Object& object : page.objects) {
      batch.push_back(std::move(object.key));
      if (batch.size() == kListPageKeys) {
        RETURN_IF_ERROR(StorageFailure(client_->DeleteObjects(batch)));
        batch.clear();
      }
    }
    token = std::move(page.next_continuation_token);
  } while (!token.empty());
  return StorageFailure(client_->DeleteObjects(batch));
}

}  // namespace cairn::artifact
