#include "metadata/sql/sql_trace_link_store.h"

#include <string>
#include <utility>

namespace cairn::metadata {

using sql::Connection;
using sql::JsonArray;
using sql::Statement;

Status SqlTraceLinkStore::LinkTracesToRun(std::string_view tenant,
                                          const std::vector<std::string>& trace_ids,
                                          std::string_view run_id, int64_t now_ms) {
  if (trace_ids.empty()) return Status::Ok();
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(
        Statement s,
        db.Prepare("INSERT INTO trace_run_links (tenant_id, trace_id, run_id, created_at) SELECT "
                   "tenant_id, trace_id, ?, ? FROM traces WHERE tenant_id = ? AND trace_id IN "
                   "(SELECT value FROM " +
                   sql::JsonTexts(db.dialect()) + ") ON CONFLICT DO NOTHING"));
    return s.Bind(run_id, now_ms, tenant, JsonArray(trace_ids)).Run();
  });
}

Status SqlTraceLinkStore::LinkPromptsToTrace(std::string_view tenant, std::string_view trace_id,
                                             const std::vector<PromptVersionRef>& prompts,
                                             int64_t now_ms) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement trace,
                     db.Prepare("SELECT 1 FROM traces WHERE tenant_id = ? AND trace_id = ?"));
    ASSIGN_OR_RETURN(bool exists, trace.Bind(tenant, trace_id).Step());
    if (!exists) return NotFound("Trace with ID '" + std::string(trace_id) + "' not found.");
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("INSERT INTO trace_prompt_links (tenant_id, trace_id, "
                                "prompt_name, prompt_version, created_at) VALUES (?, ?, ?, ?, ?) "
                                "ON CONFLICT DO NOTHING"));
    for (const PromptVersionRef& p : prompts) {
      RETURN_IF_ERROR(s.Bind(tenant, trace_id, p.name, p.version, now_ms).Run());
      s.Reset();
    }
    return Status::Ok();
  });
}

StatusOr<std::vector<std::string>> SqlTraceLinkStore::ListLinkedRuns(std::string_view tenant,
                                                                     std::string_view trace_id) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<std::string>> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT run_id FROM trace_run_links WHERE tenant_id "
                                             "= ? AND trace_id = ? ORDER BY run_id"));
    s.Bind(tenant, trace_id);
    std::vector<std::string> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(s.Text(0));
    }
    return out;
  });
}

StatusOr<std::vector<PromptVersionRef>> SqlTraceLinkStore::ListLinkedPrompts(
    std::string_view tenant, std::string_view trace_id) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<PromptVersionRef>> {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("SELECT prompt_name, prompt_version FROM trace_prompt_links WHERE "
                                "tenant_id = ? AND trace_id = ? ORDER BY prompt_name, "
                                "prompt_version"));
    s.Bind(tenant, trace_id);
    std::vector<PromptVersionRef> out;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back({s.Text(0), s.Text(1)});
    }
    return out;
  });
}

}  // namespace cairn::metadata
