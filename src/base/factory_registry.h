#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"

namespace cairn {

// A typed registry of factories keyed by name (a URI scheme, an authenticator name, ...).
// Filled by explicit registration calls at start-up (no static registrars). Registering a name
// twice is an error; only tests may replace an entry (ReplaceForTest). Thread-safe.
// `Product` is what a factory returns: a std::unique_ptr to an interface, or a value type that
// holds several (metadata::MetadataStores).
template <typename Product, typename... Args>
class FactoryRegistry {
 public:
  using Factory = std::function<StatusOr<Product>(Args...)>;

  Status Register(const std::string& name, Factory factory) {
    MutexLock lock(mu_);
    if (!factories_.emplace(name, std::move(factory)).second) {
      return AlreadyExists("factory '" + name + "' is already registered");
    }
    return Status::Ok();
  }

  void ReplaceForTest(const std::string& name, Factory factory) {
    MutexLock lock(mu_);
    factories_[name] = std::move(factory);
  }

  StatusOr<Product> Create(const std::string& name, Args... args) const {
    Factory factory;
    {
      MutexLock lock(mu_);
      auto it = factories_.find(name);
      if (it == factories_.end()) {
        return InvalidArgument("no implementation registered for '" + name +
                               "' (known: " + JoinNamesLocked() + ")");
      }
      factory = it->second;
    }
    return factory(std::forward<Args>(args)...);
  }

  std::vector<std::string> Names() const {
    MutexLock lock(mu_);
    std::vector<std::string> out;
    for (const auto& [name, unused] : factories_) out.push_back(name);
    return out;
  }

 private:
  std::string JoinNamesLocked() const REQUIRES(mu_) {
    std::string out;
    for (const auto& [name, unused] : factories_) {
      if (!out.empty()) out += ", ";
      out += name;
    }
    return out;
  }

  mutable Mutex mu_;
  std::map<std::string, Factory> factories_ GUARDED_BY(mu_);
};

}  // namespace cairn
