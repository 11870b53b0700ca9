#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cairn::server {

// Everything `cairn server` can be told. Each field can come from a flag (--port), an
// environment variable (CAIRN_PORT) or the YAML file named by --config / CAIRN_CONFIG (key
// `port`), in that order of precedence, else the default below.
struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 5000;
  std::string data_dir = "./cairn-data";
  // Empty means the embedded default: sqlite:///<data_dir>/meta.db.
  std::string backend_store_uri;
  // Empty means the embedded default: <data_dir>/artifacts.
  std::string artifacts_uri;
  std::string log_format = "text";  // text | json
  std::string log_level = "info";
  int threads = 0;     // blocking-work threads; 0: max(4, 2 x cores)
  int io_threads = 0;  // HTTP I/O threads; 0: cores, at least 2
  int64_t max_connections = 10000;
  int64_t max_buffered_body_bytes = int64_t{256} << 20;
  bool sqlite_synchronous_full = false;
  int64_t max_artifact_bytes = int64_t{5} << 30;
  // Empty means the embedded default: sqlite:///<data_dir>/events.db.
  std::string events_uri;
  // Serving.
  int64_t max_prediction_body_bytes = int64_t{32} << 20;
  std::string prediction_subject_header;
  int64_t prediction_log_queue = 65536;
  bool monitor = true;
  std::string role = "server";  // server | monitor
  std::string retraining_tracking_uri;
  int64_t prediction_retention_ms = 0;  // 0: keep
  int64_t webhook_max_attempts = 5;
  int64_t webhook_backoff_ms = 1000;
  // Registry (MLflow) webhooks: URL schemes allowed, and whether URLs may resolve to loopback,
  // private or link-local addresses (development and tests only).
  std::vector<std::string> registry_webhook_schemes = {"https"};
  bool registry_webhook_allow_private_ips = false;
  std::string onnxruntime_library;
  std::string python_executable;
  bool python_prestart = true;
  int64_t model_cache_bytes = int64_t{4} << 30;
  // Security.
  std::string auth = "none";  // none | token | jwt | token,jwt
  std::string jwt_issuer;
  std::string jwt_audience;  // comma-separated; empty: aud not checked
  std::string jwt_key_file;  // PEM public key/certificate or a JWKS document
  std::string jwt_hs256_secret_file;
  std::string jwt_jwks_url;
  int64_t jwt_leeway_s = 60;
  std::string jwt_principal_claim = "sub";
  std::string jwt_tenant_claim = "tenant";
  std::string jwt_roles_claim = "roles";
  double rate_limit_control = 0;  // requests/s per tenant; 0: unlimited
  double rate_limit_control_burst = 0;
  double rate_limit_predict = 0;
  double rate_limit_predict_burst = 0;
  // Empty: nothing is shared between replicas (rate limits and caches are per process).
  std::string redis_uri;
  bool audit = true;
  std::string audit_key_file;
  std::string artifact_key_file;
  std::string tls_cert;
  std::string tls_key;
  // The MLflow web UI's build folder; empty: look for the mlflow wheel's build in a .venv near
  // the binary or the working directory; "none": serve no UI.
  std::string ui_dir;
  std::string config_file;
};

// Parses `cairn server` arguments (argv[0] is "server"), the environment and the YAML file.
// On --help, fills `help` and returns an empty config with help set.
struct ParsedArgs {
  ServerConfig config;
  bool exit_now = false;  // --help was printed
  int exit_code = 0;
};
StatusOr<ParsedArgs> ParseServerArgs(const std::vector<std::string>& args);

// The items of a comma-separated option value (--jwt-audience, --artifact-key-file), empty ones
// dropped.
std::vector<std::string> SplitComma(std::string_view text);

// The configuration table (flag, env var, YAML key, default, meaning) as Markdown, for docs.
std::string ConfigTableMarkdown();

}  // namespace cairn::server
