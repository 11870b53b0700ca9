#include "api/inference/inference_handlers.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

#include "api/inference/json_writer.h"
#include "api/inference/mlflow_codec.h"
#include "api/inference/v2_codec.h"
#include "http/error_response.h"

#ifndef CAIRN_VERSION_STRING
#define CAIRN_VERSION_STRING "0.1.0"
#endif

namespace cairn::api::inference {
namespace {

using cairn::inference::ParseMlflowInvocation;
using cairn::inference::ParseV2InferRequest;
using cairn::inference::V2OutputOptions;
using cairn::inference::WriteMlflowPredictions;
using cairn::inference::WriteV2Error;
using cairn::inference::WriteV2InferResponse;
using cairn::inference::WriteV2ModelMetadata;

constexpr std::string_view kHeaderLength = "Inference-Header-Content-Length";
// Request and response bodies beyond this are logged as a size, not in full.
constexpr size_t kMaxLoggedBytes = size_t{1} << 20;

http::Response V2Error(int status, std::string_view message) {
  std::string body;
  WriteV2Error(message, body);
  return http::Response::Json(status, std::move(body));
}

http::Response V2Error(const Status& status) {
  return V2Error(http::HttpStatusFor(status.code()), status.message());
}

// MLflow's scoring server answers bad input with BAD_REQUEST; the other codes keep Cairn's
// envelope.
http::Response InvocationsError(const Status& status) {
  int code = http::HttpStatusFor(status.code());
  std::string_view wire = http::WireCodeFor(status.code());
  if (status.code() == StatusCode::kInvalidArgument) wire = "BAD_REQUEST";
  if (status.code() == StatusCode::kUnimplemented) {
    code = 415;  // an unsupported content type
    wire = "BAD_REQUEST";
  }
  return http::Response::Json(code, http::ErrorBody(wire, status.message()));
}

http::Response ProtocolError(bool v2, const Status& status) {
  if (v2) {
    return status.code() == StatusCode::kUnimplemented ? V2Error(501, status.message())
                                                       : V2Error(status);
  }
  return InvocationsError(status);
}

// A body as the prediction log keeps it: JSON as sent, anything else as a JSON string; over
// the limit, its size only.
std::string LoggedBody(std::string_view body, bool is_json) {
  std::string out;
  cairn::inference::JsonWriter writer(out);
  if (body.size() > kMaxLoggedBytes) {
    writer.BeginObject();
    writer.Key("truncated");
    writer.Bool(true);
    writer.Key("bytes");
    writer.Int(static_cast<int64_t>(body.size()));
    writer.EndObject();
    return out;
  }
  if (is_json) return std::string(body);
  writer.String(body);
  return out;
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

InferenceHandlers::InferenceHandlers(serving::DeploymentService& service,
                                     stream::PredictionLogger* logger, InferenceOptions options)
    : service_(service), logger_(logger), options_(std::move(options)) {
  int threads = options_.pool_threads;
  if (threads <= 0) threads = static_cast<int>(std::max(2U, std::thread::hardware_concurrency()));
  pool_ = std::make_unique<ThreadPool>(
      ThreadPool::Options{.threads = threads, .max_queued = 4096, .name = "inference"});
}

void InferenceHandlers::Dispatch(http::Request& request, http::Responder responder,
                                 Protocol protocol, std::string name) {
  // Looked up once here; Infer works on what was found.
  std::shared_ptr<serving::Deployment> deployment = service_.Find(request.scope.tenant, name);
  const bool heavy =
      request.body.size() > options_.inline_body_bytes ||
      (deployment != nullptr &&
       deployment->answer_ewma_ns.load(std::memory_order_relaxed) > options_.inline_answer_ns);
  if (!heavy) {
    Infer(request, std::move(responder), protocol, name, std::move(deployment));
    return;
  }
  // The request is only valid during this call: the task takes it over.
  auto owned = std::make_shared<http::Request>(std::move(request));
  bool queued = pool_->TrySubmit([this, owned, responder, protocol, name, deployment] {
    Infer(*owned, responder, protocol, name, deployment);
  });
  if (!queued) {
    responder.Send(
        ProtocolError(protocol == Protocol::kV2, Unavailable("the inference pool is busy; retry")));
  }
}

void InferenceHandlers::Infer(http::Request& request, http::Responder responder, Protocol protocol,
                              const std::string& name,
                              std::shared_ptr<serving::Deployment> deployment) {
  const auto started = std::chrono::steady_clock::now();
  const bool v2 = protocol == Protocol::kV2;
  if (deployment == nullptr) {
    responder.Send(ProtocolError(v2, NotFound("Model '" + name + "' not found")));
    return;
  }
  std::shared_ptr<const serving::ServingSet> serving = deployment->Serving();
  if (serving == nullptr && service_.Find(request.scope.tenant, name) != deployment) {
    // Deleted between the two lookups: answer as for any deleted endpoint.
    responder.Send(ProtocolError(v2, NotFound("Model '" + name + "' not found")));
    return;
  }
  if (serving == nullptr) {
    responder.Send(ProtocolError(
        v2, Unavailable("Model '" + name + "' is not ready (" + deployment->Record().state + ")")));
    return;
  }
  if (std::string version = request.PathParam("version");
      !version.empty() && version != serving->model_version) {
    responder.Send(ProtocolError(
        v2, NotFound("Model '" + name + "' version " + version +
                     " is not served (serving version " + serving->model_version + ")")));
    return;
  }

  runtime::PredictRequest predict;
  std::string id;
  V2OutputOptions output_options;
  std::string_view logged_input = request.body;
  bool input_is_json = true;
  if (v2) {
    std::optional<size_t> header_length;
    if (auto header = request.headers.Get(kHeaderLength)) {
      size_t value = 0;
      auto [end, ec] = std::from_chars(header->data(), header->data() + header->size(), value);
      if (ec != std::errc() || end != header->data() + header->size()) {
        responder.Send(V2Error(400, "invalid Inference-Header-Content-Length"));
        return;
      }
      header_length = value;
      logged_input = std::string_view(request.body).substr(0, value);
    }
    StatusOr<cairn::inference::V2Request> parsed =
        ParseV2InferRequest(request.body, header_length, serving->interface);
    if (!parsed.ok()) {
      if (serving->metrics) serving->metrics->Record(400, 0);
      responder.Send(ProtocolError(true, parsed.status()));
      return;
    }
    id = std::move(parsed->id);
    output_options = std::move(parsed->output_options);
    predict = std::move(parsed->predict);
  } else {
    std::string_view content_type = request.headers.Get("Content-Type").value_or("");
    input_is_json = content_type.find("json") != std::string_view::npos;
    StatusOr<runtime::PredictRequest> parsed =
        ParseMlflowInvocation(request.body, content_type, serving->signature, serving->interface);
    if (!parsed.ok()) {
      if (serving->metrics) serving->metrics->Record(400, 0);
      responder.Send(ProtocolError(false, parsed.status()));
      return;
    }
    predict = std::move(*parsed);
  }

  // What the prediction log needs once the answer is out; copied only when logging.
  std::shared_ptr<stream::PredictionEvent> event;
  if (logger_ != nullptr && deployment->log_predictions.load(std::memory_order_relaxed)) {
    event = std::make_shared<stream::PredictionEvent>();
    event->tenant = request.scope.tenant;
    event->deployment_id = deployment->id();
    event->deployment_name = name;
    event->model_name = deployment->model_name();
    event->model_version = serving->model_version;
    event->request_id = request.scope.request_id;
    event->timestamp_ms = NowMillis();
    event->protocol = v2 ? "v2" : "invocations";
    event->inputs_json = LoggedBody(logged_input, input_is_json);
    if (!options_.subject_header.empty()) {
      if (auto subject = request.headers.Get(options_.subject_header)) {
        event->subject_id = std::string(*subject);
      }
    }
  }

  deployment->Predict(
      serving, std::move(predict),
      [this, responder, serving, deployment, event, started, v2, name, id = std::move(id),
       output_options = std::move(output_options)](StatusOr<runtime::PredictResponse> result) {
        http::Response response;
        size_t json_length = 0;
        if (result.ok()) {
          response.status = 200;
          if (v2) {
            WriteV2InferResponse(*result, name, serving->model_version, id, output_options,
                                 response.body, json_length);
            if (json_length > 0) {
              response.content_type = "application/octet-stream";
              response.headers.Set(std::string(kHeaderLength), std::to_string(json_length));
            }
          } else {
            WriteMlflowPredictions(*result, response.body);
          }
        } else {
          response = ProtocolError(v2, result.status());
        }
        const int status = response.status;
        std::string logged_output;
        if (event != nullptr) {
          logged_output =
              result.ok() ? LoggedBody(json_length > 0
                                           ? std::string_view(response.body).substr(0, json_length)
                                           : std::string_view(response.body),
                                       true)
                          : std::string();
        }
        responder.Send(std::move(response));
        const auto elapsed = std::chrono::steady_clock::now() - started;
        const double seconds = std::chrono::duration<double>(elapsed).count();
        const int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
        const int64_t previous = deployment->answer_ewma_ns.load(std::memory_order_relaxed);
        deployment->answer_ewma_ns.store(previous == 0 ? nanos : previous + (nanos - previous) / 8,
                                         std::memory_order_relaxed);
        if (serving->metrics) serving->metrics->Record(status, seconds);
        if (event != nullptr) {
          event->latency_us = static_cast<int64_t>(seconds * 1e6);
          event->status_code = status;
          event->outputs_json = std::move(logged_output);
          if (!result.ok()) event->error_message = result.status().message();
          if (deployment->backpressure.load(std::memory_order_relaxed)) {
            Status logged = logger_->LogOrWait(
                std::move(*event), std::chrono::steady_clock::now() + std::chrono::seconds(5));
            if (!logged.ok()) deployment->predictions_dropped.fetch_add(1);
          } else if (!logger_->Log(std::move(*event))) {
            deployment->predictions_dropped.fetch_add(1);
          }
        }
      });
}

void InferenceHandlers::Register(http::Router& router) {
  // Liveness and readiness probes are public (orchestrators call them without credentials); a
  // model's metadata and predictions need the predict permission in the caller's tenant.
  const http::RouteOptions probe_v2{.run_inline = true,
                                    .error_format = http::ErrorFormat::kOpenInference,
                                    .permission = http::Permission::kPublic};
  const http::RouteOptions inline_v2{.run_inline = true,
                                     .error_format = http::ErrorFormat::kOpenInference,
                                     .permission = http::Permission::kPredict};
  const http::RouteOptions infer_v2{.max_body_bytes = options_.max_body_bytes,
                                    .error_format = http::ErrorFormat::kOpenInference,
                                    .permission = http::Permission::kPredict};
  const http::RouteOptions infer_mlflow{.max_body_bytes = options_.max_body_bytes,
                                        .permission = http::Permission::kPredict};

  router.Add(
      http::Method::kGet, "/v2",
      [](http::Request&) {
        return http::Response::Json(200, R"({"name":"cairn","version":")" CAIRN_VERSION_STRING
                                         R"(","extensions":["binary_tensor_data"]})");
      },
      probe_v2);
  router.Add(
      http::Method::kGet, "/v2/health/live",
      [](http::Request&) { return http::Response::Json(200, R"({"live":true})"); }, probe_v2);
  router.Add(
      http::Method::kGet, "/v2/health/ready",
      [this](http::Request&) {
        // Ready once every deployment has finished loading (FAILED ones do not hold it back).
        for (const auto& deployment : service_.All()) {
          std::string state = deployment->Record().state;
          if (state == "PENDING" || state == "LOADING") {
            return http::Response::Json(400, R"({"ready":false})");
          }
        }
        return http::Response::Json(200, R"({"ready":true})");
      },
      probe_v2);

  auto metadata = [this](http::Request& request) {
    const std::string name = request.PathParam("name");
    auto deployment = service_.Find(request.scope.tenant, name);
    if (deployment == nullptr) return V2Error(404, "Model '" + name + "' not found");
    auto serving = deployment->Serving();
    if (serving == nullptr) {
      return V2Error(503, "Model '" + name + "' is not ready (" + deployment->Record().state + ")");
    }
    std::string version = request.PathParam("version");
    if (!version.empty() && version != serving->model_version) {
      return V2Error(404, "Model '" + name + "' version " + version + " is not served");
    }
    std::string body;
    std::vector<std::string> versions = {serving->model_version};
    WriteV2ModelMetadata(name, versions, serving->interface.platform, serving->interface.inputs,
                         serving->interface.outputs, body);
    return http::Response::Json(200, std::move(body));
  };
  router.Add(http::Method::kGet, "/v2/models/{name}", metadata, inline_v2);
  router.Add(http::Method::kGet, "/v2/models/{name}/versions/{version}", metadata, inline_v2);

  auto ready = [this](http::Request& request) {
    const std::string name = request.PathParam("name");
    auto deployment = service_.Find(request.scope.tenant, name);
    if (deployment == nullptr) return V2Error(404, "Model '" + name + "' not found");
    auto serving = deployment->Serving();
    std::string version = request.PathParam("version");
    bool is_ready = serving != nullptr && (version.empty() || version == serving->model_version);
    std::string body;
    cairn::inference::JsonWriter writer(body);
    writer.BeginObject();
    writer.Key("name");
    writer.String(name);
    writer.Key("ready");
    writer.Bool(is_ready);
    writer.EndObject();
    return http::Response::Json(is_ready ? 200 : 400, std::move(body));
  };
  router.Add(http::Method::kGet, "/v2/models/{name}/ready", ready, inline_v2);
  router.Add(http::Method::kGet, "/v2/models/{name}/versions/{version}/ready", ready, inline_v2);

  auto infer = [this](http::Request& request, http::Responder responder) {
    Dispatch(request, std::move(responder), Protocol::kV2, request.PathParam("name"));
  };
  router.AddAsync(http::Method::kPost, "/v2/models/{name}/infer", infer, infer_v2);
  router.AddAsync(http::Method::kPost, "/v2/models/{name}/versions/{version}/infer", infer,
                  infer_v2);
  router.AddAsync(
      http::Method::kPost, "/endpoints/{name}/invocations",
      [this](http::Request& request, http::Responder responder) {
        Dispatch(request, std::move(responder), Protocol::kInvocations, request.PathParam("name"));
      },
      infer_mlflow);
}

void InferenceHandlers::RegisterSingleModel(http::Router& router, std::string name) {
  const http::RouteOptions inline_route{.run_inline = true,
                                        .permission = http::Permission::kPublic};
  router.AddAsync(
      http::Method::kPost, "/invocations",
      [this, name](http::Request& request, http::Responder responder) {
        Dispatch(request, std::move(responder), Protocol::kInvocations, name);
      },
      http::RouteOptions{.max_body_bytes = options_.max_body_bytes,
                         .permission = http::Permission::kPredict});
  auto health = [this, name](http::Request& request) {
    auto deployment = service_.Find(request.scope.tenant, name);
    bool up = deployment != nullptr && deployment->Serving() != nullptr;
    return http::Response::Text(up ? 200 : 503, "\n");
  };
  router.Add(http::Method::kGet, "/ping", health, inline_route);
  router.Add(http::Method::kGet, "/health", health, inline_route);
  router.Add(
      http::Method::kGet, "/version",
      [](http::Request&) { return http::Response::Text(200, CAIRN_VERSION_STRING); }, inline_route);
}

}  // namespace cairn::api::inference
