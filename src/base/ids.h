#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "base/mutex.h"

namespace cairn {

// Generates random identifiers. Thread-safe. Seedable so tests are deterministic.
class IdGenerator {
 public:
  IdGenerator();  // seeded from std::random_device
  explicit IdGenerator(uint64_t seed);

  // 32 lower-case hex characters from 128 random bits (the shape of uuid4().hex).
  std::string Hex32();
  // A random "adjective-noun-NNN" name, as MLflow gives unnamed runs.
  std::string RunName();
  // Uniform integer in [0, bound).
  uint64_t Uniform(uint64_t bound);

  // Process-wide instance.
  static IdGenerator& Default();

 private:
  Mutex mu_;
  std::mt19937_64 rng_ GUARDED_BY(mu_);
};

}  // namespace cairn
