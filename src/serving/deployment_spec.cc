#include "serving/deployment_spec.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "base/json.h"

namespace cairn::serving {
namespace {

namespace bj = boost::json;

constexpr std::array<std::string_view, 4> kStateNames = {"PENDING", "LOADING", "READY", "FAILED"};

// Reads an integer field within [lo, hi]; a number or a numeric string.
Status ReadInt(const bj::object& obj, std::string_view key, int lo, int hi, int& out,
               std::string_view where) {
  ASSIGN_OR_RETURN(std::optional<int64_t> value, json::GetInt64(obj, key));
  if (!value) return Status::Ok();
  if (*value < lo || *value > hi) {
    return InvalidArgument(std::string(where) + std::string(key) + " must be between " +
                           std::to_string(lo) + " and " + std::to_string(hi));
  }
  out = static_cast<int>(*value);
  return Status::Ok();
}

// cpu and memory are resource hints ("1", "500m", "2Gi"); a number is accepted as its text.
Status ReadQuantity(const bj::object& obj, std::string_view key, std::string& out) {
  const bj::value* value = obj.if_contains(key);
  if (value == nullptr || value->is_null()) return Status::Ok();
  if (value->is_string()) {
    out = std::string(value->as_string());
  } else if (value->is_number()) {
    out = bj::serialize(*value);
  } else {
    return InvalidArgument("deployment_config." + std::string(key) +
                           " must be a string or a number");
  }
  if (out.size() > 32 || !std::all_of(out.begin(), out.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.';
      })) {
    return InvalidArgument("deployment_config." + std::string(key) + " is not a quantity");
  }
  return Status::Ok();
}

Status ApplyFields(const bj::object& body, DeploymentSpec& spec, bool is_create) {
  ASSIGN_OR_RETURN(std::optional<std::string> model_name, json::GetString(body, "model_name"));
  if (model_name) {
    if (!is_create && *model_name != spec.model_name) {
      return InvalidArgument("model_name cannot change; create another deployment");
    }
    spec.model_name = *model_name;
  }
  const bj::value* version = body.if_contains("version");
  ASSIGN_OR_RETURN(std::optional<std::string> alias, json::GetString(body, "alias"));
  if (version != nullptr && !version->is_null()) {
    if (version->is_int64() && version->as_int64() > 0) {
      spec.version = std::to_string(version->as_int64());
    } else if (version->is_string()) {
      spec.version = std::string(version->as_string());
    } else {
      return InvalidArgument("version must be a positive integer or its string");
    }
    spec.alias.clear();
  }
  if (alias) {
    if (version != nullptr && !version->is_null()) {
      return InvalidArgument("give version or alias, not both");
    }
    spec.alias = *alias;
    spec.version.clear();
  }
  ASSIGN_OR_RETURN(std::optional<std::string> name, json::GetString(body, "name"));
  if (name) {
    if (!is_create && *name != spec.name) {
      return InvalidArgument("name cannot change");
    }
    spec.name = *name;
  }
  ASSIGN_OR_RETURN(std::optional<std::string> runtime, json::GetString(body, "runtime"));
  if (runtime) {
    if (*runtime != "auto" && *runtime != "onnx" && *runtime != "python") {
      return InvalidArgument("runtime must be auto, onnx or python");
    }
    spec.runtime = *runtime;
  }
  ASSIGN_OR_RETURN(std::optional<std::string> device, json::GetString(body, "device"));
  if (device) {
    if (*device != "cpu" && *device != "cuda") {
      return InvalidArgument("device must be cpu or cuda");
    }
    spec.runtime_options.device = *device;
  }
  ASSIGN_OR_RETURN(const bj::object* config, json::GetObject(body, "deployment_config"));
  if (config != nullptr) {
    RETURN_IF_ERROR(
        ReadInt(*config, "replicas", 1, kMaxReplicas, spec.replicas, "deployment_config."));
    RETURN_IF_ERROR(ReadQuantity(*config, "cpu", spec.cpu));
    RETURN_IF_ERROR(ReadQuantity(*config, "memory", spec.memory));
    ASSIGN_OR_RETURN(const bj::object* autoscaling, json::GetObject(*config, "autoscaling"));
    if (autoscaling != nullptr) {
      Autoscaling a = spec.autoscaling.value_or(Autoscaling{.min = 1, .max = spec.replicas});
      RETURN_IF_ERROR(ReadInt(*autoscaling, "min", 1, kMaxReplicas, a.min, "autoscaling."));
      RETURN_IF_ERROR(ReadInt(*autoscaling, "max", 1, kMaxReplicas, a.max, "autoscaling."));
      RETURN_IF_ERROR(ReadInt(*autoscaling, "target_concurrency", 1, 100000, a.target_concurrency,
                              "autoscaling."));
      RETURN_IF_ERROR(ReadInt(*autoscaling, "target_cpu", 1, 100, a.target_cpu, "autoscaling."));
      if (a.min > a.max) {
        return InvalidArgument("autoscaling.min must not exceed autoscaling.max");
      }
      spec.autoscaling = a;
    }
  }
  ASSIGN_OR_RETURN(const bj::object* options, json::GetObject(body, "options"));
  if (options != nullptr) {
    runtime::RuntimeOptions& o = spec.runtime_options;
    RETURN_IF_ERROR(ReadInt(*options, "intra_op_threads", 1, 64, o.intra_op_threads, "options."));
    RETURN_IF_ERROR(ReadInt(*options, "inter_op_threads", 1, 64, o.inter_op_threads, "options."));
    int cuda_device = o.cuda_device_id;
    RETURN_IF_ERROR(ReadInt(*options, "cuda_device_id", 0, 64, cuda_device, "options."));
    o.cuda_device_id = cuda_device;
    int timeout_ms = static_cast<int>(o.predict_timeout.count());
    RETURN_IF_ERROR(
        ReadInt(*options, "predict_timeout_ms", 1, 3600 * 1000, timeout_ms, "options."));
    o.predict_timeout = std::chrono::milliseconds(timeout_ms);
    ASSIGN_OR_RETURN(std::optional<std::string> level,
                     json::GetString(*options, "graph_optimization"));
    if (level) {
      if (*level != "disable" && *level != "basic" && *level != "extended" && *level != "all") {
        return InvalidArgument(
            "options.graph_optimization must be disable, basic, extended or all");
      }
      o.graph_optimization = *level;
    }
    ASSIGN_OR_RETURN(std::optional<bool> log, json::GetBool(*options, "log_predictions"));
    if (log) spec.log_predictions = *log;
    ASSIGN_OR_RETURN(std::optional<bool> backpressure, json::GetBool(*options, "backpressure"));
    if (backpressure) spec.backpressure = *backpressure;
  }
  return Status::Ok();
}

Status Validate(DeploymentSpec& spec) {
  if (spec.model_name.empty()) return InvalidArgument("model_name is required");
  if (spec.model_name.size() > 256) return InvalidArgument("model_name is too long");
  if (spec.version.empty() && spec.alias.empty()) {
    return InvalidArgument("version or alias is required");
  }
  if (!spec.version.empty() &&
      (spec.version.size() > 18 || !std::all_of(spec.version.begin(), spec.version.end(),
                                                [](char c) { return c >= '0' && c <= '9'; }))) {
    return InvalidArgument("version must be a positive integer");
  }
  if (spec.alias.size() > 256) return InvalidArgument("alias is too long");
  if (spec.name.empty()) spec.name = DefaultEndpointName(spec);
  RETURN_IF_ERROR(ValidateEndpointName(spec.name));
  if (spec.runtime.empty()) spec.runtime = "auto";
  if (spec.autoscaling && spec.autoscaling->max < spec.autoscaling->min) {
    return InvalidArgument("autoscaling.min must not exceed autoscaling.max");
  }
  return Status::Ok();
}

}  // namespace

std::string_view DeploymentStateName(DeploymentState state) {
  return kStateNames[static_cast<size_t>(state)];
}

std::optional<DeploymentState> ParseDeploymentState(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<DeploymentState>(i);
  }
  return std::nullopt;
}

StatusOr<DeploymentSpec> ParseDeploymentSpec(std::string_view body) {
  ASSIGN_OR_RETURN(bj::object parsed, json::ParseObject(body));
  DeploymentSpec spec;
  RETURN_IF_ERROR(ApplyFields(parsed, spec, /*is_create=*/true));
  RETURN_IF_ERROR(Validate(spec));
  return spec;
}

StatusOr<DeploymentSpec> ApplySpecUpdate(const DeploymentSpec& base, std::string_view body) {
  ASSIGN_OR_RETURN(bj::object parsed, json::ParseObject(body));
  DeploymentSpec spec = base;
  RETURN_IF_ERROR(ApplyFields(parsed, spec, /*is_create=*/false));
  RETURN_IF_ERROR(Validate(spec));
  return spec;
}

StatusOr<DeploymentSpec> ApplyScale(const DeploymentSpec& base, std::string_view body) {
  ASSIGN_OR_RETURN(bj::object parsed, json::ParseObject(body));
  DeploymentSpec spec = base;
  bj::object config;
  if (const bj::value* replicas = parsed.if_contains("replicas")) config["replicas"] = *replicas;
  if (const bj::value* autoscaling = parsed.if_contains("autoscaling")) {
    config["autoscaling"] = *autoscaling;
  }
  if (config.empty()) return InvalidArgument("give replicas or autoscaling {min, max}");
  bj::object wrapped;
  wrapped["deployment_config"] = std::move(config);
  RETURN_IF_ERROR(ApplyFields(wrapped, spec, /*is_create=*/false));
  if (parsed.contains("replicas") && !parsed.contains("autoscaling")) {
    spec.autoscaling.reset();  // a fixed replica count replaces autoscaling
  }
  RETURN_IF_ERROR(Validate(spec));
  return spec;
}

std::string DefaultEndpointName(const DeploymentSpec& spec) {
  std::string raw = spec.model_name + "-" + (spec.alias.empty() ? "v" + spec.version : spec.alias);
  std::string name;
  for (char c : raw) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool ok = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9');
    if (ok) {
      name += lower;
    } else if (!name.empty() && name.back() != '-') {
      name += '-';
    }
  }
  if (name.empty() || !(name[0] >= 'a' && name[0] <= 'z')) name = "m-" + name;
  if (name.size() > 63) name.resize(63);
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name;
}

Status ValidateEndpointName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 63 && name.front() >= 'a' && name.front() <= 'z' &&
            name.back() != '-' && std::all_of(name.begin(), name.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
            });
  if (!ok) {
    return InvalidArgument(
        "name must be a DNS label: 1 to 63 of [a-z0-9-], starting with a "
        "letter and not ending with '-'");
  }
  return Status::Ok();
}

std::string SpecToJson(const DeploymentSpec& spec) {
  bj::object config;
  config["replicas"] = spec.replicas;
  if (!spec.cpu.empty()) config["cpu"] = spec.cpu;
  if (!spec.memory.empty()) config["memory"] = spec.memory;
  if (spec.autoscaling) {
    bj::object a;
    a["min"] = spec.autoscaling->min;
    a["max"] = spec.autoscaling->max;
    if (spec.autoscaling->target_concurrency > 0) {
      a["target_concurrency"] = spec.autoscaling->target_concurrency;
    }
    if (spec.autoscaling->target_cpu > 0) a["target_cpu"] = spec.autoscaling->target_cpu;
    config["autoscaling"] = std::move(a);
  }
  const runtime::RuntimeOptions& o = spec.runtime_options;
  bj::object options;
  options["intra_op_threads"] = o.intra_op_threads;
  options["inter_op_threads"] = o.inter_op_threads;
  options["graph_optimization"] = o.graph_optimization;
  options["predict_timeout_ms"] = o.predict_timeout.count();
  options["cuda_device_id"] = o.cuda_device_id;
  options["log_predictions"] = spec.log_predictions;
  options["backpressure"] = spec.backpressure;
  bj::object out;
  out["model_name"] = spec.model_name;
  if (!spec.version.empty()) out["version"] = spec.version;
  if (!spec.alias.empty()) out["alias"] = spec.alias;
  out["name"] = spec.name;
  out["runtime"] = spec.runtime;
  out["device"] = o.device;
  out["deployment_config"] = std::move(config);
  out["options"] = std::move(options);
  return bj::serialize(out);
}

StatusOr<DeploymentSpec> SpecFromJson(std::string_view json) { return ParseDeploymentSpec(json); }

int MinReplicas(const DeploymentSpec& spec) {
  return spec.autoscaling ? spec.autoscaling->min : spec.replicas;
}

int MaxReplicas(const DeploymentSpec& spec) {
  return spec.autoscaling ? spec.autoscaling->max : spec.replicas;
}

}  // namespace cairn::serving
