#pragma once

#include <boost/json.hpp>
#include <string_view>

#include "base/clock.h"
#include "base/ids.h"
#include "http/router.h"
#include "metadata/assessment_store.h"
#include "metadata/trace_link_store.h"

namespace cairn::api::mlflow {

// MLflow 3's assessment endpoints and the trace links, each also under /ajax-api:
//   POST   /api/3.0/mlflow/traces/{trace_id}/assessments                   CreateAssessment
//   GET    /api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}   GetAssessment
//   PATCH  /api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}   UpdateAssessment
//   DELETE /api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}   DeleteAssessment
//   POST   /api/2.0/mlflow/traces/link-to-run     LinkTracesToRun (at most 100 traces)
//   POST   /api/2.0/mlflow/traces/link-prompts    LinkPromptsToTrace
// GET needs read permission in the tenant, the rest write, as the neighbouring trace routes.
// Thread-safe; borrows the stores, the clock and the id generator, which must outlive the routes.
class AssessmentHandlers {
 public:
  AssessmentHandlers(metadata::AssessmentStore& assessments, metadata::TraceLinkStore& links,
                     const Clock& clock, IdGenerator& ids);

  // Adds every route to `router`. The router keeps handlers that point at this object.
  void Register(http::Router& router);

  static constexpr size_t kMaxTraceLinksPerRequest = 100;  // MLflow's limit for link-to-run
  static constexpr size_t kMaxPromptLinksPerRequest = 1000;

 private:
  using JsonResult = StatusOr<boost::json::object>;
  using Method = JsonResult (AssessmentHandlers::*)(const http::Request&,
                                                    const boost::json::object&);

  void Add(http::Router& router, http::Method method, std::string_view version,
           std::string_view path, Method fn);

  JsonResult Create(const http::Request& req, const boost::json::object& msg);
  JsonResult Get(const http::Request& req, const boost::json::object& msg);
  JsonResult Update(const http::Request& req, const boost::json::object& msg);
  JsonResult Delete(const http::Request& req, const boost::json::object& msg);
  JsonResult LinkTracesToRun(const http::Request& req, const boost::json::object& msg);
  JsonResult LinkPromptsToTrace(const http::Request& req, const boost::json::object& msg);

  metadata::AssessmentStore& assessments_;
  metadata::TraceLinkStore& links_;
  const Clock& clock_;
  IdGenerator& ids_;
};

}  // namespace cairn::api::mlflow
