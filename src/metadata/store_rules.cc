#include "metadata/store_rules.h"

#include <charconv>
#include <cmath>
#include <unordered_map>

#include "metadata/names.h"

namespace cairn::metadata {

Status ExperimentNotFound(std::string_view id) {
  return NotFound("No Experiment with id=" + std::string(id) + " exists");
}

Status ExperimentNotActive(std::string_view id) {
  return InvalidArgument("The experiment " + std::string(id) +
                         " must be in the 'active' state. Current state is deleted.");
}

Status RunNotFound(std::string_view id) {
  return NotFound("Run with id=" + std::string(id) + " not found");
}

Status RunNotActive(std::string_view id) {
  return InvalidArgument("The run " + std::string(id) +
                         " must be in the 'active' state. Current state is deleted.");
}

Status LoggedModelNotFound(std::string_view id) {
  return NotFound("Logged model with ID '" + std::string(id) + "' not found.");
}

Status RegisteredModelNotFound(std::string_view name) {
  return NotFound("Registered Model with name=" + std::string(name) + " not found");
}

Status RegisteredModelExists(std::string_view name) {
  return AlreadyExists("Registered Model (name=" + std::string(name) + ") already exists.");
}

Status ModelVersionNotFound(std::string_view name, int64_t version) {
  return NotFound("Model Version (name=" + std::string(name) +
                  ", version=" + std::to_string(version) + ") not found");
}

Status AliasNotFound(std::string_view alias) {
  return NotFound("Registered model alias " + std::string(alias) + " not found.");
}

Status CannotArchive(ModelStage stage) {
  return InvalidArgument(
      "Model version transition cannot archive existing model versions "
      "because '" +
      std::string(ModelStageName(stage)) +
      "' is not an Active stage. Valid stages are ['Staging', 'Production']");
}

Status TraceNotFound(std::string_view trace_id) {
  return NotFound("Trace with ID '" + std::string(trace_id) + "' not found.");
}

std::optional<int64_t> ParseExperimentId(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

std::string JoinUri(std::string_view root, std::string_view leaf) {
  std::string out(root);
  if (!out.empty() && out.back() != '/') out += '/';
  out += leaf;
  return out;
}

bool IsActiveStage(ModelStage stage) {
  return stage == ModelStage::kStaging || stage == ModelStage::kProduction;
}

StatusOr<std::vector<const Param*>> DistinctParams(const std::vector<Param>& params) {
  std::vector<const Param*> distinct;
  std::unordered_map<std::string_view, const Param*> by_key;
  std::vector<std::string> conflicting;
  for (const Param& param : params) {
    auto [it, inserted] = by_key.emplace(param.key, &param);
    if (inserted) {
      distinct.push_back(&param);
    } else if (it->second->value != param.value) {
      conflicting.push_back(param.key);
    }
  }
  if (!conflicting.empty()) {
    std::string keys;
    for (const std::string& key : conflicting) {
      if (!keys.empty()) keys += ", ";
      keys += "'" + key + "'";
    }
    return InvalidArgument("Duplicate parameter keys have been submitted: [" + keys +
                           "]. Please ensure the request contains only one param value per "
                           "param key.");
  }
  return distinct;
}

std::tuple<int64_t, int64_t, int, double> LatestMetricKey(const Metric& m) {
  bool nan = std::isnan(m.value);
  return std::make_tuple(m.step, m.timestamp, nan ? 0 : 1, nan ? 0.0 : m.value);
}

}  // namespace cairn::metadata
