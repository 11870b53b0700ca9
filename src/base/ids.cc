#include "base/ids.h"

#include <array>

namespace cairn {
namespace {

constexpr std::array<const char*, 24> kAdjectives = {
    "able",   "bold",   "brave", "bright", "calm",  "clever", "crisp",  "eager",
    "gentle", "glad",   "grand", "honest", "jolly", "keen",   "lively", "lucid",
    "merry",  "nimble", "proud", "quiet",  "rapid", "steady", "swift",  "wise"};
constexpr std::array<const char*, 24> kNouns = {"ant",  "bass",  "bear",  "crane", "deer", "doe",
                                                "eel",  "finch", "fox",   "gull",  "hare", "hawk",
                                                "ibis", "lark",  "lynx",  "mole",  "moth", "newt",
                                                "owl",  "seal",  "shrew", "snail", "toad", "wren"};

}  // namespace

IdGenerator::IdGenerator()
    : rng_(std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32)) {}

IdGenerator::IdGenerator(uint64_t seed) : rng_(seed) {}

std::string IdGenerator::Hex32() {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t a;
  uint64_t b;
  {
    MutexLock lock(mu_);
    a = rng_();
    b = rng_();
  }
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[i] = kHex[(a >> (i * 4)) & 0xF];
    out[16 + i] = kHex[(b >> (i * 4)) & 0xF];
  }
  // Version 4, variant 1, so the value is a valid uuid4.
  out[12] = '4';
  out[16] = kHex[8 + ((b >> 4) & 0x3)];
  return out;
}

uint64_t IdGenerator::Uniform(uint64_t bound) {
  MutexLock lock(mu_);
  return std::uniform_int_distribution<uint64_t>(0, bound - 1)(rng_);
}

std::string IdGenerator::RunName() {
  std::string name = kAdjectives[Uniform(kAdjectives.size())];
  name += '-';
  name += kNouns[Uniform(kNouns.size())];
  name += '-';
  name += std::to_string(Uniform(1000));
  return name;
}

IdGenerator& IdGenerator::Default() {
  static auto* gen = new IdGenerator();
  return *gen;
}

}  // namespace cairn
