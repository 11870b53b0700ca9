#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "http/message.h"
#include "metadata/registry_types.h"
#include "metadata/types.h"
#include "registry/registry_service.h"

// JSON shapes of Cairn's own API (/api/v1), as openapi.json documents them. Unlike MLflow's
// proto3 JSON, required fields are always present (empty strings and objects included), versions
// are integers, and tags, params and metrics are objects keyed by name. Optional parts are
// omitted when absent (lineage's run and logged_model, a promotion's previous_version); a run's
// end_time is null while it runs.
namespace cairn::api::v1 {

boost::json::object TagsToObject(const std::vector<metadata::Tag>& tags);
boost::json::object ModelVersionToJson(const metadata::ModelVersion& version);
// previous_version is present only when the target had a holder before.
boost::json::object PromotionToJson(const metadata::PromotionRecord& promotion);
// {model_version, run?, logged_model?, deployments: []}; `run` carries its experiment, params,
// latest metrics, tags and input datasets.
boost::json::object LineageToJson(const registry::Lineage& lineage);

// Tags given as an object of strings ({"k": "v"}) or as a list of {key, value} objects. Absent
// or null gives no tags; anything else is INVALID_ARGUMENT naming `field`.
StatusOr<std::vector<metadata::Tag>> TagsFromJson(const boost::json::object& msg,
                                                  std::string_view field);

// The JSON object body of a request. The body must be declared as application/json (a bare
// form post cannot reach a handler); an empty body reads as {}.
StatusOr<boost::json::object> ReadJsonBody(const http::Request& request);

// Page tokens of the version list: the version number the next page continues below. Newest-
// first paging by key rather than offset, so registering a version between two page requests
// neither repeats nor skips one.
std::string EncodeVersionPageToken(int64_t below_version);
// "" gives nullopt; anything else that is not a token this API handed out is INVALID_ARGUMENT.
StatusOr<std::optional<int64_t>> DecodeVersionPageToken(std::string_view token);

}  // namespace cairn::api::v1
