#pragma once

#include <memory>

#include "http/router.h"

namespace cairn::graphql {
class Schema;
}

namespace cairn::api::mlflow {

// POST /graphql (and GET with `query`, `variables`, `operationName` parameters): MLflow's GraphQL
// schema (mlflow/server/graphql), which the web UI uses for run pages, run tables, experiment
// headers and metric charts. Queries: mlflowGetExperiment, mlflowGetRun, mlflowSearchRuns,
// mlflowGetMetricHistoryBulkInterval, mlflowListArtifacts, mlflowSearchModelVersions, test;
// mutations: mlflowSearchRuns, mlflowSearchDatasets, testMutation; a run's `experiment` and
// `modelVersions`. Every resolver calls the REST route of the same name in-process
// (CallReadRoute), so GraphQL answers what REST answers, under the caller's tenant and grants.
//
// The answer is always 200 {"data": ..., "errors": null | [{"message", "locations", "path"}]}
// for a parsed request, as the reference server answers (its errors are bare strings; ours carry
// GraphQL's locations and paths too). A body that is not a JSON object with a string `query` is
// 400 INVALID_PARAMETER_VALUE. Limits: 1 MiB body, MLflow's depth (10), selections (1000), root
// field (10) and alias (10) limits.
class GraphqlHandlers {
 public:
  // `router` is where the REST routes are (and where Register adds /graphql); it must outlive
  // this object, and this object the router's use.
  explicit GraphqlHandlers(const http::Router& router);
  ~GraphqlHandlers();

  void Register(http::Router& router);

 private:
  http::Response Handle(http::Request& request);

  const http::Router& router_;
  std::unique_ptr<graphql::Schema> schema_;
};

}  // namespace cairn::api::mlflow
