#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/python_json.h"
#include "base/status.h"
#include "metadata/registry_types.h"
#include "metadata/types.h"

// The model registry's rules that need no stored state: MLflow's validation of names, aliases,
// tags, versions, stages and version sources, and the parsing of models:/ URIs. Used by
// RegistryService; kept apart so each can be tested and reused alone.
namespace cairn::registry {

inline constexpr std::string_view kModelsScheme = "models:";
inline constexpr std::string_view kRunsScheme = "runs:";
inline constexpr std::string_view kArtifactServiceScheme = "mlflow-artifacts:";

inline constexpr size_t kMaxModelNameLength = 256;
inline constexpr size_t kMaxRegistryTagKeyLength = 250;
inline constexpr size_t kMaxRegistryTagValueLength = 100000;
inline constexpr size_t kMaxAliasLength = 255;
inline constexpr int64_t kMaxSearchRegisteredModelsResults = 1000;
inline constexpr int64_t kMaxSearchModelVersionsResults = 200000;

// Parses a stage name case-insensitively ("production" -> kProduction). INVALID_ARGUMENT
// "Invalid Model Version stage: X. Value must be one of None, Staging, Production, Archived."
StatusOr<metadata::ModelStage> ParseStage(std::string_view text);
std::string_view StageName(metadata::ModelStage stage);  // "None", "Staging", ...
// Aliases: [A-Za-z0-9_-]{1,255}; "latest" (any case) and "v<digits>" are reserved.
Status ValidateAlias(std::string_view alias);
// A version number given as a string ("3"); INVALID_ARGUMENT otherwise.
StatusOr<int64_t> ParseVersion(std::string_view text);
// A registered model name: non-empty, at most kMaxModelNameLength bytes. `field` names the
// request parameter in messages ("name", "new_name").
Status ValidateModelName(std::string_view name, std::string_view field = "name");
// A name for a new or renamed model: also free of '/' and ':', which models:/ URIs cannot
// carry (MLflow rejects them the same way).
Status ValidateNewModelName(std::string_view name, std::string_view field = "name");
// A registered model or model version tag: key as for run tags (at most 250 characters of
// [A-Za-z0-9_-. /:], its own normalised path), value at most kMaxRegistryTagValueLength.
Status ValidateRegistryTag(const metadata::Tag& tag);

// ---- Model version sources (pure helpers, exposed for tests) ----

// True for a source naming a file on the server's disk: no scheme ("/data/model",
// "relative/dir") or the file: scheme.
bool IsLocalSource(std::string_view source);
// Rejects a non-local source that could step outside where it points: after percent-decoding
// until nothing changes ('+' counts as a space), no NUL and no "." or ".." segment (split on '/'
// and '\'). Catches "%2e%2e", "%252e%252e", "a%2f..%2fb" and the like. INVALID_ARGUMENT.
Status CheckSourceHasNoTraversal(std::string_view source);
// A local source is accepted only when `artifact_root` (a run's or logged model's artifact URI)
// is local too and the source, normalised, lies inside it. INVALID_ARGUMENT otherwise, naming
// `id_name` ("run_id" or "model_id") as the request parameter that must identify the root.
Status CheckLocalSourceInside(std::string_view source, std::string_view artifact_root,
                              std::string_view id_name = "run_id");
// The authority of a URI ("host:port" in "scheme://host:port/path"), "" when it has none.
std::string AuthorityOf(std::string_view uri);
// MLflow's INVALID_PARAMETER_VALUE for a source that the request's `id_name` ("run_id" or
// "model_id") does not identify.
Status InvalidSourceFor(std::string_view source, std::string_view id_name);

// A `models:/` URI as the registry resolves it.
struct ModelsUri {
  std::string model_id;  // set for models:/<model_id>
  std::string name;      // set for the registered-model forms
  std::string version;   // digits, a stage name, or "latest" (with name)
  std::string alias;     // models:/<name>@<alias>
  std::string sub_path;  // anything after the version or alias, without a leading '/'
};
// Parses `models:/<model_id>`, `models:/<name>/<version|stage|latest>[/<path>]` and
// `models:/<name>@<alias>[/<path>]`. INVALID_ARGUMENT for anything else.
StatusOr<ModelsUri> ParseModelsUri(std::string_view uri);

// Where `location` lives in Cairn's artifact service, as a path for artifact::ArtifactStore:
// `mlflow-artifacts:/<p>` (no authority) gives <p> normalised in the tenant's space
// (artifact::TenantStorePath: <p> for the default tenant, "<tenant>/<p>" for the others).
// nullopt for every other location (other schemes, another host's artifact service, unsafe or
// empty paths, names reserved for tenant folders), whose files Cairn does not own.
std::optional<std::string> ArtifactServicePath(std::string_view tenant, std::string_view location);

// Python's json.dumps (base/python_json.h), for values MLflow stores as JSON text such as
// `mlflow.modelVersions`, and for webhook payloads.
using json::PythonJsonDumps;

// ASCII lower case.
std::string Lower(std::string_view s);
// True when `s` starts with `prefix` (given in lower case), ignoring ASCII case.
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);
// True for a non-empty string of decimal digits.
bool IsDigits(std::string_view s);
// The scheme of a URI ("" for none): letters, digits, '+', '-', '.' before the first ':',
// starting with a letter. A one-letter scheme is a Windows drive, which counts as none.
std::string SchemeOf(std::string_view uri);
// MLflow's INVALID_PARAMETER_VALUE for a local source outside the artifact directory of the run
// (`id_name` "run_id") or logged model ("model_id") the request names.
Status InvalidLocalSource(std::string_view source, std::string_view id_name = "run_id");

}  // namespace cairn::registry
