#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "runtime/model_runtime.h"

namespace cairn::serving {

enum class DeploymentState { kPending, kLoading, kReady, kFailed };

std::string_view DeploymentStateName(DeploymentState state);
std::optional<DeploymentState> ParseDeploymentState(std::string_view name);

struct Autoscaling {
  int min = 1;
  int max = 1;
  // In-flight requests per replica the autoscaler aims for.
  int target_concurrency = 0;
  // Kept as sent; the in-process scaler follows concurrency, Knative follows either.
  int target_cpu = 0;
};

// What a deployment was asked to be: the body of create (or update), validated. Stored as JSON.
struct DeploymentSpec {
  std::string model_name;
  std::string version;  // as asked; empty when `alias` is used
  std::string alias;
  std::string name;     // endpoint name
  std::string runtime;  // "auto", "onnx" or "python"
  int replicas = 1;     // desired replicas without autoscaling
  std::string cpu;      // resource hints for scale-out targets, kept as sent
  std::string memory;
  std::optional<Autoscaling> autoscaling;
  runtime::RuntimeOptions runtime_options;
  bool log_predictions = true;
  // Wait for room in the prediction log's queue instead of dropping an event when it is full.
  bool backpressure = false;
};

// Limits on what a spec may ask for.
inline constexpr int kMaxReplicas = 64;

// Parses the create body (`model_name`, `version` or `alias`, optional `name`, `runtime`,
// `device`, `deployment_config` {replicas, cpu, memory, autoscaling {min, max,
// target_concurrency | target_cpu}}, `options` {...}). InvalidArgument names the bad field.
StatusOr<DeploymentSpec> ParseDeploymentSpec(std::string_view body);
// Applies an update body (same fields, all optional) over `base`.
StatusOr<DeploymentSpec> ApplySpecUpdate(const DeploymentSpec& base, std::string_view body);
// Applies a scale body (`replicas` and/or `autoscaling` {min, max}) over `base`.
StatusOr<DeploymentSpec> ApplyScale(const DeploymentSpec& base, std::string_view body);

// The endpoint name derived from model and version as the Knative template does: lower-case,
// [a-z0-9-], at most 63 characters, "<model>-v<version>" (or "<model>-<alias>").
std::string DefaultEndpointName(const DeploymentSpec& spec);
// Endpoint names are DNS labels: [a-z0-9-], 1 to 63, starting with a letter, not ending with '-'.
Status ValidateEndpointName(std::string_view name);

std::string SpecToJson(const DeploymentSpec& spec);
StatusOr<DeploymentSpec> SpecFromJson(std::string_view json);

// Replicas bounds the spec asks for: [min, max] with autoscaling, else [replicas, replicas].
int MinReplicas(const DeploymentSpec& spec);
int MaxReplicas(const DeploymentSpec& spec);

}  // namespace cairn::serving
