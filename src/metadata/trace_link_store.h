#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cairn::metadata {

// A prompt version a trace used, as MLflow's LinkPromptsToTrace names it.
struct PromptVersionRef {
  std::string name;
  std::string version;
};

// Links of traces to runs and prompt versions (MLflow's entity associations), per tenant. The
// contract shared by every domain store is in metadata_stores.h. Links belong to their trace:
// deleting the trace deletes them. A trace search by run_id (TraceStore::SearchTraces) finds the
// traces linked to the run as well as those whose metadata names it.
class TraceLinkStore {
 public:
  virtual ~TraceLinkStore() = default;

  // Links each trace to the run; ids of traces the tenant does not have are skipped and a link
  // that exists is kept (as MLflow does). The run is not looked up (MLflow does not either).
  virtual Status LinkTracesToRun(std::string_view tenant, const std::vector<std::string>& trace_ids,
                                 std::string_view run_id, int64_t now_ms) = 0;
  // Links the trace to each prompt version; NOT_FOUND "Trace with ID 'T' not found." for a
  // missing trace. Existing links are kept.
  virtual Status LinkPromptsToTrace(std::string_view tenant, std::string_view trace_id,
                                    const std::vector<PromptVersionRef>& prompts,
                                    int64_t now_ms) = 0;
  // The runs a trace is linked to, sorted; empty for an unknown trace.
  virtual StatusOr<std::vector<std::string>> ListLinkedRuns(std::string_view tenant,
                                                            std::string_view trace_id) = 0;
  // The prompt versions a trace is linked to, sorted by name then version.
  virtual StatusOr<std::vector<PromptVersionRef>> ListLinkedPrompts(std::string_view tenant,
                                                                    std::string_view trace_id) = 0;
};

}  // namespace cairn::metadata
