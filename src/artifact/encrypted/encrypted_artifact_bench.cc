// Times artifact encryption (not a test; prints, asserts nothing):
//  1. sealing and opening 64 KiB chunks on one core (GB/s of plaintext);
//  2. a 256 MB file written and read through LocalArtifactStore, plain and encrypted, without
//     fsync (durable = false) so that the cost of the encryption is what differs.
// Each figure is the median of the runs (default 5), given twice: per second of wall time and per
// second of CPU time (user + system) of this process. On a shared machine the CPU figure is the
// one to compare; the wall figure of the store runs also includes the page cache's moods.
//   build/release/src/artifact/encrypted/encrypted_artifact_bench [runs] [scratch dir]

#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "artifact/encrypted/chunk_cipher.h"
#include "artifact/encrypted/encrypted_artifact_store.h"
#include "artifact/local/local_artifact_store.h"

namespace {

namespace fs = std::filesystem;
using cairn::artifact::ArtifactStore;
namespace format = cairn::artifact::encrypted_format;

// Wall and CPU (user + system, this process) seconds since construction.
class Timer {
 public:
  Timer() : wall_(std::chrono::steady_clock::now()), cpu_(CpuNow()) {}
  double wall() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_).count();
  }
  double cpu() const { return CpuNow() - cpu_; }

 private:
  static double CpuNow() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
    return secs(usage.ru_utime) + secs(usage.ru_stime);
  }
  std::chrono::steady_clock::time_point wall_;
  double cpu_;
};

struct Rate {
  std::vector<double> wall, cpu;
  void Add(double bytes, const Timer& t) {
    wall.push_back(bytes / t.wall());
    cpu.push_back(bytes / t.cpu());
  }
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "failed: %s\n", what);
    std::exit(1);
  }
}

// GB/s (1e9 bytes) of plaintext sealed, then opened, in 64 KiB chunks.
void ChunkThroughput(int runs) {
  constexpr size_t kChunks = 16384;  // 1 GiB per run
  format::Key key{};
  format::Header header{};
  Check(format::RandomBytes(key.data(), key.size()).ok(), "random");
  auto enc = format::ChunkEncryptor::Create(key, format::EncodeHeader(header));
  auto dec = format::ChunkDecryptor::Create(key, format::EncodeHeader(header));
  Check(enc.ok() && dec.ok(), "cipher contexts");
  std::string plain(format::kChunkSize, 'p');
  std::string sealed(format::kChunkSize + format::kTagSize, '\0');
  std::string opened(format::kChunkSize, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  Rate seal, open;
  const double bytes = static_cast<double>(kChunks * format::kChunkSize);
  for (int run = 0; run < runs; ++run) {
    Timer t;
    for (size_t i = 0; i < kChunks; ++i) Check((*enc)->Seal(i, false, plain, out).ok(), "seal");
    seal.Add(bytes, t);
    Check((*enc)->Seal(7, false, plain, out).ok(), "seal");
    Timer t2;
    for (size_t i = 0; i < kChunks; ++i) {
      Check((*dec)->Open(7, false, sealed, reinterpret_cast<unsigned char*>(opened.data())),
            "open");
    }
    open.Add(bytes, t2);
  }
  std::printf(
      "64 KiB chunks, one core: seal %.2f GB/s (%.2f per CPU second), open %.2f GB/s "
      "(%.2f per CPU second)\n",
      Median(seal.wall) / 1e9, Median(seal.cpu) / 1e9, Median(open.wall) / 1e9,
      Median(open.cpu) / 1e9);
}

void WriteAndRead(ArtifactStore& store, const std::string& path, uint64_t size, size_t block_size,
                  Rate& write, Rate& read) {
  std::string block(block_size, 'x');
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 131 + 7);
  Timer t;
  auto writer = store.OpenWriter(path);
  Check(writer.ok(), "open writer");
  for (uint64_t done = 0; done < size; done += block.size()) {
    Check((*writer)->Append(block).ok(), "append");
  }
  Check((*writer)->Commit().ok(), "commit");
  write.Add(static_cast<double>(size), t);
  Timer t2;
  auto reader = store.OpenReader(path);
  Check(reader.ok(), "open reader");
  uint64_t total = 0;
  while (true) {
    auto n = (*reader)->Read(block.data(), block.size());
    Check(n.ok(), "read");
    if (*n == 0) break;
    total += *n;
  }
  Check(total == size, "read size");
  read.Add(static_cast<double>(size), t2);
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  fs::path scratch;
  if (argc > 2) {
    scratch = argv[2];
    fs::create_directories(scratch);
  } else {
    std::string tmpl = (fs::temp_directory_path() / "cairn-enc-bench-XXXXXX").string();
    Check(::mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
    scratch = tmpl;
  }

  ChunkThroughput(runs);

  constexpr uint64_t kSize = uint64_t{256} << 20;
  auto plain = cairn::artifact::LocalArtifactStore::Open(scratch / "plain", {.durable = false});
  auto local = cairn::artifact::LocalArtifactStore::Open(scratch / "enc", {.durable = false});
  auto key = cairn::artifact::MasterKey::FromBytes(std::string(32, 'k'));
  Check(plain.ok() && local.ok() && key.ok(), "stores");
  auto encrypted = cairn::artifact::MakeEncryptedArtifactStore(std::move(local).value(), {{*key}});
  Check(encrypted.ok(), "encrypted store");
  // Appends and reads of 1 MiB, and of 64 KiB (the decorator's own write size: on some kernels
  // and VMs one 1 MiB write(2) into the page cache costs far more than sixteen of 64 KiB).
  for (size_t block : {size_t{1} << 20, size_t{64} << 10}) {
    Rate pw, pr, ew, er;
    for (int run = 0; run < runs; ++run) {
      WriteAndRead(**encrypted, "t/big.bin", kSize, block, ew, er);
      WriteAndRead(**plain, "t/big.bin", kSize, block, pw, pr);
    }
    auto line = [&](const char* what, const Rate& p, const Rate& e) {
      std::printf(
          "256 MB %s in %zu KiB blocks, local store (no fsync): plain %.0f MB/s (%.0f per "
          "CPU second), encrypted %.0f MB/s (%.0f per CPU second)\n",
          what, block >> 10, Median(p.wall) / 1e6, Median(p.cpu) / 1e6, Median(e.wall) / 1e6,
          Median(e.cpu) / 1e6);
    };
    line("write", pw, ew);
    line("read", pr, er);
  }
  if (argc <= 2) fs::remove_all(scratch);
  return 0;
}
