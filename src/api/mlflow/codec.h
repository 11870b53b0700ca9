#pragma once

#include <boost/json.hpp>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "metadata/names.h"
#include "metadata/types.h"

// MLflow's proto3-JSON shapes for tracking entities: snake_case names, int64 as numbers, enums
// as names, NaN/Infinity as strings, unset and empty fields omitted.
namespace cairn::api::mlflow {

using metadata::LifecycleName;
using metadata::LoggedModelStatusName;
using metadata::RunStatusName;

StatusOr<metadata::RunStatus> ParseRunStatus(const boost::json::value& v);
StatusOr<metadata::ViewType> ParseViewType(const boost::json::value& v, std::string_view field);
StatusOr<metadata::LoggedModelStatus> ParseLoggedModelStatus(const boost::json::value& v);

// Sets obj[key] to the JSON of each item, only when there are items (MLflow omits empty
// repeated fields).
template <typename T, typename ToJson>
void PutList(boost::json::object& obj, std::string_view key, const std::vector<T>& items,
             ToJson to_json) {
  if (items.empty()) return;
  boost::json::array arr;
  arr.reserve(items.size());
  for (const auto& item : items) arr.push_back(to_json(item));
  obj[key] = std::move(arr);
}

// Sets obj[key] only for a non-empty value (MLflow omits unset fields).
void PutIfNotEmpty(boost::json::object& obj, std::string_view key, const std::string& value);
boost::json::array TagsToJson(const std::vector<metadata::Tag>& tags);
boost::json::object ExperimentToJson(const metadata::Experiment& e);
boost::json::object RunInfoToJson(const metadata::RunInfo& info);
boost::json::object MetricToJson(const metadata::Metric& m);
boost::json::object RunToJson(const metadata::Run& run);
boost::json::object LoggedModelToJson(const metadata::LoggedModel& m);

// Readers for request fields; `field` names the array for messages. Absent arrays are empty.
StatusOr<std::vector<metadata::Tag>> TagsFromJson(const boost::json::object& msg,
                                                  std::string_view field);
StatusOr<std::vector<metadata::Param>> ParamsFromJson(const boost::json::object& msg,
                                                      std::string_view field);
StatusOr<metadata::Metric> MetricFromJson(const boost::json::object& obj);
StatusOr<std::vector<metadata::Metric>> MetricsFromJson(const boost::json::object& msg,
                                                        std::string_view field);
StatusOr<std::vector<std::string>> StringsFromJson(const boost::json::object& msg,
                                                   std::string_view field);

// A required string field; INVALID_ARGUMENT "Missing value for required parameter 'x'".
StatusOr<std::string> RequiredString(const boost::json::object& msg, std::string_view field);
// An optional field, or `fallback` ("" for strings) when it is absent or null.
StatusOr<std::string> OptionalString(const boost::json::object& msg, std::string_view field);
StatusOr<int64_t> OptionalInt(const boost::json::object& msg, std::string_view field,
                              int64_t fallback);
// run_id, falling back to its alias run_uuid.
StatusOr<std::string> RequiredRunId(const boost::json::object& msg);

}  // namespace cairn::api::mlflow
