#pragma once

#include <boost/json.hpp>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "artifact/artifact_store.h"
#include "http/router.h"
#include "tracking/tracking_service.h"

namespace cairn::api::mlflow {

// Lists a tenant's artifact directory given a root-relative path (see ArtifactHandlers).
using ArtifactLister = std::function<StatusOr<std::vector<artifact::FileInfo>>(
    std::string_view tenant, std::string_view relative_path)>;
// Maps an artifact URI the server handed out ("mlflow-artifacts:/0/<run>/artifacts") to the
// store-relative path.
using ArtifactUriResolver = std::function<StatusOr<std::string>(std::string_view artifact_uri)>;

// MLflow tracking REST endpoints (experiments, runs, metrics, logged models) under
// /api/2.0/mlflow and /ajax-api/2.0/mlflow. Handlers translate JSON to service calls and back;
// all rules live in TrackingService and the store.
class TrackingHandlers {
 public:
  TrackingHandlers(tracking::TrackingService& service, ArtifactLister lister,
                   ArtifactUriResolver resolver);

  void Register(http::Router& router);

 private:
  using JsonResult = StatusOr<boost::json::object>;
  using Method = JsonResult (TrackingHandlers::*)(const http::Request&, const boost::json::object&);
  // Parses a request into the batch it writes; the write itself is asynchronous.
  using BatchParser = StatusOr<metadata::RunBatch> (*)(const boost::json::object&);

  // Registers `fn` under both API prefixes; `repeated` names query fields that may repeat.
  void Add(http::Router& router, http::Method method, std::string_view path, Method fn,
           std::initializer_list<std::string_view> repeated = {},
           uint64_t max_body_bytes = 1 << 20);
  // A route that writes one run batch: parsed on the I/O thread, then answered from the
  // store's commit without holding any thread while the write waits.
  void AddBatchWrite(http::Router& router, std::string_view path, BatchParser parse,
                     uint64_t max_body_bytes = 1 << 20);

  JsonResult CreateExperiment(const http::Request& req, const boost::json::object& msg);
  JsonResult GetExperiment(const http::Request& req, const boost::json::object& msg);
  JsonResult GetExperimentByName(const http::Request& req, const boost::json::object& msg);
  JsonResult SearchExperiments(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteExperiment(const http::Request& req, const boost::json::object& msg);
  JsonResult RestoreExperiment(const http::Request& req, const boost::json::object& msg);
  JsonResult UpdateExperiment(const http::Request& req, const boost::json::object& msg);
  JsonResult SetExperimentTag(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteExperimentTag(const http::Request& req, const boost::json::object& msg);

  JsonResult CreateRun(const http::Request& req, const boost::json::object& msg);
  JsonResult GetRun(const http::Request& req, const boost::json::object& msg);
  JsonResult UpdateRun(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteRun(const http::Request& req, const boost::json::object& msg);
  JsonResult RestoreRun(const http::Request& req, const boost::json::object& msg);
  JsonResult SearchRuns(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteTag(const http::Request& req, const boost::json::object& msg);
  JsonResult LogModel(const http::Request& req, const boost::json::object& msg);
  JsonResult LogInputs(const http::Request& req, const boost::json::object& msg);
  JsonResult LogOutputs(const http::Request& req, const boost::json::object& msg);
  JsonResult GetMetricHistory(const http::Request& req, const boost::json::object& msg);
  JsonResult GetMetricHistoryBulkInterval(const http::Request& req, const boost::json::object& msg);
  JsonResult GetMetricHistoryBulk(const http::Request& req, const boost::json::object& msg);
  JsonResult ListArtifacts(const http::Request& req, const boost::json::object& msg);

  JsonResult CreateLoggedModel(const http::Request& req, const boost::json::object& msg);
  JsonResult GetLoggedModel(const http::Request& req, const boost::json::object& msg);
  JsonResult FinalizeLoggedModel(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteLoggedModel(const http::Request& req, const boost::json::object& msg);
  JsonResult SearchLoggedModels(const http::Request& req, const boost::json::object& msg);
  JsonResult SetLoggedModelTags(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteLoggedModelTag(const http::Request& req, const boost::json::object& msg);
  JsonResult LogLoggedModelParams(const http::Request& req, const boost::json::object& msg);
  JsonResult ListLoggedModelArtifacts(const http::Request& req, const boost::json::object& msg);

  // Lists `<artifact_uri>/<path>` as {root_uri, files[{path, is_dir, file_size}]}, paths
  // relative to the artifact root.
  JsonResult ListUnder(const http::Request& req, const std::string& artifact_uri,
                       std::string_view path);

  tracking::TrackingService& service_;
  ArtifactLister lister_;
  ArtifactUriResolver resolver_;
};

}  // namespace cairn::api::mlflow
