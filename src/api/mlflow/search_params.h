#pragma once

#include <boost/json.hpp>
#include <vector>

#include "api/mlflow/codec.h"
#include "api/mlflow/request_message.h"
#include "base/status.h"
#include "filter/filter.h"
#include "metadata/types.h"

// Request and response pieces every MLflow search endpoint shares.
namespace cairn::api::mlflow {

// The repeated `order_by` field, each entry parsed with the grammar of `kind`.
inline StatusOr<std::vector<filter::OrderBy>> ParseOrderByList(const boost::json::object& msg,
                                                               filter::SearchKind kind) {
  ASSIGN_OR_RETURN(std::vector<std::string> raw, StringsFromJson(msg, "order_by"));
  std::vector<filter::OrderBy> out;
  out.reserve(raw.size());
  for (const auto& s : raw) {
    ASSIGN_OR_RETURN(filter::OrderBy ob, filter::ParseOrderBy(s, kind));
    out.push_back(std::move(ob));
  }
  return out;
}

// Adds `next_page_token` only when another page exists, as MLflow does.
template <typename T>
void AddNextPageToken(boost::json::object& out, const metadata::ResultPage<T>& page,
                      const metadata::Page& request) {
  if (page.has_more) {
    out["next_page_token"] = EncodePageToken(request.offset + request.max_results);
  }
}

}  // namespace cairn::api::mlflow
