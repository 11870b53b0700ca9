#pragma once

#include <string>
#include <vector>

#include "base/request_scope.h"
#include "metadata/types.h"

namespace cairn::registry {

// A change the registry made, as MLflow's webhooks describe it. Fields not listed for a kind
// are empty.
struct RegistryEvent {
  enum class Kind {
    kRegisteredModelCreated,     // name, description, tags
    kModelVersionCreated,        // name, version, source, run_id, description, tags
    kModelVersionTagSet,         // name, version, key, value
    kModelVersionTagDeleted,     // name, version, key
    kRegisteredModelTagSet,      // name, key, value
    kRegisteredModelTagDeleted,  // name, key
    kAliasSet,                   // name, alias, version
    kAliasDeleted,               // name, alias
  };
  Kind kind = Kind::kRegisteredModelCreated;
  std::string name;
  std::string version;  // decimal
  std::string key;
  std::string value;
  std::string alias;
  // As the request gave them (the registry may resolve the stored source and run).
  std::string source;
  std::string run_id;
  std::string description;
  std::vector<metadata::Tag> tags;
};

// Told about each registry change once it is stored, on the thread of the call that made it
// (see RegistryService::SetObserver). Must return quickly and never block: queue, do not deliver.
class RegistryObserver {
 public:
  virtual ~RegistryObserver() = default;
  virtual void OnRegistryEvent(const RequestScope& scope, const RegistryEvent& event) = 0;
};

}  // namespace cairn::registry
