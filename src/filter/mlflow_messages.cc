#include "filter/mlflow_messages.h"

#include <fmt/format.h>

namespace cairn::filter::mlflow_messages {
namespace {

// How MLflow prints a Python set of strings: {'a', 'b'}.
std::string PythonSet(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const std::string& item : items) {
    if (out.size() > 1) out += ", ";
    out += "'" + item + "'";
  }
  return out + "}";
}

// The prefix MLflow's logged-model search prints for an entity ("attributes.name").
std::string_view LoggedModelPrefix(Entity entity) {
  switch (entity) {
    case Entity::kMetric:
      return "metrics";
    case Entity::kParam:
      return "params";
    case Entity::kTag:
      return "tags";
    default:
      return "attributes";
  }
}

}  // namespace

std::string InvalidEntityType(SearchKind kind, std::string_view prefix) {
  switch (kind) {
    case SearchKind::kRuns:
      return fmt::format(
          "Invalid entity type '{}'. Valid values are ['metric', 'parameter', 'tag', "
          "'attribute', 'dataset']",
          prefix);
    case SearchKind::kLoggedModels:
      return fmt::format(
          "Invalid entity type: '{}'. Expected one of ['attributes', 'metrics', 'params', "
          "'tags'].",
          prefix);
    case SearchKind::kExperiments:
    case SearchKind::kRegisteredModels:
    case SearchKind::kModelVersions:
      return fmt::format(
          "Invalid entity type '{}'. Valid entity types are ('attribute', 'tag', 'tags')", prefix);
    case SearchKind::kEvaluationDatasets:
      return fmt::format("Invalid identifier token '{}' specified", prefix);
    case SearchKind::kTraces:
      break;
  }
  return "";
}

std::string InvalidAttributeKey(SearchKind kind, std::string_view key,
                                const std::vector<std::string>& valid_keys) {
  if (kind == SearchKind::kTraces) return "";
  if (kind == SearchKind::kEvaluationDatasets) {
    return fmt::format("Invalid attribute key '{}' specified. Valid keys are: {}", key,
                       PythonSet(valid_keys));
  }
  return fmt::format("Invalid attribute key '{}' specified. Valid keys are '{}'", key,
                     PythonSet(valid_keys));
}

std::string InvalidComparator(SearchKind kind, Entity entity, bool numeric, std::string_view key,
                              std::string_view op, const std::vector<std::string>& allowed) {
  switch (kind) {
    case SearchKind::kRuns: {
      if (entity == Entity::kAttribute && !numeric && (op == "IN" || op == "NOT IN")) {
        return "Only ['run_id'] attributes support comparison with a list of quoted string "
               "values.";
      }
      // MLflow leaves the closing quote off for metrics, tags and datasets.
      const bool closed = entity == Entity::kParam || entity == Entity::kAttribute;
      return fmt::format("Invalid comparator '{}' not one of '{}{}", op, PythonSet(allowed),
                         closed ? "'" : "");
    }
    case SearchKind::kExperiments:
      if (entity == Entity::kTag) return fmt::format("Invalid comparator for tag: {}", op);
      return fmt::format("Invalid comparator '{}' not one of '{}'", op, PythonSet(allowed));
    case SearchKind::kRegisteredModels:
    case SearchKind::kModelVersions:
      return fmt::format("Invalid comparator for {}: {}",
                         entity == Entity::kTag ? "tag" : "attribute", op);
    case SearchKind::kLoggedModels:
      return fmt::format("Invalid comparison operator for {}.{}: '{}'. Expected one of {}.",
                         LoggedModelPrefix(entity), key, op,
                         numeric ? "('<', '<=', '>', '>=', '=', '!=')"
                                 : "('=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN')");
    case SearchKind::kEvaluationDatasets:
      if (entity == Entity::kTag) return fmt::format("Invalid comparator for tag: {}", op);
      if (op == "NOT IN") {
        return "List values for 'name' are only supported with the IN comparator.";
      }
      if (op == "IN") {
        return "Only ['name'] attributes support comparison with a list of quoted string values.";
      }
      return fmt::format("Invalid comparator for {} attribute: {}", numeric ? "numeric" : "string",
                         op);
    case SearchKind::kTraces:
      break;
  }
  return "";
}

std::string ExpectedNumber(SearchKind kind, Entity entity, std::string_view key,
                           std::string_view written) {
  if (kind == SearchKind::kTraces) return "";
  if (entity == Entity::kMetric) {
    return fmt::format("Expected numeric value type for metric. Found {}", written);
  }
  if (kind == SearchKind::kModelVersions) {
    return fmt::format("Invalid value for numeric attribute '{}': {}", key, written);
  }
  return fmt::format("Expected numeric value type for numeric attribute: {}. Found {}", key,
                     written);
}

std::string ExpectedString(SearchKind kind, Entity entity, std::string_view written, bool is_number,
                           const std::vector<std::string>& numeric_attributes) {
  if (kind == SearchKind::kTraces || kind == SearchKind::kLoggedModels) return "";
  if (entity == Entity::kParam || entity == Entity::kTag) {
    return fmt::format("Expected a quoted string value for {} (e.g. 'my-value'). Got value {}",
                       entity == Entity::kParam ? "parameter" : "tag", written);
  }
  if (entity == Entity::kDataset) {
    return fmt::format("Expected a quoted string value for dataset attributes. Got value {}",
                       written);
  }
  if (entity != Entity::kAttribute) return "";
  if (kind == SearchKind::kModelVersions && is_number) {
    return fmt::format("Only the '{}' attributes support comparison with numeric values.",
                       PythonSet(numeric_attributes));
  }
  if (kind == SearchKind::kRegisteredModels) {
    return fmt::format(
        "Expected a quoted string value or a list of quoted string values for attributes. Got "
        "value {}",
        written);
  }
  return fmt::format("Expected a quoted string value for attributes. Got value {}", written);
}

}  // namespace cairn::filter::mlflow_messages
