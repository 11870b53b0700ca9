#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "runtime/model_runtime.h"

namespace cairn::serving {

// Identifies one loaded model instance: the same model version with the same runtime and
// options, and the same instance number, is loaded once and shared by every deployment of it.
struct ModelKey {
  std::string tenant;
  std::string model_name;
  std::string version;
  std::string runtime;
  std::string options;  // the runtime options that change what is loaded, as text
  int instance = 0;

  auto operator<=>(const ModelKey&) const = default;
  std::string ToString() const;
};

// Loaded model instances keyed by ModelKey, with a memory budget. An instance held only by the
// cache (no deployment uses it) is idle; when the loaded bytes exceed the budget, idle instances
// are unloaded least recently used first. Instances in use are never unloaded, so the budget may
// be exceeded by what deployments hold.
//
// Thread-safe. Concurrent GetOrLoad calls for one key run the loader once; the others wait for
// its result (a failed load is not cached).
class ModelCache {
 public:
  using Loader = std::function<StatusOr<std::shared_ptr<runtime::LoadedModel>>()>;

  explicit ModelCache(int64_t budget_bytes) : budget_bytes_(budget_bytes) {}

  // The cached instance for `key`, or the one `load` returns (then cached). Blocking while the
  // load runs.
  StatusOr<std::shared_ptr<runtime::LoadedModel>> GetOrLoad(const ModelKey& key, const Loader& load)
      EXCLUDES(mu_);

  // Unloads idle instances, least recently used first, until the loaded bytes fit the budget.
  void Trim() EXCLUDES(mu_);
  // Unloads every idle instance of (tenant, model, version) (a deployment of it went away and the
  // caller wants the memory back at once).
  void ReleaseIdle(const std::string& tenant, const std::string& model_name,
                   const std::string& version) EXCLUDES(mu_);
  // Drops the cache's reference to `model`, idle or not: for the instances of a deleted
  // deployment that no other deployment serves. Requests still answering hold their own
  // references (so use counts cannot tell them from deployments); the instance unloads when the
  // last of them lets go instead of staying cached. No-op when `model` is not cached.
  void Release(const std::shared_ptr<runtime::LoadedModel>& model) EXCLUDES(mu_);

  struct Stats {
    int64_t loaded = 0;  // instances in the cache
    int64_t bytes = 0;
    int64_t hits = 0;
    int64_t misses = 0;
    int64_t evictions = 0;
  };
  Stats GetStats() const EXCLUDES(mu_);

 private:
  struct Entry {
    std::shared_ptr<runtime::LoadedModel> model;  // null while loading
    bool loading = false;
    int64_t bytes = 0;
    std::list<ModelKey>::iterator lru;  // position in lru_ once loaded
  };
  void TrimLocked() REQUIRES(mu_);

  const int64_t budget_bytes_;
  mutable Mutex mu_;
  std::condition_variable loaded_cv_;
  std::map<ModelKey, Entry> entries_ GUARDED_BY(mu_);
  std::list<ModelKey> lru_ GUARDED_BY(mu_);  // front = most recently used
  Stats stats_ GUARDED_BY(mu_);
};

}  // namespace cairn::serving
