#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cairn::metadata {

// A deployment as stored: what was asked (the spec, as the JSON object the API accepted) and
// where it stands. The serving layer owns the meaning of `spec_json` and `state`.
struct DeploymentRecord {
  std::string id;    // "d-<32 hex>", unique across tenants
  std::string name;  // endpoint name, unique per tenant
  std::string model_name;
  std::string model_version;  // resolved version ("" until resolved)
  std::string spec_json;
  std::string state;  // PENDING, LOADING, READY, FAILED
  std::string reason;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// Stored deployments, per tenant. The contract shared by every domain store is in
// metadata_stores.h (tenant scoping, errors, atomic durable writes, thread safety).
class DeploymentStore {
 public:
  virtual ~DeploymentStore() = default;

  // ALREADY_EXISTS when the tenant has a deployment of that name.
  virtual Status CreateDeployment(std::string_view tenant, const DeploymentRecord& record) = 0;
  // By id or by name. NOT_FOUND when neither matches.
  virtual StatusOr<DeploymentRecord> GetDeployment(std::string_view tenant,
                                                   std::string_view id_or_name) = 0;
  // The tenant's deployments, oldest first.
  virtual StatusOr<std::vector<DeploymentRecord>> ListDeployments(std::string_view tenant) = 0;
  // Every tenant's deployments as (tenant, record), oldest first: what a starting server
  // restores.
  virtual StatusOr<std::vector<std::pair<std::string, DeploymentRecord>>> ListAllDeployments() = 0;
  // Replaces the stored record of `record.id` (name and created_at are kept). NOT_FOUND when
  // missing.
  virtual Status UpdateDeployment(std::string_view tenant, const DeploymentRecord& record) = 0;
  // Stores record.state, reason and updated_at_ms, in one step, only while the stored
  // model_version and spec are record's: a load's state report never undoes a spec that a
  // Scale or Update (of this server or another) stored meanwhile. FAILED_PRECONDITION when
  // they differ (nothing written); NOT_FOUND when missing.
  virtual Status UpdateDeploymentState(std::string_view tenant, const DeploymentRecord& record) = 0;
  // Removes a deployment by id; NOT_FOUND when missing.
  virtual Status DeleteDeployment(std::string_view tenant, std::string_view id) = 0;
  // Names of the tenant's deployments that serve this model version (for the registry, which
  // refuses to delete a version still deployed).
  virtual StatusOr<std::vector<std::string>> DeploymentsOfVersion(std::string_view tenant,
                                                                  std::string_view model_name,
                                                                  std::string_view version) = 0;
};

// Forwards every call; tests override one method to inject faults.
class DeploymentStoreWrapper : public DeploymentStore {
 public:
  explicit DeploymentStoreWrapper(DeploymentStore& target) : target_(target) {}
  Status CreateDeployment(std::string_view t, const DeploymentRecord& r) override {
    return target_.CreateDeployment(t, r);
  }
  StatusOr<DeploymentRecord> GetDeployment(std::string_view t, std::string_view id) override {
    return target_.GetDeployment(t, id);
  }
  StatusOr<std::vector<DeploymentRecord>> ListDeployments(std::string_view t) override {
    return target_.ListDeployments(t);
  }
  StatusOr<std::vector<std::pair<std::string, DeploymentRecord>>> ListAllDeployments() override {
    return target_.ListAllDeployments();
  }
  Status UpdateDeployment(std::string_view t, const DeploymentRecord& r) override {
    return target_.UpdateDeployment(t, r);
  }
  Status UpdateDeploymentState(std::string_view t, const DeploymentRecord& r) override {
    return target_.UpdateDeploymentState(t, r);
  }
  Status DeleteDeployment(std::string_view t, std::string_view id) override {
    return target_.DeleteDeployment(t, id);
  }
  StatusOr<std::vector<std::string>> DeploymentsOfVersion(std::string_view t, std::string_view name,
                                                          std::string_view version) override {
    return target_.DeploymentsOfVersion(t, name, version);
  }

 private:
  DeploymentStore& target_;
};

}  // namespace cairn::metadata
