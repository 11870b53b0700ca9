#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "http/message.h"

namespace cairn::api::mlflow {

// Reads an MLflow request message the way MLflow's server does:
// - a GET (or HEAD) with a non-empty query string: fields come from the query; names listed in
//   `repeated` become arrays of every occurrence (experiment_ids=1&experiment_ids=2), other
//   fields take their first occurrence; values stay strings (the json readers accept "5",
//   "True"/"false" etc. for typed fields);
// - anything else: the body is a JSON object ("" is {}); POST and PUT must declare
//   Content-Type application/json.
StatusOr<boost::json::object> ReadMessage(const http::Request& request,
                                          const std::vector<std::string_view>& repeated = {});

// Opaque page tokens: base64 of {"offset": N}, as MLflow encodes them.
std::string EncodePageToken(int64_t offset);
// "" gives 0; anything malformed is INVALID_ARGUMENT "Invalid page token".
StatusOr<int64_t> DecodePageToken(std::string_view token);

std::string Base64Encode(std::string_view in);
StatusOr<std::string> Base64Decode(std::string_view in);

// The permission an MLflow REST route needs, from its method and path: GET (and HEAD) reads;
// POST searches and lookups (a last segment "search" or starting with "get", as in
// "runs/search" or "registered-models/get-latest-versions") read; every other call writes.
http::Permission MlflowRoutePermission(http::Method method, std::string_view path);

}  // namespace cairn::api::mlflow
