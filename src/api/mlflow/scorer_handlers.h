#pragma once

#include <boost/json.hpp>
#include <string_view>

#include "base/clock.h"
#include "base/ids.h"
#include "http/router.h"
#include "metadata/scorer_store.h"

namespace cairn::api::mlflow {

// MLflow 3's scorer registry, under /api/3.0/mlflow/scorers (and /ajax-api):
//   POST   register         RegisterScorer: the next version of (experiment_id, name)
//   GET    list             ListScorers: the latest version of each (experiment_id,
//                           experiment_ids, or neither for every experiment)
//   GET    versions         ListScorerVersions
//   GET    get              GetScorer (version optional: the latest)
//   DELETE delete           DeleteScorer (version optional: the scorer with every version)
//   GET    online-configs   the online-scoring configs of scorer_ids
//   PUT    online-config    replaces a scorer's online-scoring config
// Serialized scorers are stored, never run: like MLflow's server, registration refuses custom
// (@scorer) code and blank names or models. Automatic (online) evaluation needs a gateway model,
// which this server does not have, so a config with sample_rate > 0 is refused as MLflow refuses
// one for a scorer without a gateway model. GETs need read permission, the rest write.
// Thread-safe; borrows the store, clock and id generator, which must outlive the routes.
class ScorerHandlers {
 public:
  ScorerHandlers(metadata::ScorerStore& store, const Clock& clock, IdGenerator& ids);

  void Register(http::Router& router);

  static constexpr size_t kMaxNameLength = 256;
  static constexpr size_t kMaxSerializedScorerBytes = 1 << 20;
  static constexpr size_t kMaxIdsPerRequest = 1000;

 private:
  using JsonResult = StatusOr<boost::json::object>;
  using Method = JsonResult (ScorerHandlers::*)(const http::Request&, const boost::json::object&);

  void Add(http::Router& router, http::Method method, std::string_view path, Method fn);

  JsonResult RegisterScorer(const http::Request& req, const boost::json::object& msg);
  JsonResult ListScorers(const http::Request& req, const boost::json::object& msg);
  JsonResult ListScorerVersions(const http::Request& req, const boost::json::object& msg);
  JsonResult GetScorer(const http::Request& req, const boost::json::object& msg);
  JsonResult DeleteScorer(const http::Request& req, const boost::json::object& msg);
  JsonResult GetOnlineConfigs(const http::Request& req, const boost::json::object& msg);
  JsonResult UpsertOnlineConfig(const http::Request& req, const boost::json::object& msg);

  metadata::ScorerStore& store_;
  const Clock& clock_;
  IdGenerator& ids_;
};

}  // namespace cairn::api::mlflow
