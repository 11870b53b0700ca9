#pragma once

#include <memory>

#include "metadata/deployment_store.h"
#include "sql/sql.h"

namespace cairn::metadata {

// DeploymentStore on the SQLite metadata database (see sqlite_metadata_backend.h), on the
// schema of migration 5. Thread-safe; concurrency is the Database's.
class SqlDeploymentStore final : public DeploymentStore {
 public:
  explicit SqlDeploymentStore(std::shared_ptr<sql::Database> db) : db_(std::move(db)) {}

  Status CreateDeployment(std::string_view tenant, const DeploymentRecord& record) override;
  StatusOr<DeploymentRecord> GetDeployment(std::string_view tenant,
                                           std::string_view id_or_name) override;
  StatusOr<std::vector<DeploymentRecord>> ListDeployments(std::string_view tenant) override;
  StatusOr<std::vector<std::pair<std::string, DeploymentRecord>>> ListAllDeployments() override;
  Status UpdateDeployment(std::string_view tenant, const DeploymentRecord& record) override;
  Status UpdateDeploymentState(std::string_view tenant, const DeploymentRecord& record) override;
  Status DeleteDeployment(std::string_view tenant, std::string_view id) override;
  StatusOr<std::vector<std::string>> DeploymentsOfVersion(std::string_view tenant,
                                                          std::string_view model_name,
                                                          std::string_view version) override;

 private:
  const std::shared_ptr<sql::Database> db_;
};

}  // namespace cairn::metadata
