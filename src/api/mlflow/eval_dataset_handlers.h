#pragma once

#include <boost/json.hpp>
#include <initializer_list>
#include <string_view>

#include "base/clock.h"
#include "base/ids.h"
#include "http/router.h"
#include "metadata/eval_dataset_store.h"
#include "tracking/tracking_service.h"

namespace cairn::api::mlflow {

// MLflow 3's evaluation dataset endpoints (the dataset RPCs of MlflowService), under
// /api/3.0/mlflow and /ajax-api/3.0/mlflow:
//   POST   datasets/create                       create (name, tags JSON, experiment_ids)
//   GET    datasets/{dataset_id}                 get
//   DELETE datasets/{dataset_id}                 delete (a missing dataset is not an error)
//   GET|POST datasets/search                     search (experiment_ids, filter_string,
//                                                order_by, max_results 1..50000, page_token)
//   PATCH  datasets/{dataset_id}/tags            set tags (a JSON object; null values skipped)
//   DELETE datasets/{dataset_id}/tags/{key}      delete a tag
//   POST   datasets/{dataset_id}/records         upsert records (a JSON array), merged by inputs
//   GET    datasets/{dataset_id}/records         records page (max_results, cursor page_token)
//   DELETE datasets/{dataset_id}/records         delete records by id
//   GET    datasets/{dataset_id}/experiment-ids  linked experiments
//   POST   datasets/{dataset_id}/add-experiments | remove-experiments
// with MLflow's JSON shapes (tags, schema, profile and records are JSON text inside the JSON),
// merge semantics and error wording. Permissions are the tracking routes' (reads need kRead,
// writes kWrite), in the caller's tenant. Sizes are bounded: names, tag keys and values as
// MLflow's columns, at most kMaxRecordsPerUpsert records per call, request bodies of 16 MiB, and
// record pages of at most 1000 (a larger max_results is served in pages of 1000).
// Thread-safe; borrows the store, the tracking service (experiment lookups), the clock and the
// id generator, which must outlive the routes.
class EvalDatasetHandlers {
 public:
  static constexpr size_t kMaxRecordsPerUpsert = 10000;

  EvalDatasetHandlers(metadata::EvalDatasetStore& store, tracking::TrackingService& tracking,
                      const Clock& clock, IdGenerator& ids);

  // Adds every route to `router`. The router keeps handlers that point at this object.
  void Register(http::Router& router);

 private:
  using JsonResult = StatusOr<boost::json::object>;
  using Method = JsonResult (EvalDatasetHandlers::*)(const http::Request&,
                                                     const boost::json::object&);

  void Add(http::Router& router, http::Method method, std::string_view path, Method fn,
           std::initializer_list<std::string_view> repeated = {});

  JsonResult Create(const http::Request& req, const boost::json::object& msg);
  JsonResult Get(const http::Request& req, const boost::json::object& msg);
  JsonResult Delete(const http::Request& req, const boost::json::object& msg);
  JsonResult Search(const http::Request& req, const boost::json::object& msg);
  JsonResult SetTags(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteTag(const http::Request& req, const boost::json::object& msg);
  JsonResult UpsertRecords(const http::Request& req, const boost::json::object& msg);
  JsonResult GetRecords(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteRecords(const http::Request& req, const boost::json::object& msg);
  JsonResult GetExperimentIds(const http::Request& req, const boost::json::object& msg);
  JsonResult AddExperiments(const http::Request& req, const boost::json::object& msg);
  JsonResult RemoveExperiments(const http::Request& req, const boost::json::object& msg);

  metadata::EvalDatasetStore& store_;
  tracking::TrackingService& tracking_;
  const Clock& clock_;
  IdGenerator& ids_;
};

}  // namespace cairn::api::mlflow
