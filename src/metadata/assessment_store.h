#pragma once

#include <string_view>
#include <vector>

#include "base/status.h"
#include "metadata/assessment_types.h"

namespace cairn::metadata {

// Assessments of traces (MLflow's CreateAssessment, GetAssessment, UpdateAssessment,
// DeleteAssessment), per tenant. The contract shared by every domain store is in
// metadata_stores.h (tenant scoping, errors, atomic durable writes, thread safety). Assessments
// belong to their trace: deleting the trace deletes them. Values, errors and metadata are stored
// as given (the service validates them). NOT_FOUND messages use MLflow's words.
class AssessmentStore {
 public:
  virtual ~AssessmentStore() = default;

  // Stores `assessment` (its id, times and source already set) with valid = true and returns it
  // as stored. NOT_FOUND "Trace with ID 'T' not found." for a missing trace. When it overrides
  // another assessment, that one (of the same trace; NOT_FOUND "Assessment with ID 'O' not found
  // for trace 'T'" otherwise) becomes invalid. ALREADY_EXISTS when the id is taken.
  virtual StatusOr<Assessment> CreateAssessment(std::string_view tenant,
                                                const Assessment& assessment) = 0;
  // NOT_FOUND "Trace with request_id 'T' not found" when the trace is missing, and "Assessment
  // with ID 'A' not found for trace 'T'" when the assessment is.
  virtual StatusOr<Assessment> GetAssessment(std::string_view tenant, std::string_view trace_id,
                                             std::string_view assessment_id) = 0;
  // Applies `update` and returns the result; NOT_FOUND as GetAssessment. INVALID_ARGUMENT
  // "Cannot update expectation value on a Feedback assessment." (or the converse) when the
  // update's value kind differs from the stored one.
  virtual StatusOr<Assessment> UpdateAssessment(std::string_view tenant, std::string_view trace_id,
                                                std::string_view assessment_id,
                                                const AssessmentUpdate& update) = 0;
  // Deletes the assessment; deleting one that does not exist is OK (as in MLflow). When it
  // overrode another, that one becomes valid again.
  virtual Status DeleteAssessment(std::string_view tenant, std::string_view trace_id,
                                  std::string_view assessment_id) = 0;
  // The assessments of the given traces (ids unknown to the tenant contribute nothing), grouped
  // by trace in the order of `trace_ids`, each trace's oldest first (then by id).
  virtual StatusOr<std::vector<Assessment>> ListAssessments(
      std::string_view tenant, const std::vector<std::string>& trace_ids) = 0;
  // The valid assessments of kind `kind` named `name` on the traces of the given experiments
  // (unknown ids match nothing), by trace id then creation time: what a trace search's
  // feedback.<name> / expectation.<name> clause tests.
  virtual StatusOr<std::vector<Assessment>> FindValidAssessments(
      std::string_view tenant, const std::vector<std::string>& experiment_ids, AssessmentKind kind,
      std::string_view name) = 0;
  // Deletes the assessments the run logged (run_id, from the metadata
  // mlflow.assessment.sourceRunId), as MLflow does when the run is deleted.
  virtual Status DeleteRunAssessments(std::string_view tenant, std::string_view run_id) = 0;
  // The same for every run of the experiment, as MLflow does when the experiment is deleted.
  virtual Status DeleteExperimentRunAssessments(std::string_view tenant,
                                                std::string_view experiment_id) = 0;
};

// Forwards every call; tests override one method to inject faults.
class AssessmentStoreWrapper : public AssessmentStore {
 public:
  explicit AssessmentStoreWrapper(AssessmentStore& target) : target_(target) {}
  StatusOr<Assessment> CreateAssessment(std::string_view t, const Assessment& a) override {
    return target_.CreateAssessment(t, a);
  }
  StatusOr<Assessment> GetAssessment(std::string_view t, std::string_view trace_id,
                                     std::string_view id) override {
    return target_.GetAssessment(t, trace_id, id);
  }
  StatusOr<Assessment> UpdateAssessment(std::string_view t, std::string_view trace_id,
                                        std::string_view id, const AssessmentUpdate& u) override {
    return target_.UpdateAssessment(t, trace_id, id, u);
  }
  Status DeleteAssessment(std::string_view t, std::string_view trace_id,
                          std::string_view id) override {
    return target_.DeleteAssessment(t, trace_id, id);
  }
  StatusOr<std::vector<Assessment>> ListAssessments(
      std::string_view t, const std::vector<std::string>& trace_ids) override {
    return target_.ListAssessments(t, trace_ids);
  }
  StatusOr<std::vector<Assessment>> FindValidAssessments(
      std::string_view t, const std::vector<std::string>& experiment_ids, AssessmentKind kind,
      std::string_view name) override {
    return target_.FindValidAssessments(t, experiment_ids, kind, name);
  }
  Status DeleteRunAssessments(std::string_view t, std::string_view run_id) override {
    return target_.DeleteRunAssessments(t, run_id);
  }
  Status DeleteExperimentRunAssessments(std::string_view t, std::string_view id) override {
    return target_.DeleteExperimentRunAssessments(t, id);
  }

 private:
  AssessmentStore& target_;
};

}  // namespace cairn::metadata
