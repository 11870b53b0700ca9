#pragma once

#include <boost/json.hpp>
#include <string_view>

#include "base/status.h"
#include "http/router.h"

namespace cairn::api::mlflow {

// Calls one of `router`'s read-only JSON routes in-process, on behalf of `outer` (same caller,
// tenant and grants), with `message` as the JSON body, and returns the parsed JSON answer. The
// web UI's aggregate endpoints (/graphql, get-artifact, search-datasets) are built from the REST
// routes this way, so they answer exactly what the REST API answers.
//
// Only buffered routes whose permission is kRead or kPublic can be called: the outer route must
// itself require kRead, so no call can do more than its caller may. Errors: the route's own
// error, with its message and a code from its HTTP status (404 NOT_FOUND, 400 INVALID_ARGUMENT,
// 403 PERMISSION_DENIED, others INTERNAL); INTERNAL when no such read route exists.
StatusOr<boost::json::object> CallReadRoute(const http::Router& router, const http::Request& outer,
                                            http::Method method, std::string_view path,
                                            const boost::json::object& message);

}  // namespace cairn::api::mlflow
