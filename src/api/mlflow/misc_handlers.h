#pragma once

#include <string_view>

#include "http/router.h"

namespace cairn::api::mlflow {

// The MLflow version this server speaks; reported by /version. Clients parse it with PEP 440
// and gate features on it (e.g. OTLP span export from 3.4).
inline constexpr std::string_view kMlflowCompatibleVersion = "3.11.1";

// /health, /version, the 3.x server-info probe, and the tracing endpoints a current client
// calls: OTLP span export (/v1/traces) is declined with 501 and the message MLflow's client
// recognises, so the client stops trying and keeps spans in its trace artifact instead.
void RegisterMiscRoutes(http::Router& router);

}  // namespace cairn::api::mlflow
