#include "metadata/sql/sql_deployment_store.h"

#include <string>

namespace cairn::metadata {
namespace {

using sql::Connection;
using sql::Statement;

constexpr std::string_view kColumns =
    "deployment_id, name, model_name, model_version, spec, state, reason, created_at, "
    "updated_at";

DeploymentRecord ReadRecord(const Statement& s, int first = 0) {
  DeploymentRecord r;
  r.id = s.Text(first + 0);
  r.name = s.Text(first + 1);
  r.model_name = s.Text(first + 2);
  r.model_version = s.Text(first + 3);
  r.spec_json = s.Text(first + 4);
  r.state = s.Text(first + 5);
  r.reason = s.Text(first + 6);
  r.created_at_ms = s.Int(first + 7);
  r.updated_at_ms = s.Int(first + 8);
  return r;
}

Status NoSuchDeployment(std::string_view id) {
  return NotFound("Deployment '" + std::string(id) + "' not found");
}

}  // namespace

Status SqlDeploymentStore::CreateDeployment(std::string_view tenant, const DeploymentRecord& r) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement taken,
                     db.Prepare("SELECT 1 FROM deployments WHERE tenant_id = ? AND name = ?"));
    ASSIGN_OR_RETURN(bool exists, taken.Bind(tenant, r.name).Step());
    if (exists) {
      return AlreadyExists("Deployment '" + r.name + "' already exists");
    }
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("INSERT INTO deployments (tenant_id, " + std::string(kColumns) +
                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    return s
        .Bind(tenant, r.id, r.name, r.model_name, r.model_version, r.spec_json, r.state, r.reason,
              r.created_at_ms, r.updated_at_ms)
        .Run();
  });
}

StatusOr<DeploymentRecord> SqlDeploymentStore::GetDeployment(std::string_view tenant,
                                                             std::string_view id_or_name) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<DeploymentRecord> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kColumns) +
                                             " FROM deployments WHERE tenant_id = ? AND "
                                             "(deployment_id = ? OR name = ?)"));
    ASSIGN_OR_RETURN(bool row, s.Bind(tenant, id_or_name, id_or_name).Step());
    if (!row) {
      return NoSuchDeployment(id_or_name);
    }
    return ReadRecord(s);
  });
}

StatusOr<std::vector<DeploymentRecord>> SqlDeploymentStore::ListDeployments(
    std::string_view tenant) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<DeploymentRecord>> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kColumns) +
                                             " FROM deployments WHERE tenant_id = ? ORDER BY "
                                             "created_at, deployment_id"));
    s.Bind(tenant);
    std::vector<DeploymentRecord> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadRecord(s));
    }
    return out;
  });
}

StatusOr<std::vector<std::pair<std::string, DeploymentRecord>>>
SqlDeploymentStore::ListAllDeployments() {
  using Rows = std::vector<std::pair<std::string, DeploymentRecord>>;
  return db_->ReadValue([&](Connection& db) -> StatusOr<Rows> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT tenant_id, " + std::string(kColumns) +
                                             " FROM deployments ORDER BY created_at, "
                                             "deployment_id"));
    Rows out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.emplace_back(s.Text(0), ReadRecord(s, 1));
    }
    return out;
  });
}

Status SqlDeploymentStore::UpdateDeployment(std::string_view tenant, const DeploymentRecord& r) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("UPDATE deployments SET model_name = ?, model_version = ?, "
                                "spec = ?, state = ?, reason = ?, updated_at = ? WHERE "
                                "tenant_id = ? AND deployment_id = ?"));
    RETURN_IF_ERROR(s.Bind(r.model_name, r.model_version, r.spec_json, r.state, r.reason,
                           r.updated_at_ms, tenant, r.id)
                        .Run());
    return db.Changes() == 0 ? NoSuchDeployment(r.id) : Status::Ok();
  });
}

Status SqlDeploymentStore::UpdateDeploymentState(std::string_view tenant,
                                                 const DeploymentRecord& r) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("UPDATE deployments SET state = ?, reason = ?, updated_at = ? "
                                "WHERE tenant_id = ? AND deployment_id = ? AND model_version = ? "
                                "AND spec = ?"));
    RETURN_IF_ERROR(
        s.Bind(r.state, r.reason, r.updated_at_ms, tenant, r.id, r.model_version, r.spec_json)
            .Run());
    if (db.Changes() > 0) return Status::Ok();
    ASSIGN_OR_RETURN(Statement exists, db.Prepare("SELECT 1 FROM deployments WHERE tenant_id = ? "
                                                  "AND deployment_id = ?"));
    exists.Bind(tenant, r.id);
    ASSIGN_OR_RETURN(bool row, exists.Step());
    if (!row) return NoSuchDeployment(r.id);
    return FailedPrecondition("deployment '" + r.id +
                              "' was changed meanwhile: its stored model version or spec differ");
  });
}

Status SqlDeploymentStore::DeleteDeployment(std::string_view tenant, std::string_view id) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("DELETE FROM deployments WHERE tenant_id = ? AND "
                                             "deployment_id = ?"));
    RETURN_IF_ERROR(s.Bind(tenant, id).Run());
    return db.Changes() == 0 ? NoSuchDeployment(id) : Status::Ok();
  });
}

StatusOr<std::vector<std::string>> SqlDeploymentStore::DeploymentsOfVersion(
    std::string_view tenant, std::string_view model_name, std::string_view version) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<std::string>> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT name FROM deployments WHERE tenant_id = ? AND "
                                             "model_name = ? AND model_version = ? ORDER BY name"));
    s.Bind(tenant, model_name, version);
    std::vector<std::string> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(s.Text(0));
    }
    return out;
  });
}

}  // namespace cairn::metadata
