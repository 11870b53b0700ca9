#include "artifact/encrypted/encrypted_artifact_store.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

#include "artifact/encrypted/chunk_cipher.h"
#include "artifact/encrypted/tenant_keys.h"

namespace cairn::artifact {
namespace {

using encrypted_format::ChunkDecryptor;
using encrypted_format::ChunkEncryptor;
using encrypted_format::DataKey;
using encrypted_format::HexEncode;
using encrypted_format::kChunkSize;
using encrypted_format::Key;
using encrypted_format::kHeaderSize;
using encrypted_format::kKeyFolder;
using encrypted_format::kTagSize;
using encrypted_format::TenantKeys;

constexpr uint64_t kRecordSize = kChunkSize + kTagSize;

std::string_view FirstSegment(std::string_view path) { return path.substr(0, path.find('/')); }

// The canonical-path check every backend makes, plus the reserved key folder.
Status CheckPath(std::string_view path) {
  ASSIGN_OR_RETURN(std::string normalized, NormalizeArtifactPath(path));
  if (normalized != path) {
    return InvalidArgument("artifact path '" + std::string(path) + "' is not canonical");
  }
  if (FirstSegment(path) == kKeyFolder) {
    return InvalidArgument("artifact path '" + std::string(path) + "' uses a reserved name");
  }
  return Status::Ok();
}

std::string Hex(const encrypted_format::DataKeyId& id) {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
}

// Wipes a derived key on every path out of a function.
struct WipedKey {
  Key key{};
  ~WipedKey() { OPENSSL_cleanse(key.data(), key.size()); }
};

class EncryptedReader : public ArtifactReader {
 public:
  EncryptedReader(std::unique_ptr<ArtifactReader> inner, std::string path)
      : inner_(std::move(inner)), path_(std::move(path)) {}

  // Reads the header, sets up the file key and checks the first chunk.
  Status Start(TenantKeys& keys, std::string_view tenant) {
    auto plaintext_size = encrypted_format::PlaintextSize(inner_->Size());
    if (!plaintext_size) {
      return Internal("artifact '" + path_ + "' is damaged: its stored size (" +
                      std::to_string(inner_->Size()) + " bytes) is not that of a whole file");
    }
    plaintext_size_ = *plaintext_size;
    chunks_ = (inner_->Size() - kHeaderSize + kRecordSize - 1) / kRecordSize;
    std::string header(kHeaderSize, '\0');
    RETURN_IF_ERROR(ReadExact(header.data(), header.size(), "header"));
    ASSIGN_OR_RETURN(encrypted_format::Header parsed, encrypted_format::ParseHeader(header, path_));
    ASSIGN_OR_RETURN(std::shared_ptr<const DataKey> data_key, keys.Get(tenant, /*create=*/false));
    if (data_key->id != parsed.data_key_id) {
      return Internal("artifact '" + path_ + "' was written under data key " +
                      Hex(parsed.data_key_id) + ", but tenant '" + std::string(tenant) +
                      "' has data key " + Hex(data_key->id));
    }
    WipedKey file_key;
    ASSIGN_OR_RETURN(file_key.key,
                     encrypted_format::DeriveFileKey(data_key->key, parsed.file_id, path_));
    ASSIGN_OR_RETURN(decryptor_, ChunkDecryptor::Create(file_key.key, std::move(header)));
    record_.resize(kRecordSize);
    plain_.resize(kChunkSize);
    return NextChunk();
  }

  uint64_t Size() const override { return plaintext_size_; }

  StatusOr<size_t> Read(char* buffer, size_t capacity) override {
    RETURN_IF_ERROR(failure_);
    size_t done = 0;
    while (done < capacity) {
      if (plain_pos_ == plain_size_) {
        if (next_chunk_ == chunks_) break;
        Status loaded = NextChunk();
        if (!loaded.ok()) {
          failure_ = loaded;
          if (done == 0) return loaded;
          break;  // hand out what was verified; the next Read reports the failure
        }
        continue;
      }
      size_t n = std::min(capacity - done, plain_size_ - plain_pos_);
      std::memcpy(buffer + done, plain_.data() + plain_pos_, n);
      plain_pos_ += n;
      done += n;
    }
    return done;
  }

 private:
  Status ReadExact(char* out, size_t size, std::string_view what) {
    size_t done = 0;
    while (done < size) {
      ASSIGN_OR_RETURN(size_t n, inner_->Read(out + done, size - done));
      if (n == 0) {
        return Internal("artifact '" + path_ + "' ended inside its " + std::string(what));
      }
      done += n;
    }
    return Status::Ok();
  }

  // Reads, checks and decrypts the next chunk into plain_.
  Status NextChunk() {
    const uint64_t index = next_chunk_;
    const bool final = index + 1 == chunks_;
    const size_t record_size =
        final ? static_cast<size_t>(inner_->Size() - kHeaderSize - index * kRecordSize)
              : static_cast<size_t>(kRecordSize);
    const std::string chunk_name = "chunk " + std::to_string(index);
    RETURN_IF_ERROR(ReadExact(record_.data(), record_size, chunk_name));
    if (!decryptor_->Open(index, final, std::string_view(record_.data(), record_size),
                          reinterpret_cast<unsigned char*>(plain_.data()))) {
      plain_size_ = plain_pos_ = 0;
      return Internal("artifact '" + path_ + "' failed authentication at " + chunk_name + " of " +
                      std::to_string(chunks_) +
                      ": it was modified, truncated, reordered or moved, or the key is wrong");
    }
    plain_size_ = record_size - kTagSize;
    plain_pos_ = 0;
    ++next_chunk_;
    if (final) {
      char extra;
      ASSIGN_OR_RETURN(size_t n, inner_->Read(&extra, 1));
      if (n != 0) return Internal("artifact '" + path_ + "' has bytes after its final chunk");
    }
    return Status::Ok();
  }

  std::unique_ptr<ArtifactReader> inner_;
  std::string path_;
  std::unique_ptr<ChunkDecryptor> decryptor_;
  uint64_t plaintext_size_ = 0;
  uint64_t chunks_ = 0;
  uint64_t next_chunk_ = 0;
  std::string record_;  // one stored chunk: ciphertext + tag
  std::string plain_;   // its verified plaintext
  size_t plain_size_ = 0;
  size_t plain_pos_ = 0;
  Status failure_;
};

class EncryptedWriter : public ArtifactWriter {
 public:
  EncryptedWriter(std::unique_ptr<ArtifactWriter> inner, std::unique_ptr<ChunkEncryptor> encryptor)
      : inner_(std::move(inner)), encryptor_(std::move(encryptor)) {
    buffer_.reserve(kChunkSize);
    sealed_.resize(kRecordSize);
  }

  ~EncryptedWriter() override {
    if (open_) inner_->Abort();
  }

  Status Append(std::string_view data) override {
    if (!open_) return FailedPrecondition("the artifact writer is closed");
    while (!data.empty()) {
      // A full chunk goes out only once more bytes follow: the last chunk is sealed as final.
      if (buffer_.size() == kChunkSize) {
        RETURN_IF_ERROR(Fail(Seal(buffer_, /*final=*/false)));
        buffer_.clear();
      }
      if (buffer_.empty() && data.size() > kChunkSize) {
        RETURN_IF_ERROR(Fail(Seal(data.substr(0, kChunkSize), /*final=*/false)));
        data.remove_prefix(kChunkSize);
        continue;
      }
      size_t n = std::min(kChunkSize - buffer_.size(), data.size());
      buffer_.append(data.substr(0, n));
      data.remove_prefix(n);
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (!open_) return FailedPrecondition("the artifact writer is closed");
    RETURN_IF_ERROR(Fail(Seal(buffer_, /*final=*/true)));
    open_ = false;
    OPENSSL_cleanse(buffer_.data(), buffer_.size());
    return inner_->Commit();
  }

  void Abort() override {
    if (!open_) return;
    open_ = false;
    inner_->Abort();
  }

 private:
  Status Seal(std::string_view plaintext, bool final) {
    auto* out = reinterpret_cast<unsigned char*>(sealed_.data());
    RETURN_IF_ERROR(encryptor_->Seal(next_chunk_, final, plaintext, out));
    ++next_chunk_;
    return inner_->Append(std::string_view(sealed_.data(), plaintext.size() + kTagSize));
  }

  // Closes the writer (discarding the upload) when `status` is an error.
  Status Fail(Status status) {
    if (!status.ok()) Abort();
    return status;
  }

  std::unique_ptr<ArtifactWriter> inner_;
  std::unique_ptr<ChunkEncryptor> encryptor_;
  std::string buffer_;  // plaintext not yet sealed, at most one chunk
  std::string sealed_;  // one sealed chunk on its way out
  uint64_t next_chunk_ = 0;
  bool open_ = true;
};

class EncryptedArtifactStore : public ArtifactStore {
 public:
  EncryptedArtifactStore(std::unique_ptr<ArtifactStore> inner, std::vector<MasterKey> ring)
      : inner_(std::move(inner)), keys_(*inner_, std::move(ring)) {}

  StatusOr<std::unique_ptr<ArtifactWriter>> OpenWriter(std::string_view path) override {
    RETURN_IF_ERROR(CheckPath(path));
    if (path.empty()) return InvalidArgument("cannot write to the artifact root");
    // The inner store reports path collisions before a tenant key is made.
    ASSIGN_OR_RETURN(std::unique_ptr<ArtifactWriter> inner, inner_->OpenWriter(path));
    ASSIGN_OR_RETURN(std::shared_ptr<const DataKey> data_key,
                     keys_.Get(FirstSegment(path), /*create=*/true));
    encrypted_format::Header header;
    header.data_key_id = data_key->id;
    RETURN_IF_ERROR(encrypted_format::RandomBytes(header.file_id.data(), header.file_id.size()));
    WipedKey file_key;
    ASSIGN_OR_RETURN(file_key.key,
                     encrypted_format::DeriveFileKey(data_key->key, header.file_id, path));
    std::string header_bytes = encrypted_format::EncodeHeader(header);
    RETURN_IF_ERROR(inner->Append(header_bytes));
    ASSIGN_OR_RETURN(std::unique_ptr<ChunkEncryptor> encryptor,
                     ChunkEncryptor::Create(file_key.key, std::move(header_bytes)));
    return std::unique_ptr<ArtifactWriter>(
        std::make_unique<EncryptedWriter>(std::move(inner), std::move(encryptor)));
  }

  StatusOr<std::unique_ptr<ArtifactReader>> OpenReader(std::string_view path) override {
    RETURN_IF_ERROR(CheckPath(path));
    ASSIGN_OR_RETURN(std::unique_ptr<ArtifactReader> inner, inner_->OpenReader(path));
    auto reader = std::make_unique<EncryptedReader>(std::move(inner), std::string(path));
    Status started = reader->Start(keys_, FirstSegment(path));
    if (!started.ok()) {
      if (started.code() == StatusCode::kNotFound) {
        // The file exists, its tenant's key does not: the artifact is unreadable, not missing.
        return Internal("artifact '" + std::string(path) +
                        "' cannot be decrypted: " + started.message());
      }
      return started;
    }
    return std::unique_ptr<ArtifactReader>(std::move(reader));
  }

  StatusOr<std::vector<FileInfo>> List(std::string_view dir) override {
    RETURN_IF_ERROR(CheckPath(dir));
    ASSIGN_OR_RETURN(std::vector<FileInfo> files, inner_->List(dir));
    if (dir.empty()) {
      std::erase_if(files, [](const FileInfo& f) { return f.path == kKeyFolder; });
    }
    for (FileInfo& file : files) {
      if (file.file_size) {
        auto plaintext = encrypted_format::PlaintextSize(static_cast<uint64_t>(*file.file_size));
        file.file_size =
            plaintext ? std::optional<int64_t>(static_cast<int64_t>(*plaintext)) : std::nullopt;
      }
    }
    return files;
  }

  Status Delete(std::string_view path) override {
    RETURN_IF_ERROR(CheckPath(path));
    if (!path.empty()) return inner_->Delete(path);
    // Emptying the root keeps the tenant keys: files may be written again.
    ASSIGN_OR_RETURN(std::vector<FileInfo> top, inner_->List(""));
    for (const FileInfo& entry : top) {
      if (entry.path != kKeyFolder) RETURN_IF_ERROR(inner_->Delete(entry.path));
    }
    return Status::Ok();
  }

 private:
  std::unique_ptr<ArtifactStore> inner_;
  TenantKeys keys_;
};

Status CheckRing(const std::vector<MasterKey>& ring) {
  if (ring.empty()) return InvalidArgument("artifact encryption needs at least one master key");
  std::set<std::string> ids;
  for (const MasterKey& key : ring) {
    if (!ids.insert(key.id()).second) {
      return InvalidArgument("two master keys have the id '" + key.id() + "'");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<ArtifactStore>> MakeEncryptedArtifactStore(
    std::unique_ptr<ArtifactStore> inner, EncryptionOptions options) {
  if (!inner) return InvalidArgument("no underlying artifact store");
  RETURN_IF_ERROR(CheckRing(options.master_keys));
  return std::unique_ptr<ArtifactStore>(
      std::make_unique<EncryptedArtifactStore>(std::move(inner), std::move(options.master_keys)));
}

StatusOr<RewrapReport> RewrapDataKeys(ArtifactStore& inner, const EncryptionOptions& options) {
  RETURN_IF_ERROR(CheckRing(options.master_keys));
  const MasterKey& target = options.master_keys.front();
  constexpr std::string_view kSuffix = ".json";
  ASSIGN_OR_RETURN(std::vector<FileInfo> files, inner.List(kKeyFolder));
  RewrapReport report;
  std::string failures;
  for (const FileInfo& file : files) {
    std::string_view name = file.path;
    if (file.is_dir || name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) continue;
    std::string tenant(name.substr(0, name.size() - kSuffix.size()));
    auto rewrap = [&]() -> Status {
      const std::string path = encrypted_format::KeyFilePath(tenant);
      ASSIGN_OR_RETURN(std::string text, encrypted_format::ReadSmallFile(inner, path));
      ASSIGN_OR_RETURN(encrypted_format::UnwrappedKey current,
                       encrypted_format::UnwrapDataKey(text, tenant, options.master_keys));
      if (current.master_key_id == target.id()) {
        ++report.already_current;
        return Status::Ok();
      }
      ASSIGN_OR_RETURN(std::string rewrapped,
                       encrypted_format::WrapDataKey(*current.key, tenant, target));
      ASSIGN_OR_RETURN(std::unique_ptr<ArtifactWriter> writer, inner.OpenWriter(path));
      RETURN_IF_ERROR(writer->Append(rewrapped));
      RETURN_IF_ERROR(writer->Commit());
      ASSIGN_OR_RETURN(std::string stored, encrypted_format::ReadSmallFile(inner, path));
      ASSIGN_OR_RETURN(encrypted_format::UnwrappedKey check,
                       encrypted_format::UnwrapDataKey(stored, tenant, {target}));
      if (check.key->id != current.key->id || check.key->key != current.key->key) {
        return Internal("the re-wrapped key file of tenant '" + tenant + "' reads back different");
      }
      ++report.rewrapped;
      return Status::Ok();
    };
    Status status = rewrap();
    if (!status.ok()) failures += (failures.empty() ? "" : "; ") + status.message();
  }
  if (!failures.empty()) {
    return Internal("some data keys were not re-wrapped (" + std::to_string(report.rewrapped) +
                    " were): " + failures);
  }
  return report;
}

StatusOr<RewrapReport> RotateMasterKey(ArtifactStore& inner, const MasterKey& old_key,
                                       const MasterKey& new_key) {
  return RewrapDataKeys(inner, EncryptionOptions{{new_key, old_key}});
}

}  // namespace cairn::artifact
