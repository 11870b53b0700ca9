#include "serving/model_cache.h"

#include <spdlog/spdlog.h>

namespace cairn::serving {

std::string ModelKey::ToString() const {
  return tenant + "/" + model_name + "/" + version + "/" + runtime + "#" + std::to_string(instance);
}

StatusOr<std::shared_ptr<runtime::LoadedModel>> ModelCache::GetOrLoad(const ModelKey& key,
                                                                      const Loader& load) {
  {
    MutexLock lock(mu_);
    while (true) {
      auto it = entries_.find(key);
      if (it == entries_.end()) {
        entries_[key].loading = true;
        ++stats_.misses;
        break;
      }
      if (!it->second.loading) {
        ++stats_.hits;
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        return it->second.model;
      }
      lock.Wait(loaded_cv_);  // another caller is loading this key
    }
  }
  StatusOr<std::shared_ptr<runtime::LoadedModel>> loaded = load();
  MutexLock lock(mu_);
  auto it = entries_.find(key);
  if (!loaded.ok()) {
    entries_.erase(it);
  } else {
    it->second.loading = false;
    it->second.model = *loaded;
    it->second.bytes = (*loaded)->MemoryBytes();
    lru_.push_front(key);
    it->second.lru = lru_.begin();
    ++stats_.loaded;
    stats_.bytes += it->second.bytes;
    TrimLocked();
  }
  loaded_cv_.notify_all();
  return loaded;
}

void ModelCache::Trim() {
  MutexLock lock(mu_);
  TrimLocked();
}

void ModelCache::TrimLocked() {
  for (auto it = lru_.end(); stats_.bytes > budget_bytes_ && it != lru_.begin();) {
    --it;
    Entry& entry = entries_.at(*it);
    if (entry.model.use_count() > 1) continue;  // a deployment uses it
    spdlog::info("model cache: unloading idle {} ({} bytes) to fit the budget", it->ToString(),
                 entry.bytes);
    stats_.bytes -= entry.bytes;
    --stats_.loaded;
    ++stats_.evictions;
    entries_.erase(*it);
    it = lru_.erase(it);
  }
}

void ModelCache::ReleaseIdle(const std::string& tenant, const std::string& model_name,
                             const std::string& version) {
  MutexLock lock(mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    Entry& entry = entries_.at(*it);
    if (it->tenant == tenant && it->model_name == model_name && it->version == version &&
        entry.model.use_count() == 1) {
      stats_.bytes -= entry.bytes;
      --stats_.loaded;
      ++stats_.evictions;
      entries_.erase(*it);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

void ModelCache::Release(const std::shared_ptr<runtime::LoadedModel>& model) {
  if (model == nullptr) return;
  std::shared_ptr<runtime::LoadedModel> dropped;  // let go after the lock
  MutexLock lock(mu_);
  for (auto it = lru_.begin(); it != lru_.end(); ++it) {
    auto entry = entries_.find(*it);
    if (entry == entries_.end() || entry->second.model != model) continue;
    spdlog::info("model cache: releasing {} (its deployment was deleted)", it->ToString());
    dropped = std::move(entry->second.model);
    stats_.bytes -= entry->second.bytes;
    --stats_.loaded;
    ++stats_.evictions;
    entries_.erase(entry);
    lru_.erase(it);
    return;
  }
}

ModelCache::Stats ModelCache::GetStats() const {
  MutexLock lock(mu_);
  return stats_;
}

}  // namespace cairn::serving
