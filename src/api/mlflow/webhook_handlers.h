#pragma once

#include <boost/json.hpp>
#include <string_view>

#include "base/clock.h"
#include "http/router.h"
#include "metadata/webhook_store.h"
#include "registry/webhook_dispatcher.h"

namespace cairn::api::mlflow {

// MLflow's proto3-JSON Webhook: never the secret; an empty description is omitted.
boost::json::object WebhookToJson(const metadata::WebhookRecord& webhook);

// MLflow's registry webhook endpoints (WebhookService in webhooks.proto), under /api/2.0/mlflow
// and /ajax-api/2.0/mlflow:
//   POST   webhooks                  create
//   GET    webhooks                  list (max_results 1..1000, default 100; page_token)
//   GET    webhooks/{webhook_id}     get
//   PATCH  webhooks/{webhook_id}     update (only the fields given)
//   DELETE webhooks/{webhook_id}     delete
//   POST   webhooks/{webhook_id}/test   send the example payload of an event now
// with MLflow's validation and error wording (names, URLs through the dispatcher's SSRF check,
// events). Every route needs Permission::kAdmin in the tenant, as MLflow's auth plugin requires
// an admin for each: a webhook sends the tenant's registry changes to any URL it names.
// Thread-safe; borrows the store, the dispatcher and the clock, which must outlive the routes.
class WebhookHandlers {
 public:
  WebhookHandlers(metadata::WebhookStore& store, registry::WebhookDispatcher& dispatcher,
                  const Clock& clock);

  // Adds every route to `router`. The router keeps handlers that point at this object.
  void Register(http::Router& router);

 private:
  using JsonResult = StatusOr<boost::json::object>;
  using Method = JsonResult (WebhookHandlers::*)(const http::Request&, const boost::json::object&);

  void Add(http::Router& router, http::Method method, std::string_view path, Method fn);

  JsonResult Create(const http::Request& req, const boost::json::object& msg);
  JsonResult List(const http::Request& req, const boost::json::object& msg);
  JsonResult Get(const http::Request& req, const boost::json::object& msg);
  JsonResult Update(const http::Request& req, const boost::json::object& msg);
  JsonResult Delete(const http::Request& req, const boost::json::object& msg);
  JsonResult Test(const http::Request& req, const boost::json::object& msg);

  metadata::WebhookStore& store_;
  registry::WebhookDispatcher& dispatcher_;
  const Clock& clock_;
};

}  // namespace cairn::api::mlflow
