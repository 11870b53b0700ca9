#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "http/router.h"
#include "metadata/registry_types.h"
#include "registry/registry_service.h"

namespace cairn::api::mlflow {

// MLflow's proto3-JSON shapes for registry entities. `version` is a string; current_stage and
// status are always sent; other empty strings and lists are omitted.
boost::json::object ModelVersionToJson(const metadata::ModelVersion& v);
boost::json::object RegisteredModelToJson(const metadata::RegisteredModel& m);

// MLflow model registry REST endpoints (registered models, model versions, tags, aliases,
// stages) under /api/2.0/mlflow and /ajax-api/2.0/mlflow. Handlers translate JSON to
// RegistryService calls and back; all rules live in the service and the store. DELETE and PATCH
// requests carry JSON bodies, as MLflow's client sends them. Thread-safe; borrows the service,
// which must outlive the routes.
class RegistryHandlers {
 public:
  explicit RegistryHandlers(registry::RegistryService& service);

  // Adds every route to `router`. The router keeps handlers that point at this object.
  void Register(http::Router& router);

 private:
  using JsonResult = StatusOr<boost::json::object>;
  using Method = JsonResult (RegistryHandlers::*)(const http::Request&, const boost::json::object&);

  // Registers `fn` under both API prefixes; `repeated` names query fields that may repeat.
  void Add(http::Router& router, http::Method method, std::string_view path, Method fn,
           std::initializer_list<std::string_view> repeated = {});

  JsonResult CreateRegisteredModel(const http::Request& req, const boost::json::object& msg);
  JsonResult GetRegisteredModel(const http::Request& req, const boost::json::object& msg);
  JsonResult RenameRegisteredModel(const http::Request& req, const boost::json::object& msg);
  JsonResult UpdateRegisteredModel(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteRegisteredModel(const http::Request& req, const boost::json::object& msg);
  JsonResult SearchRegisteredModels(const http::Request& req, const boost::json::object& msg);
  JsonResult GetLatestVersions(const http::Request& req, const boost::json::object& msg);
  JsonResult SetRegisteredModelTag(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteRegisteredModelTag(const http::Request& req, const boost::json::object& msg);
  JsonResult SetRegisteredModelAlias(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteRegisteredModelAlias(const http::Request& req, const boost::json::object& msg);
  JsonResult GetModelVersionByAlias(const http::Request& req, const boost::json::object& msg);

  JsonResult CreateModelVersion(const http::Request& req, const boost::json::object& msg);
  JsonResult GetModelVersion(const http::Request& req, const boost::json::object& msg);
  JsonResult UpdateModelVersion(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteModelVersion(const http::Request& req, const boost::json::object& msg);
  JsonResult SearchModelVersions(const http::Request& req, const boost::json::object& msg);
  JsonResult TransitionModelVersionStage(const http::Request& req, const boost::json::object& msg);
  JsonResult GetModelVersionDownloadUri(const http::Request& req, const boost::json::object& msg);
  JsonResult SetModelVersionTag(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteModelVersionTag(const http::Request& req, const boost::json::object& msg);

  registry::RegistryService& service_;
};

}  // namespace cairn::api::mlflow
