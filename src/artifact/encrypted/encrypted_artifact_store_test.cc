#include "artifact/encrypted/encrypted_artifact_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "artifact/encrypted/chunk_cipher.h"
#include "artifact/encrypted/tenant_keys.h"
#include "artifact/local/local_artifact_store.h"
#include "base/status_testing.h"

namespace cairn::artifact {
namespace {

namespace fs = std::filesystem;
using encrypted_format::kChunkSize;
using encrypted_format::kHeaderSize;
using encrypted_format::kTagSize;
constexpr size_t kRecord = kChunkSize + kTagSize;

MasterKey Key(char fill, std::string id = "") {
  auto key = MasterKey::FromBytes(std::string(MasterKey::kSize, fill), std::move(id));
  EXPECT_TRUE(key.ok());
  return *key;
}

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

std::string ReadDisk(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteDisk(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
}

// Counts the key files written through it; optionally runs a hook after each key file commit.
class CountingStore : public ArtifactStoreWrapper {
 public:
  explicit CountingStore(std::unique_ptr<ArtifactStore> inner)
      : ArtifactStoreWrapper(*inner), inner_(std::move(inner)) {}

  StatusOr<std::unique_ptr<ArtifactWriter>> OpenWriter(std::string_view path) override {
    ASSIGN_OR_RETURN(std::unique_ptr<ArtifactWriter> writer,
                     ArtifactStoreWrapper::OpenWriter(path));
    if (!path.starts_with(".cairn-keys/")) return writer;
    ++key_writes;
    return std::unique_ptr<ArtifactWriter>(std::make_unique<HookedWriter>(std::move(writer), this));
  }

  std::atomic<int> key_writes{0};
  std::function<void()> after_key_commit;

 private:
  class HookedWriter : public ArtifactWriter {
   public:
    HookedWriter(std::unique_ptr<ArtifactWriter> inner, CountingStore* store)
        : inner_(std::move(inner)), store_(store) {}
    Status Append(std::string_view chunk) override { return inner_->Append(chunk); }
    Status Commit() override {
      RETURN_IF_ERROR(inner_->Commit());
      if (store_->after_key_commit) store_->after_key_commit();
      return Status::Ok();
    }
    void Abort() override { inner_->Abort(); }

   private:
    std::unique_ptr<ArtifactWriter> inner_;
    CountingStore* store_;
  };

  std::unique_ptr<ArtifactStore> inner_;
};

class EncryptedArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-enc-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    store_ = Open({Key('a')});
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(root_);
  }

  std::unique_ptr<ArtifactStore> Local() {
    auto local = LocalArtifactStore::Open(root_, {.durable = false});
    EXPECT_TRUE(local.ok()) << local.status().ToString();
    return std::move(local).value();
  }

  std::unique_ptr<ArtifactStore> Open(std::vector<MasterKey> ring) {
    auto store = MakeEncryptedArtifactStore(Local(), EncryptionOptions{std::move(ring)});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return std::move(store).value();
  }

  static Status Put(ArtifactStore& store, std::string_view path, std::string_view content) {
    ASSIGN_OR_RETURN(std::unique_ptr<ArtifactWriter> writer, store.OpenWriter(path));
    RETURN_IF_ERROR(writer->Append(content));
    return writer->Commit();
  }

  static StatusOr<std::string> Get(ArtifactStore& store, std::string_view path) {
    ASSIGN_OR_RETURN(std::unique_ptr<ArtifactReader> reader, store.OpenReader(path));
    std::string out;
    std::string buffer(100000, '\0');
    while (true) {
      ASSIGN_OR_RETURN(size_t n, reader->Read(buffer.data(), buffer.size()));
      if (n == 0) break;
      out.append(buffer, 0, n);
    }
    if (out.size() != reader->Size()) return Internal("size mismatch");
    return out;
  }

  // Reading `path` fails with INTERNAL (at open or at some Read).
  void ExpectUnreadable(std::string_view path, std::string_view what) {
    auto got = Get(*store_, path);
    ASSERT_FALSE(got.ok()) << what << ": read back " << got->size() << " bytes";
    EXPECT_EQ(got.status().code(), StatusCode::kInternal)
        << what << ": " << got.status().ToString();
    EXPECT_NE(got.status().message().find(std::string(path)), std::string::npos)
        << what << ": " << got.status().message();
  }

  fs::path root_;
  std::unique_ptr<ArtifactStore> store_;
};

TEST_F(EncryptedArtifactStoreTest, RoundTripsEverySizeWithRandomAppendsAndReads) {
  std::mt19937 rng(7);
  const size_t sizes[] = {0,
                          1,
                          kChunkSize - 1,
                          kChunkSize,
                          kChunkSize + 1,
                          2 * kChunkSize,
                          3 * kChunkSize - 1,
                          (5 << 20) + 123};
  for (size_t size : sizes) {
    const std::string path = "t1/sizes/" + std::to_string(size);
    const std::string content = RandomBytes(size, static_cast<uint32_t>(size));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<ArtifactWriter> writer, store_->OpenWriter(path));
    for (size_t done = 0; done < size;) {
      size_t n = std::min<size_t>(size - done, rng() % (3 * kChunkSize) + (rng() % 4 == 0 ? 0 : 1));
      ASSERT_OK(writer->Append(std::string_view(content).substr(done, n)));
      done += n;
    }
    ASSERT_OK(writer->Commit());
    EXPECT_EQ(fs::file_size(root_ / path), encrypted_format::CiphertextSize(size)) << size;

    ASSERT_OK_AND_ASSIGN(std::unique_ptr<ArtifactReader> reader, store_->OpenReader(path));
    EXPECT_EQ(reader->Size(), size);
    std::string got;
    std::string buffer(3 * kChunkSize, '\0');
    while (true) {
      size_t capacity = rng() % buffer.size() + 1;
      ASSERT_OK_AND_ASSIGN(size_t n, reader->Read(buffer.data(), capacity));
      if (n == 0) break;
      got.append(buffer, 0, n);
    }
    EXPECT_TRUE(got == content) << "size " << size;
  }
  ASSERT_OK_AND_ASSIGN(std::vector<FileInfo> files, store_->List("t1/sizes"));
  ASSERT_EQ(files.size(), std::size(sizes));
  for (const FileInfo& file : files) {
    EXPECT_EQ(file.file_size, std::stoll(file.path)) << file.path;
  }
}

TEST_F(EncryptedArtifactStoreTest, SizeArithmeticIsExactAndRejectsImpossibleSizes) {
  for (uint64_t p = 0; p < 4 * kChunkSize + 40; p += (p < 100 ? 1 : 997)) {
    EXPECT_EQ(encrypted_format::PlaintextSize(encrypted_format::CiphertextSize(p)), p);
  }
  for (uint64_t p : {kChunkSize, 2 * kChunkSize, uint64_t{1} << 40}) {
    EXPECT_EQ(encrypted_format::PlaintextSize(encrypted_format::CiphertextSize(p)), p);
  }
  EXPECT_FALSE(encrypted_format::PlaintextSize(0).has_value());
  EXPECT_FALSE(encrypted_format::PlaintextSize(kHeaderSize).has_value());
  EXPECT_FALSE(encrypted_format::PlaintextSize(kHeaderSize + kTagSize - 1).has_value());
  // A second chunk without plaintext exists in no file.
  EXPECT_FALSE(encrypted_format::PlaintextSize(kHeaderSize + kRecord + kTagSize).has_value());
}

TEST_F(EncryptedArtifactStoreTest, NoPlaintextOnDisk) {
  const std::string pattern = "CAIRN-PLAINTEXT-MARKER-7f3a9c-";
  std::string content;
  while (content.size() < 3 * kChunkSize) content += pattern;
  ASSERT_OK(Put(*store_, "t1/model/weights.bin", content));
  ASSERT_OK(Put(*store_, "t2/small.txt", pattern));
  ASSERT_OK(Put(*store_, "t2/d/e/f.txt", content.substr(0, 100)));
  int files = 0;
  const std::string needle = pattern.substr(0, 12);
  const std::string master_bytes(MasterKey::kSize, 'a');
  for (const auto& entry : fs::recursive_directory_iterator(root_)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::string bytes = ReadDisk(entry.path());
    EXPECT_EQ(bytes.find(needle), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find(master_bytes.substr(0, 16)), std::string::npos) << entry.path();
  }
  EXPECT_EQ(files, 5);  // three artifacts and two key files
  EXPECT_TRUE(fs::exists(root_ / ".cairn-keys" / "t1.json"));
  EXPECT_TRUE(fs::exists(root_ / ".cairn-keys" / "t2.json"));
  EXPECT_EQ(*Get(*store_, "t1/model/weights.bin"), content);
}

TEST_F(EncryptedArtifactStoreTest, DetectsEveryKindOfTampering) {
  const std::string content = RandomBytes(3 * kChunkSize + 500, 1);  // 4 chunks
  ASSERT_OK(Put(*store_, "t1/f.bin", content));
  ASSERT_OK(Put(*store_, "t2/other.bin", "other tenant"));
  const fs::path file = root_ / "t1/f.bin";
  const std::string original = ReadDisk(file);
  ASSERT_EQ(original.size(), kHeaderSize + 3 * kRecord + 500 + kTagSize);

  auto flip = [&](size_t offset) {
    std::string bytes = original;
    bytes[offset] = static_cast<char>(bytes[offset] ^ 0x01);
    return bytes;
  };
  const size_t chunk1 = kHeaderSize + kRecord;
  struct Case {
    std::string name;
    std::string bytes;
  };
  std::vector<Case> cases = {
      {"header magic", flip(0)},
      {"header version", flip(8)},
      {"header data key id", flip(12)},
      {"header file id", flip(25)},
      {"chunk 0 ciphertext", flip(kHeaderSize + 3)},
      {"chunk 1 ciphertext", flip(chunk1 + 1000)},
      {"chunk 1 tag", flip(chunk1 + kRecord - 1)},
      {"last chunk tag", flip(original.size() - 1)},
      {"truncated at a chunk boundary", original.substr(0, kHeaderSize + 3 * kRecord)},
      {"truncated to two chunks", original.substr(0, kHeaderSize + 2 * kRecord)},
      {"truncated inside a chunk", original.substr(0, original.size() - 100)},
      {"truncated inside chunk 1", original.substr(0, chunk1 + 5000)},
      {"truncated to the header", original.substr(0, kHeaderSize)},
      {"truncated to nothing", ""},
      {"one garbage byte appended", original + "x"},
      {"garbage tag appended", original + std::string(kTagSize, '\0')},
      {"garbage chunk appended", original + RandomBytes(kRecord, 9)},
      {"chunks 0 and 1 swapped",
       original.substr(0, kHeaderSize) + original.substr(chunk1, kRecord) +
           original.substr(kHeaderSize, kRecord) + original.substr(chunk1 + kRecord)},
      {"chunk 1 repeated over chunk 2", original.substr(0, chunk1 + kRecord) +
                                            original.substr(chunk1, kRecord) +
                                            original.substr(chunk1 + 2 * kRecord)},
  };
  for (const Case& c : cases) {
    WriteDisk(file, c.bytes);
    ExpectUnreadable("t1/f.bin", c.name);
  }
  WriteDisk(file, original);
  EXPECT_EQ(*Get(*store_, "t1/f.bin"), content);

  // Moved or copied to another path, in the same tenant or another, with or without a key.
  for (std::string_view target : {"t1/g.bin", "t1/sub/f.bin", "t2/f.bin", "t3/f.bin"}) {
    WriteDisk(root_ / target, original);
    ExpectUnreadable(target, "copied to " + std::string(target));
  }
  // Two files of one tenant spliced: chunk 1 of another file at the same index.
  ASSERT_OK(Put(*store_, "t1/twin.bin", content));
  const std::string twin = ReadDisk(root_ / "t1/twin.bin");
  WriteDisk(file, original.substr(0, chunk1) + twin.substr(chunk1, kRecord) +
                      original.substr(chunk1 + kRecord));
  ExpectUnreadable("t1/f.bin", "spliced with another file");
}

TEST_F(EncryptedArtifactStoreTest, HandsOutOnlyVerifiedChunksThenFails) {
  const std::string content = RandomBytes(3 * kChunkSize, 2);
  ASSERT_OK(Put(*store_, "t1/f.bin", content));
  std::string bytes = ReadDisk(root_ / "t1/f.bin");
  bytes[kHeaderSize + kRecord + 10] ^= 0x40;  // inside chunk 1
  WriteDisk(root_ / "t1/f.bin", bytes);

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ArtifactReader> reader, store_->OpenReader("t1/f.bin"));
  std::string buffer(4 * kChunkSize, '\0');
  ASSERT_OK_AND_ASSIGN(size_t n, reader->Read(buffer.data(), buffer.size()));
  ASSERT_EQ(n, kChunkSize) << "only chunk 0 verifies";
  EXPECT_EQ(buffer.substr(0, n), content.substr(0, kChunkSize));
  auto next = reader->Read(buffer.data(), buffer.size());
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), StatusCode::kInternal);
  EXPECT_NE(next.status().message().find("chunk 1"), std::string::npos) << next.status().message();
  EXPECT_FALSE(reader->Read(buffer.data(), buffer.size()).ok()) << "the failure sticks";
}

TEST_F(EncryptedArtifactStoreTest, PlaintextFileInTheUnderlyingStoreIsRejected) {
  ASSERT_OK(Put(*store_, "t1/encrypted.txt", "x"));  // the tenant has a key
  WriteDisk(root_ / "t1/plain.txt", std::string(200, 'p'));
  ExpectUnreadable("t1/plain.txt", "plaintext file");
}

TEST_F(EncryptedArtifactStoreTest, WrongMasterKeyCannotReadOrWrite) {
  ASSERT_OK(Put(*store_, "t1/f.txt", "secret"));
  const std::string key_file = ReadDisk(root_ / ".cairn-keys/t1.json");

  auto other = Open({Key('b')});
  auto read = other->OpenReader("t1/f.txt");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kInternal);
  EXPECT_NE(read.status().message().find("not configured"), std::string::npos)
      << read.status().message();
  // A write must not replace the tenant's key with a new one.
  EXPECT_FALSE(other->OpenWriter("t1/new.txt").ok());

  // A different key that claims the right id.
  auto impostor = Open({Key('b', Key('a').id())});
  read = impostor->OpenReader("t1/f.txt");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("does not unwrap"), std::string::npos)
      << read.status().message();
  EXPECT_FALSE(impostor->OpenWriter("t1/new.txt").ok());

  EXPECT_EQ(ReadDisk(root_ / ".cairn-keys/t1.json"), key_file);
  EXPECT_EQ(*Get(*Open({Key('a')}), "t1/f.txt"), "secret");
  // Tenants without keys are unaffected: the other store makes its own.
  ASSERT_OK(Put(*other, "t9/f.txt", "nine"));
  EXPECT_EQ(*Get(*other, "t9/f.txt"), "nine");
}

TEST_F(EncryptedArtifactStoreTest, KeyFileCopiedToAnotherTenantDoesNotUnwrap) {
  ASSERT_OK(Put(*store_, "t1/f.txt", "one"));
  ASSERT_OK(Put(*store_, "t2/f.txt", "two"));
  fs::copy_file(root_ / ".cairn-keys/t1.json", root_ / ".cairn-keys/t2.json",
                fs::copy_options::overwrite_existing);
  auto fresh = Open({Key('a')});
  auto read = fresh->OpenReader("t2/f.txt");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kInternal);
}

TEST_F(EncryptedArtifactStoreTest, RotationRewrapsKeysWithoutTouchingArtifacts) {
  const MasterKey old_key = Key('a');
  const MasterKey new_key = Key('n');
  ASSERT_OK(Put(*store_, "t1/f.bin", RandomBytes(kChunkSize + 7, 3)));
  ASSERT_OK(Put(*store_, "t2/g.txt", "two"));
  const std::string artifact_before = ReadDisk(root_ / "t1/f.bin");
  auto during = Open({new_key, old_key});  // a server given the new ring before the rotation
  ASSERT_OK_AND_ASSIGN(std::string before, Get(*during, "t1/f.bin"));

  auto inner = Local();
  ASSERT_OK_AND_ASSIGN(RewrapReport report, RotateMasterKey(*inner, old_key, new_key));
  EXPECT_EQ(report.rewrapped, 2);
  EXPECT_EQ(report.already_current, 0);
  EXPECT_EQ(ReadDisk(root_ / "t1/f.bin"), artifact_before);

  EXPECT_EQ(*Get(*Open({new_key}), "t1/f.bin"), before);
  EXPECT_EQ(*Get(*Open({new_key}), "t2/g.txt"), "two");
  EXPECT_EQ(*Get(*during, "t2/g.txt"), "two");
  EXPECT_EQ(*Get(*store_, "t1/f.bin"), before) << "a running server keeps its unwrapped keys";
  auto old_only = Open({old_key});
  EXPECT_EQ(old_only->OpenReader("t1/f.bin").status().code(), StatusCode::kInternal);
  EXPECT_FALSE(old_only->OpenWriter("t2/new.txt").ok());

  // Idempotent; new tenants get keys under the new master key.
  ASSERT_OK_AND_ASSIGN(report, RewrapDataKeys(*inner, EncryptionOptions{{new_key, old_key}}));
  EXPECT_EQ(report.rewrapped, 0);
  EXPECT_EQ(report.already_current, 2);
  auto new_only = Open({new_key});
  ASSERT_OK(Put(*new_only, "t3/h.txt", "three"));
  EXPECT_NE(ReadDisk(root_ / ".cairn-keys/t3.json").find(new_key.id()), std::string::npos);
}

TEST_F(EncryptedArtifactStoreTest, RotationReportsKeysItCannotUnwrapAndDoesTheRest) {
  ASSERT_OK(Put(*store_, "t1/f.txt", "one"));
  ASSERT_OK(Put(*Open({Key('z')}), "t2/f.txt", "two"));  // under a key the rotation lacks
  auto inner = Local();
  auto report = RotateMasterKey(*inner, Key('a'), Key('n'));
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kInternal);
  EXPECT_NE(report.status().message().find("'t2'"), std::string::npos) << report.status().message();
  EXPECT_EQ(*Get(*Open({Key('n')}), "t1/f.txt"), "one");
  EXPECT_EQ(*Get(*Open({Key('z')}), "t2/f.txt"), "two");
}

TEST_F(EncryptedArtifactStoreTest, ConcurrentFirstWritesOfATenantCreateOneDataKey) {
  auto counting = std::make_unique<CountingStore>(Local());
  CountingStore& counter = *counting;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ArtifactStore> store,
                       MakeEncryptedArtifactStore(std::move(counting), {{Key('a')}}));
  constexpr int kThreads = 16;
  std::atomic<int> ready{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      const std::string path = "fresh/file-" + std::to_string(t);
      if (!Put(*store, path, path).ok()) ++failures;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(counter.key_writes.load(), 1);
  auto fresh = Open({Key('a')});  // reads with the stored key, not a cached one
  for (int t = 0; t < kThreads; ++t) {
    const std::string path = "fresh/file-" + std::to_string(t);
    EXPECT_EQ(*Get(*fresh, path), path);
  }
}

TEST_F(EncryptedArtifactStoreTest, KeyCommittedByAnotherProcessMeanwhileWins) {
  // After this store commits its new key, "another process" commits its own for the same
  // tenant before the read-back; the store must use the stored key, or its file is lost.
  auto counting = std::make_unique<CountingStore>(Local());
  CountingStore& counter = *counting;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ArtifactStore> store,
                       MakeEncryptedArtifactStore(std::move(counting), {{Key('a')}}));
  auto rival_inner = Local();
  counter.after_key_commit = [&] {
    counter.after_key_commit = nullptr;
    encrypted_format::DataKey rival;
    ASSERT_OK(encrypted_format::RandomBytes(rival.id.data(), rival.id.size()));
    ASSERT_OK(encrypted_format::RandomBytes(rival.key.data(), rival.key.size()));
    ASSERT_OK_AND_ASSIGN(std::string text, encrypted_format::WrapDataKey(rival, "race", Key('a')));
    ASSERT_OK(Put(*rival_inner, encrypted_format::KeyFilePath("race"), text));
  };
  ASSERT_OK(Put(*store, "race/f.txt", "mine"));
  EXPECT_EQ(*Get(*Open({Key('a')}), "race/f.txt"), "mine");
}

TEST_F(EncryptedArtifactStoreTest, KeyFolderIsHiddenAndUnreachable) {
  ASSERT_OK(Put(*store_, "t1/f.txt", "one"));
  ASSERT_OK_AND_ASSIGN(std::vector<FileInfo> top, store_->List(""));
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].path, "t1");
  for (std::string_view path : {".cairn-keys", ".cairn-keys/t1.json", ".cairn-keys/x/y"}) {
    EXPECT_EQ(store_->OpenReader(path).status().code(), StatusCode::kInvalidArgument) << path;
    EXPECT_EQ(store_->OpenWriter(path).status().code(), StatusCode::kInvalidArgument) << path;
    EXPECT_EQ(store_->List(path).status().code(), StatusCode::kInvalidArgument) << path;
    EXPECT_EQ(store_->Delete(path).code(), StatusCode::kInvalidArgument) << path;
  }
  // Emptying the root keeps the keys, so files can be written and read again.
  ASSERT_OK(store_->Delete(""));
  EXPECT_TRUE(fs::exists(root_ / ".cairn-keys/t1.json"));
  ASSERT_OK_AND_ASSIGN(top, store_->List(""));
  EXPECT_TRUE(top.empty());
  ASSERT_OK(Put(*store_, "t1/g.txt", "again"));
  EXPECT_EQ(*Get(*Open({Key('a')}), "t1/g.txt"), "again");
}

TEST_F(EncryptedArtifactStoreTest, MissingTenantKeyIsAnErrorNotAMissingFile) {
  ASSERT_OK(Put(*store_, "t1/f.txt", "one"));
  fs::remove(root_ / ".cairn-keys/t1.json");
  auto read = Open({Key('a')})->OpenReader("t1/f.txt");
  EXPECT_EQ(read.status().code(), StatusCode::kInternal) << read.status().ToString();
  EXPECT_EQ(store_->OpenReader("t1/missing").status().code(), StatusCode::kNotFound);
}

TEST_F(EncryptedArtifactStoreTest, RejectsBadOptions) {
  EXPECT_EQ(MakeEncryptedArtifactStore(Local(), {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeEncryptedArtifactStore(Local(), {{Key('a'), Key('a')}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeEncryptedArtifactStore(nullptr, {{Key('a')}}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::artifact
