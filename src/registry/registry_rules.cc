#include "registry/registry_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <utility>

#include "artifact/artifact_store.h"
#include "artifact/tenant_layout.h"
#include "base/utf8.h"
#include "metadata/names.h"
#include "tracking/validation.h"

namespace cairn::registry {
namespace {

using metadata::ModelStage;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes what can be decoded, keeping malformed escapes as they are; '+' is a space.
std::string LenientUnquotePlus(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 &&
               HexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// The filesystem path of a local source: a bare path, or a file: URI on this host.
std::optional<std::filesystem::path> LocalPath(std::string_view source) {
  std::string scheme = SchemeOf(source);
  if (scheme.empty()) return std::filesystem::path(std::string(source));
  if (scheme != "file") return std::nullopt;
  std::string_view rest = source.substr(5);
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    size_t slash = rest.find('/');
    std::string_view host = rest.substr(0, slash);
    if (!host.empty() && host != "localhost" && host != "127.0.0.1") return std::nullopt;
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  rest = rest.substr(0, rest.find_first_of("?#"));
  return std::filesystem::path(LenientUnquotePlus(rest));
}

Status InvalidSource(std::string_view source) {
  return InvalidArgument(
      "Invalid model version source: '" + std::string(source) +
      "'. If supplying a source as an http, https, local file path, ftp, objectstore, or "
      "mlflow-artifacts uri, an absolute path must be provided without relative path "
      "references present. Please provide an absolute path.");
}

}  // namespace

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && Lower(s.substr(0, prefix.size())) == prefix;
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The scheme of a URI ("" for none): letters, digits, '+', '-', '.' before the first ':',
// starting with a letter. A one-letter scheme is a Windows drive, which counts as none.
std::string SchemeOf(std::string_view uri) {
  size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon < 2) return "";
  if (!std::isalpha(static_cast<unsigned char>(uri[0]))) return "";
  for (size_t i = 1; i < colon; ++i) {
    char c = uri[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return "";
    }
  }
  return Lower(uri.substr(0, colon));
}

Status InvalidLocalSource(std::string_view source, std::string_view id_name) {
  const std::string id(id_name);
  return InvalidArgument(
      "Invalid model version source: '" + std::string(source) +
      "'. To use a local path as a model version source, the " + id +
      " request parameter has to be specified and the local path has to be contained within "
      "the artifact directory of the run specified by the " +
      id + ".");
}

Status InvalidSourceFor(std::string_view source, std::string_view id_name) {
  return InvalidArgument("Invalid model version source: '" + std::string(source) + "'. The " +
                         std::string(id_name) +
                         " request parameter must identify the resource that contains the "
                         "source.");
}

std::string AuthorityOf(std::string_view uri) {
  std::string scheme = SchemeOf(uri);
  if (scheme.empty()) return "";
  std::string_view rest = uri.substr(scheme.size() + 1);
  if (rest.substr(0, 2) != "//") return "";
  rest.remove_prefix(2);
  return std::string(rest.substr(0, rest.find_first_of("/?#")));
}

StatusOr<ModelStage> ParseStage(std::string_view text) {
  std::string lower = Lower(text);
  if (lower == "none") return ModelStage::kNone;
  if (lower == "staging") return ModelStage::kStaging;
  if (lower == "production") return ModelStage::kProduction;
  if (lower == "archived") return ModelStage::kArchived;
  return InvalidArgument("Invalid Model Version stage: " + std::string(text.substr(0, 300)) +
                         ". Value must be one of None, Staging, Production, Archived.");
}

std::string_view StageName(ModelStage stage) { return metadata::ModelStageName(stage); }

Status ValidateAlias(std::string_view alias) {
  if (alias.empty()) return InvalidArgument("Registered model alias name cannot be empty.");
  for (char c : alias) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return InvalidArgument("Invalid alias name: '" + std::string(alias.substr(0, 300)) +
                             "'. Names may only contain alphanumerics, underscores (_), and "
                             "dashes (-).");
    }
  }
  if (alias.size() > kMaxAliasLength) {
    return InvalidArgument("Registered model alias name '" + std::string(alias.substr(0, 250)) +
                           "' had length " + std::to_string(alias.size()) +
                           ", which exceeded length limit of " + std::to_string(kMaxAliasLength));
  }
  if (Lower(alias) == "latest") {
    return InvalidArgument("'latest' alias name (case insensitive) is reserved.");
  }
  if ((alias[0] == 'v' || alias[0] == 'V') && IsDigits(alias.substr(1))) {
    return InvalidArgument("Version alias name '" + std::string(alias) + "' is reserved.");
  }
  return Status::Ok();
}

StatusOr<int64_t> ParseVersion(std::string_view text) {
  if (text.empty()) return InvalidArgument("Missing value for required parameter 'version'");
  std::string_view digits = text;
  bool negative = false;
  if (digits[0] == '+' || digits[0] == '-') {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (!IsDigits(digits) || digits.size() > 18) {
    return InvalidArgument("Model version must be an integer, got '" +
                           std::string(text.substr(0, 100)) + "'");
  }
  int64_t value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return negative ? -value : value;
}

Status ValidateModelName(std::string_view name, std::string_view field) {
  if (name.empty()) {
    return InvalidArgument("Missing value for required parameter '" + std::string(field) + "'");
  }
  if (name.size() > kMaxModelNameLength) {
    return InvalidArgument("Registered model name '" + std::string(name.substr(0, 100)) +
                           "...' exceeds the maximum length of " +
                           std::to_string(kMaxModelNameLength) + " characters");
  }
  if (name.find('\0') != std::string_view::npos) {
    return InvalidArgument("Invalid value for parameter '" + std::string(field) +
                           "': NUL character");
  }
  return Status::Ok();
}

Status ValidateNewModelName(std::string_view name, std::string_view field) {
  RETURN_IF_ERROR(ValidateModelName(name, field));
  if (name.find_first_of("/:") != std::string_view::npos) {
    return InvalidArgument("Invalid name: '" + std::string(name.substr(0, 300)) +
                           "'. Names cannot contain '/' or ':'.");
  }
  return Status::Ok();
}

Status ValidateRegistryTag(const metadata::Tag& tag) {
  RETURN_IF_ERROR(tracking::ValidateKey(tag.key, "tag"));
  if (tag.value.size() > kMaxRegistryTagValueLength) {
    return InvalidArgument("Tag value for key '" + tag.key + "' had length " +
                           std::to_string(tag.value.size()) + ", which exceeded length limit of " +
                           std::to_string(kMaxRegistryTagValueLength));
  }
  return Status::Ok();
}

bool IsLocalSource(std::string_view source) {
  std::string scheme = SchemeOf(source);
  return scheme.empty() || scheme == "file";
}

Status CheckSourceHasNoTraversal(std::string_view source) {
  std::string decoded(source);
  // Bounded: each round shortens the string, and no one nests escapes this deep honestly.
  for (int round = 0; round < 16; ++round) {
    std::string next = LenientUnquotePlus(decoded);
    if (next == decoded) break;
    decoded = std::move(next);
  }
  if (decoded.find('\0') != std::string::npos) return InvalidSource(source);
  size_t start = 0;
  while (start <= decoded.size()) {
    size_t end = decoded.find_first_of("/\\", start);
    if (end == std::string::npos) end = decoded.size();
    std::string_view segment = std::string_view(decoded).substr(start, end - start);
    if (segment == ".." || segment == ".") return InvalidSource(source);
    start = end + 1;
  }
  return Status::Ok();
}

Status CheckLocalSourceInside(std::string_view source, std::string_view artifact_root,
                              std::string_view id_name) {
  if (source.find('\0') != std::string_view::npos) return InvalidLocalSource(source, id_name);
  std::optional<std::filesystem::path> path = LocalPath(source);
  std::optional<std::filesystem::path> root = LocalPath(artifact_root);
  if (!path || !root || artifact_root.empty() || !path->is_absolute() || !root->is_absolute()) {
    return InvalidLocalSource(source, id_name);
  }
  std::string p = path->lexically_normal().generic_string();
  std::string r = root->lexically_normal().generic_string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  bool inside = r == "/" || p == r ||
                (p.size() > r.size() && p.compare(0, r.size(), r) == 0 && p[r.size()] == '/');
  if (inside) return Status::Ok();
  return InvalidLocalSource(source, id_name);
}

StatusOr<ModelsUri> ParseModelsUri(std::string_view uri) {
  auto improper = [&uri]() {
    return InvalidArgument(
        "Not a proper models:/ URI: " + std::string(uri.substr(0, 500)) +
        ". Models URIs must be of the form 'models:/model_name/suffix' or "
        "'models:/model_name@alias' where suffix is a model version, stage, or the string "
        "'latest' and where alias is a registered model alias. Only one of suffix or alias "
        "can be defined at a time. Logged models are referenced as 'models:/<model_id>'.");
  };
  if (!StartsWithIgnoreCase(uri, kModelsScheme)) return improper();
  std::string_view path = uri.substr(kModelsScheme.size());
  if (path.size() < 2 || path[0] != '/' || path[1] == '/') return improper();
  path.remove_prefix(1);
  if (path.find_first_of("?#") != std::string_view::npos) return improper();

  ModelsUri out;
  size_t slash = path.find('/');
  std::string_view first = path.substr(0, slash);
  std::string_view rest = slash == std::string_view::npos ? "" : path.substr(slash + 1);
  if (size_t at = first.find('@'); at != std::string_view::npos) {
    out.name = std::string(first.substr(0, at));
    out.alias = std::string(first.substr(at + 1));
    out.sub_path = std::string(rest);
    if (out.name.empty() || out.alias.empty()) return improper();
    return out;
  }
  if (slash == std::string_view::npos) {
    out.model_id = std::string(first);
    return out;
  }
  size_t next = rest.find('/');
  std::string_view selector = rest.substr(0, next);
  out.name = std::string(first);
  out.version = std::string(selector);
  if (next != std::string_view::npos) out.sub_path = std::string(rest.substr(next + 1));
  if (out.name.empty() || out.version.empty()) return improper();
  if (!IsDigits(selector) && Lower(selector) != "latest" && !ParseStage(selector).ok()) {
    return improper();
  }
  return out;
}

std::optional<std::string> ArtifactServicePath(std::string_view tenant, std::string_view location) {
  if (!StartsWithIgnoreCase(location, kArtifactServiceScheme)) return std::nullopt;
  std::string_view rest = location.substr(kArtifactServiceScheme.size());
  if (rest.substr(0, 2) == "//") return std::nullopt;  // another host's artifact service
  if (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);
  StatusOr<std::string> normalized = artifact::NormalizeArtifactPath(rest);
  if (!normalized.ok() || normalized->empty()) return std::nullopt;
  StatusOr<std::string> path = artifact::TenantStorePath(tenant, *normalized);
  if (!path.ok()) return std::nullopt;
  return std::move(path).value();
}

}  // namespace cairn::registry
