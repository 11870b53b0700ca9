#include "tracking/validation.h"

#include <cctype>
#include <cmath>
#include <string>

namespace cairn::tracking {
namespace {

bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
         c == ' ' || c == '/' || c == ':';
}

// MLflow requires keys to be their own normalised relative path.
bool NormalisesToItself(std::string_view key) {
  if (key.empty() || key.front() == '/' || key == "." || key.back() == '/') return false;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view seg = key.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    start = end + 1;
  }
  return true;
}

bool MatchesIdPattern(std::string_view id, size_t max_tail) {
  if (id.empty() || !std::isalnum(static_cast<unsigned char>(id[0]))) return false;
  if (id.size() - 1 > max_tail) return false;
  for (char c : id.substr(1)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

void TruncateUtf8(std::string& s, size_t max_len) {
  if (s.size() <= max_len) return;
  size_t cut = max_len;
  // Do not split a multi-byte character.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
}

}  // namespace

Status ValidateKey(std::string_view key, std::string_view what) {
  if (key.empty()) {
    return InvalidArgument("Missing value for required parameter 'key'. Invalid " +
                           std::string(what) + " name: ''.");
  }
  if (key.size() > kMaxEntityKeyLength) {
    return InvalidArgument(std::string(what) + " name '" + std::string(key.substr(0, 50)) +
                           "...' exceeds the maximum length of 250 characters");
  }
  for (char c : key) {
    if (!IsKeyChar(c)) {
      return InvalidArgument("Invalid " + std::string(what) + " name: '" + std::string(key) +
                             "'. Names may only contain alphanumerics, underscores (_), dashes "
                             "(-), periods (.), spaces ( ), colon(:) and slashes (/).");
    }
  }
  if (!NormalisesToItself(key)) {
    return InvalidArgument("Invalid " + std::string(what) + " name: '" + std::string(key) +
                           "'. Names cannot contain '..' segments, start with '/' or be '.'.");
  }
  return Status::Ok();
}

Status ValidateRunId(std::string_view run_id) {
  if (run_id.empty()) return InvalidArgument("Missing value for required parameter 'run_id'");
  if (!MatchesIdPattern(run_id, 255)) {
    return InvalidArgument("Invalid run ID: '" + std::string(run_id.substr(0, 300)) + "'");
  }
  return Status::Ok();
}

Status ValidateExperimentId(std::string_view experiment_id) {
  if (experiment_id.empty()) {
    return InvalidArgument("Missing value for required parameter 'experiment_id'");
  }
  if (!MatchesIdPattern(experiment_id, 63)) {
    return InvalidArgument("Invalid experiment ID: '" + std::string(experiment_id.substr(0, 100)) +
                           "'");
  }
  return Status::Ok();
}

Status ValidateExperimentName(std::string_view name) {
  if (name.empty()) {
    return InvalidArgument("Invalid experiment name: ''. Experiment name must not be empty.");
  }
  if (name.size() > kMaxExperimentNameLength) {
    return InvalidArgument("Experiment name exceeds the maximum length of 500 characters");
  }
  return Status::Ok();
}

Status ValidateExperimentTag(const metadata::Tag& tag) {
  RETURN_IF_ERROR(ValidateKey(tag.key, "tag"));
  if (tag.value.size() > kMaxExperimentTagValueLength) {
    return InvalidArgument("Tag value for key '" + tag.key +
                           "' exceeds the maximum length of 5000 characters");
  }
  return Status::Ok();
}

Status ValidateAndTruncateBatch(std::vector<metadata::Metric>& metrics,
                                std::vector<metadata::Param>& params,
                                std::vector<metadata::Tag>& tags) {
  if (metrics.size() > kMaxMetricsPerBatch) {
    return InvalidArgument("A batch logging request can contain at most 1000 metrics. Got " +
                           std::to_string(metrics.size()) + " metrics.");
  }
  if (params.size() > kMaxParamsPerBatch) {
    return InvalidArgument("A batch logging request can contain at most 100 params. Got " +
                           std::to_string(params.size()) + " params.");
  }
  if (tags.size() > kMaxTagsPerBatch) {
    return InvalidArgument("A batch logging request can contain at most 100 tags. Got " +
                           std::to_string(tags.size()) + " tags.");
  }
  size_t total = metrics.size() + params.size() + tags.size();
  if (total > kMaxEntitiesPerBatch) {
    return InvalidArgument(
        "A batch logging request can contain at most 1000 metrics, params and tags in total. "
        "Got " +
        std::to_string(total) + ".");
  }
  for (const auto& m : metrics) {
    RETURN_IF_ERROR(ValidateKey(m.key, "metric"));
    if (m.timestamp < 0) {
      return InvalidArgument("Invalid timestamp for metric '" + m.key + "': must be >= 0");
    }
  }
  for (auto& p : params) {
    RETURN_IF_ERROR(ValidateKey(p.key, "param"));
    TruncateUtf8(p.value, kMaxParamValueLength);
  }
  for (auto& t : tags) {
    RETURN_IF_ERROR(ValidateKey(t.key, "tag"));
    TruncateUtf8(t.value, kMaxTagValueLength);
  }
  return Status::Ok();
}

Status ValidateDatasetInputs(const std::vector<metadata::DatasetInput>& inputs) {
  for (const auto& in : inputs) {
    const auto& d = in.dataset;
    if (d.name.empty()) return InvalidArgument("Missing value for required parameter 'name'");
    if (d.digest.empty()) return InvalidArgument("Missing value for required parameter 'digest'");
    if (d.source_type.empty()) {
      return InvalidArgument("Missing value for required parameter 'source_type'");
    }
    if (d.source.empty()) return InvalidArgument("Missing value for required parameter 'source'");
    if (d.name.size() > kMaxDatasetNameLength) {
      return InvalidArgument("Dataset name exceeds the maximum length of 500");
    }
    if (d.digest.size() > kMaxDatasetDigestLength) {
      return InvalidArgument("Dataset digest exceeds the maximum length of 36");
    }
    if (d.source.size() > kMaxDatasetSourceLength) {
      return InvalidArgument("Dataset source exceeds the maximum length of 65535");
    }
    if (d.schema && d.schema->size() > kMaxDatasetSchemaLength) {
      return InvalidArgument("Dataset schema exceeds the maximum length of 1048576");
    }
    if (d.profile && d.profile->size() > kMaxDatasetProfileLength) {
      return InvalidArgument("Dataset profile exceeds the maximum length of 16777216");
    }
    for (const auto& t : in.tags) {
      if (t.key.empty() || t.key.size() > kMaxInputTagKeyLength) {
        return InvalidArgument("Input tag key must be 1 to 255 characters");
      }
      if (t.value.size() > kMaxInputTagValueLength) {
        return InvalidArgument("Input tag value exceeds the maximum length of 500");
      }
    }
  }
  return Status::Ok();
}

std::string ResolveLocalArtifactLocation(std::string_view location, std::string_view cwd) {
  std::string_view path = location;
  bool file_uri = false;
  if (location.substr(0, 5) == "file:") {
    path = location.substr(5);
    if (path.substr(0, 2) == "//") return std::string(location);  // has an authority
    file_uri = true;
  } else {
    size_t colon = location.find(':');
    size_t slash = location.find('/');
    // A scheme (two or more characters before ':', before any '/') makes it non-local.
    if (colon != std::string_view::npos && colon >= 2 &&
        (slash == std::string_view::npos || colon < slash)) {
      return std::string(location);
    }
  }
  if (path.empty() || path[0] == '/') return std::string(location);
  std::string out(cwd);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (!segment.empty() && segment != ".") {
      if (out.empty() || out.back() != '/') out += '/';
      out += segment;
    }
    start = end + 1;
  }
  return file_uri ? "file://" + out : out;
}

}  // namespace cairn::tracking
