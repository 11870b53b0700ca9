#pragma once

#include <string_view>

#include "http/router.h"

namespace cairn::api::mlflow {

// The MLflow version this server speaks; reported by /version. Clients parse it with PEP 440
// and gate features on it (e.g. OTLP span export from 3.4).
inline constexpr std::string_view kMlflowCompatibleVersion = "3.11.1";

// /health, /version and the 3.x server-info probe. (OTLP span export, /v1/traces, is a trace
// endpoint: trace_handlers.h.)
void RegisterMiscRoutes(http::Router& router);

}  // namespace cairn::api::mlflow
