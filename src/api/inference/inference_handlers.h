#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/executor.h"
#include "http/router.h"
#include "serving/deployment_service.h"
#include "stream/prediction_logger.h"

namespace cairn::api::inference {

struct InferenceOptions {
  // Largest prediction request body (413 beyond).
  uint64_t max_body_bytes = uint64_t{32} << 20;
  // Request header whose value is logged as the prediction's subject id (for erasure and
  // per-subject monitoring); empty for none.
  std::string subject_header;
  // A request stays on its I/O thread (parsed and, for ONNX, run there: no hand-off) unless its
  // body is larger than this or its deployment answers slower than `inline_answer_ns` on
  // average; those go to the inference pool so they never hold an I/O thread.
  size_t inline_body_bytes = size_t{256} << 10;
  int64_t inline_answer_ns = 500'000;
  // Threads of the inference pool (0: one per core).
  int pool_threads = 0;
};

// The prediction protocols, routed by deployment name within the caller's tenant:
//   Open Inference Protocol V2 (KServe, Triton): /v2, /v2/health/{live,ready},
//     /v2/models/{name}[/versions/{v}][/ready|/infer]
//   MLflow scoring: /endpoints/{name}/invocations
// Requests are parsed on the I/O thread (simdjson), run on the deployment's least-loaded
// replica, answered from whichever thread the runtime finishes on, and logged to the
// prediction log without waiting for it. Borrows the service and the logger (null: no logging),
// which must outlive the router.
class InferenceHandlers {
 public:
  InferenceHandlers(serving::DeploymentService& service, stream::PredictionLogger* logger,
                    InferenceOptions options);

  // The multi-deployment routes above.
  void Register(http::Router& router);
  // `cairn serve`: also /invocations, /ping, /health and /version for the one deployment
  // `name`, as `mlflow models serve` answers them.
  void RegisterSingleModel(http::Router& router, std::string name);

 private:
  enum class Protocol { kV2, kInvocations };
  // Runs the request here, or hands it to the pool when it is heavy (see InferenceOptions).
  void Dispatch(http::Request& request, http::Responder responder, Protocol protocol,
                std::string name);
  // `deployment` is what Dispatch found for `name` (null: not found).
  void Infer(http::Request& request, http::Responder responder, Protocol protocol,
             const std::string& name, std::shared_ptr<serving::Deployment> deployment);

  serving::DeploymentService& service_;
  stream::PredictionLogger* const logger_;
  const InferenceOptions options_;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace cairn::api::inference
