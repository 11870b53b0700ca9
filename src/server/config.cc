#include "server/config.h"

#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>

#include "monitor/drift_config.h"
#include "redis/redis_uri.h"

namespace cairn::server {
namespace {

struct OptionSpec {
  std::string name;  // flag --name, YAML key name with '-' as '_', env CAIRN_NAME
  std::string default_text;
  std::string help;
  std::function<Status(ServerConfig&, const std::string&)> apply;
};

bool IsBoolean(const OptionSpec& spec) {
  return spec.default_text == "false" || spec.default_text == "true";
}

std::string EnvName(const std::string& name) {
  std::string env = "CAIRN_";
  for (char c : name) env += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return env;
}

std::string YamlKey(const std::string& name) {
  std::string key = name;
  for (char& c : key) c = c == '-' ? '_' : c;
  return key;
}

template <typename Int>
Status ParseInt(const std::string& text, const std::string& name, Int min, Int max, Int& out) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) {
    return InvalidArgument("invalid value '" + text + "' for " + name +
                           ": expected an integer in [" + std::to_string(min) + ", " +
                           std::to_string(max) + "]");
  }
  out = static_cast<Int>(v);
  return Status::Ok();
}

// "RATE" or "RATE:BURST" (requests per second, bucket size).
Status ParseRate(const std::string& text, const std::string& name, double& rate, double& burst) {
  auto parse = [](std::string_view part, double& out) {
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc() && ptr == part.data() + part.size() && out >= 0 && out <= 1e9;
  };
  std::string_view view(text);
  size_t colon = view.find(':');
  double r = 0;
  double b = 0;
  bool ok = parse(view.substr(0, colon), r);
  if (ok && colon != std::string_view::npos) ok = parse(view.substr(colon + 1), b);
  if (!ok) {
    return InvalidArgument("invalid value '" + text + "' for " + name +
                           ": expected RATE or RATE:BURST (requests per second, 0: unlimited)");
  }
  rate = r;
  burst = colon == std::string_view::npos ? r : b;
  return Status::Ok();
}

// "http" and/or "private-ips", comma-separated; "" allows neither.
Status ParseWebhookAllow(const std::string& text, std::vector<std::string>& schemes,
                         bool& private_ips) {
  schemes = {"https"};
  private_ips = false;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item == "http") {
      schemes = {"http", "https"};
    } else if (item == "private-ips") {
      private_ips = true;
    } else {
      return InvalidArgument("registry-webhook-allow takes http and/or private-ips, not '" + item +
                             "'");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return Status::Ok();
}

Status ParseBool(const std::string& text, const std::string& name, bool& out) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") {
    out = true;
  } else if (text == "false" || text == "0" || text == "no" || text == "off") {
    out = false;
  } else {
    return InvalidArgument("invalid value '" + text + "' for " + name + ": expected true/false");
  }
  return Status::Ok();
}

const std::vector<OptionSpec>& Specs() {
  static const auto* specs =
      new std::vector<OptionSpec>{
          {"host", "127.0.0.1", "address to listen on",
           [](ServerConfig& c, const std::string& v) {
             c.host = v;
             return Status::Ok();
           }},
          {"port", "5000", "TCP port (0 picks a free one)",
           [](ServerConfig& c, const std::string& v) {
             return ParseInt<uint16_t>(v, "port", 0, 65535, c.port);
           }},
          {"data-dir", "./cairn-data", "folder for the embedded stores",
           [](ServerConfig& c, const std::string& v) {
             c.data_dir = v;
             return Status::Ok();
           }},
          {"backend-store-uri", "sqlite:///<data-dir>/meta.db", "metadata store URI",
           [](ServerConfig& c, const std::string& v) {
             c.backend_store_uri = v;
             return Status::Ok();
           }},
          {"artifacts-uri", "<data-dir>/artifacts", "artifact store URI or folder",
           [](ServerConfig& c, const std::string& v) {
             c.artifacts_uri = v;
             return Status::Ok();
           }},
          {"log-format", "text", "log format: text or json",
           [](ServerConfig& c, const std::string& v) {
             if (v != "text" && v != "json")
               return InvalidArgument("log-format must be text or json");
             c.log_format = v;
             return Status::Ok();
           }},
          {"log-level", "info", "trace, debug, info, warn, error or off",
           [](ServerConfig& c, const std::string& v) {
             c.log_level = v;
             return Status::Ok();
           }},
          {"threads", "0",
           "threads for blocking work: store writes, uploads (0: max(4, 2 x cores))",
           [](ServerConfig& c, const std::string& v) {
             return ParseInt<int>(v, "threads", 0, 1024, c.threads);
           }},
          {"io-threads", "0", "HTTP I/O threads (0: cores, at least 2)",
           [](ServerConfig& c, const std::string& v) {
             return ParseInt<int>(v, "io-threads", 0, 256, c.io_threads);
           }},
          {"max-connections", "10000",
           "open connections at most (at the cap the longest idle one is closed)",
           [](ServerConfig& c, const std::string& v) {
             return ParseInt<int64_t>(v, "max-connections", 1, 1'000'000, c.max_connections);
           }},
          {"max-buffered-body-bytes", "268435456",
           "request bodies held in memory at once, all connections together (503 beyond)",
           [](ServerConfig& c, const std::string& v) {
             return ParseInt<int64_t>(v, "max-buffered-body-bytes", 1 << 20, int64_t{1} << 40,
                                      c.max_buffered_body_bytes);
           }},
          {"sqlite-synchronous-full", "false",
           "fsync SQLite on every commit (survives power loss, not just a crash); an error with a "
           "sqlite backend URI's ?synchronous=normal",
           [](ServerConfig& c, const std::string& v) {
             return ParseBool(v, "sqlite-synchronous-full", c.sqlite_synchronous_full);
           }},
          {"max-artifact-bytes", "5368709120", "largest accepted artifact upload",
           [](ServerConfig& c, const std::string& v) {
             return ParseInt<int64_t>(v, "max-artifact-bytes", 1, int64_t{1} << 50,
                                      c.max_artifact_bytes);
           }},
          {"onnxruntime-library", "",
           "libonnxruntime.so to serve ONNX models with (empty: the one scripts/install.sh "
           "fetched); point it at onnxruntime-gpu's library for device cuda",
           [](ServerConfig& c, const std::string& v) {
             c.onnxruntime_library = v;
             return Status::Ok();
           }},
          {"events-uri", "sqlite:///<data-dir>/events.db",
           "event stream URI (predictions, labels, alerts)",
           [](ServerConfig& c, const std::string& v) {
             c.events_uri = v;
             return Status::Ok();
           }},
          {"max-prediction-body-bytes", "33554432",
           "largest accepted prediction request (413 beyond)",
           [](ServerConfig& c, const std::string& v) {
             return ParseInt<int64_t>(v, "max-prediction-body-bytes", 1024, int64_t{1} << 32,
                                      c.max_prediction_body_bytes);
           }},
          {"prediction-subject-header", "",
           "request header whose value is logged as a prediction's subject id (for erasure)",
           [](ServerConfig& c, const std::string& v) {
             c.prediction_subject_header = v;
             return Status::Ok();
           }},
          {"prediction-log-queue", "65536",
           "predictions waiting to be written to the event stream; beyond it they are dropped and "
           "counted (or wait, for deployments with backpressure)",
           [](ServerConfig& c, const std::string& v) {
             return ParseInt<int64_t>(v, "prediction-log-queue", 1, int64_t{1} << 24,
                                      c.prediction_log_queue);
           }},
          {"monitor", "true",
           "run the model monitor in this process (drift windows, alerts, retraining)",
           [](ServerConfig& c, const std::string& v) {
             return ParseBool(v, "monitor", c.monitor);
           }},
          {"role", "server",
           "server: the whole API; monitor: a monitor worker (`cairn monitor worker`), which "
           "consumes the prediction log (on Kafka, sharing its partitions with the other "
           "monitors) and answers only /health and /metrics",
           [](ServerConfig& c, const std::string& v) {
             if (v != "server" && v != "monitor") {
               return InvalidArgument("role must be server or monitor, not '" + v + "'");
             }
             c.role = v;
             return Status::Ok();
           }},
          {"retraining-tracking-uri", "",
           "the tracking URI retraining commands get (MLFLOW_TRACKING_URI); empty: this "
           "process's own address (a monitor worker serves no API: give a server's)",
           [](ServerConfig& c, const std::string& v) {
             c.retraining_tracking_uri = v;
             return Status::Ok();
           }},
          {"prediction-retention", "0",
           "delete logged predictions and their labels older than this (e.g. 30d, 12h); 0 keeps "
           "them",
           [](ServerConfig& c, const std::string& v) {
             auto parsed = monitor::ParseDuration(v);
             if (!parsed.ok()) {
               return InvalidArgument("prediction-retention must be a duration such as 30d or 12h");
             }
             c.prediction_retention_ms = parsed->count();
             return Status::Ok();
           }},
          {"webhook-max-attempts", "5",
           "tries per alert webhook delivery before it is recorded as a dead letter",
           [](ServerConfig& c, const std::string& v) {
             return ParseInt<int64_t>(v, "webhook-max-attempts", 1, 100, c.webhook_max_attempts);
           }},
          {"webhook-backoff-ms", "1000",
           "wait before the first webhook retry; doubled after each (with jitter, at most 60 s)",
           [](ServerConfig& c, const std::string& v) {
             return ParseInt<int64_t>(v, "webhook-backoff-ms", 1, 600'000, c.webhook_backoff_ms);
           }},
          {"registry-webhook-allow", "",
           "relax the registry webhook URL check, comma-separated: http (plain http URLs), "
           "private-ips (hosts on loopback, private and link-local addresses); for development",
           [](ServerConfig& c, const std::string& v) {
             return ParseWebhookAllow(v, c.registry_webhook_schemes,
                                      c.registry_webhook_allow_private_ips);
           }},
          {"python-executable", "",
           "Python interpreter of the model workers, with mlflow installed (empty: $CAIRN_PYTHON, "
           "else python3 on PATH)",
           [](ServerConfig& c, const std::string& v) {
             c.python_executable = v;
             return Status::Ok();
           }},
          {"python-prestart", "true",
           "start the Python model workers (a spare one with mlflow imported) at server start; "
           "false starts them on the first Python deployment",
           [](ServerConfig& c, const std::string& v) {
             return ParseBool(v, "python-prestart", c.python_prestart);
           }},
          {"model-cache-bytes", "4294967296",
           "memory budget of loaded models; idle ones beyond it are unloaded, least recently used "
           "first",
           [](ServerConfig& c, const std::string& v) {
             return ParseInt<int64_t>(v, "model-cache-bytes", 0, int64_t{1} << 50,
                                      c.model_cache_bytes);
           }},
          {"auth", "none",
           "who may call: none (anyone, tenant from the workspace header), token (API tokens), "
           "jwt, "
           "or token,jwt",
           [](ServerConfig& c, const std::string& v) {
             if (v != "none" && v != "token" && v != "jwt" && v != "token,jwt" &&
                 v != "jwt,token") {
               return InvalidArgument("auth must be none, token, jwt or token,jwt");
             }
             c.auth = v;
             return Status::Ok();
           }},
          {"jwt-issuer", "", "JWTs must carry this iss (empty: not checked)",
           [](ServerConfig& c, const std::string& v) {
             c.jwt_issuer = v;
             return Status::Ok();
           }},
          {"jwt-audience", "", "JWTs must name one of these (comma-separated) in aud",
           [](ServerConfig& c, const std::string& v) {
             c.jwt_audience = v;
             return Status::Ok();
           }},
          {"jwt-key-file", "",
           "JWT verification keys: a PEM public key or certificate, or a JWKS file",
           [](ServerConfig& c, const std::string& v) {
             c.jwt_key_file = v;
             return Status::Ok();
           }},
          {"jwt-hs256-secret-file", "", "file holding the HS256 shared secret of JWTs",
           [](ServerConfig& c, const std::string& v) {
             c.jwt_hs256_secret_file = v;
             return Status::Ok();
           }},
          {"jwt-jwks-url", "", "JWKS URL of the identity provider (fetched, cached, refreshed)",
           [](ServerConfig& c, const std::string& v) {
             c.jwt_jwks_url = v;
             return Status::Ok();
           }},
          {"jwt-leeway-s", "60", "clock skew allowed on exp and nbf, in seconds",
           [](ServerConfig& c, const std::string& v) {
             return ParseInt<int64_t>(v, "jwt-leeway-s", 0, 600, c.jwt_leeway_s);
           }},
          {"jwt-principal-claim", "sub", "JWT claim naming the caller",
           [](ServerConfig& c, const std::string& v) {
             c.jwt_principal_claim = v;
             return Status::Ok();
           }},
          {"jwt-tenant-claim", "tenant", "JWT claim with the caller's tenant(s) (a dotted path)",
           [](ServerConfig& c, const std::string& v) {
             c.jwt_tenant_claim = v;
             return Status::Ok();
           }},
          {"jwt-roles-claim", "roles", "JWT claim with the caller's roles (a dotted path)",
           [](ServerConfig& c, const std::string& v) {
             c.jwt_roles_claim = v;
             return Status::Ok();
           }},
          {"rate-limit-control", "0",
           "default control-plane budget per tenant: RATE[:BURST] requests/s (0: unlimited)",
           [](ServerConfig& c, const std::string& v) {
             return ParseRate(v, "rate-limit-control", c.rate_limit_control,
                              c.rate_limit_control_burst);
           }},
          {"rate-limit-predict", "0",
           "default prediction budget per tenant: RATE[:BURST] requests/s (0: unlimited)",
           [](ServerConfig& c, const std::string& v) {
             return ParseRate(v, "rate-limit-predict", c.rate_limit_predict,
                              c.rate_limit_predict_burst);
           }},
          {"redis-uri", "",
           "Redis shared by the replicas: redis://[:password@]host:port[/db]; rate-limit buckets, "
           "the verified-token cache and deployment-change notifications go through it (empty: "
           "in-process only)",
           [](ServerConfig& c, const std::string& v) {
             if (!v.empty()) RETURN_IF_ERROR(redis::RedisUri::Parse(v).status());
             c.redis_uri = v;
             return Status::Ok();
           }},
          {"audit", "true",
           "keep the hash-chained audit log of mutations, authentication failures and denials",
           [](ServerConfig& c, const std::string& v) { return ParseBool(v, "audit", c.audit); }},
          {"audit-key-file", "",
           "file with a secret that keys the audit log's hash chain (HMAC), so only its holder can "
           "rewrite it",
           [](ServerConfig& c, const std::string& v) {
             c.audit_key_file = v;
             return Status::Ok();
           }},
          {"artifact-key-file", "",
           "master key file (32 bytes as 64 hex digits): artifacts are stored encrypted "
           "(AES-256-GCM); $CAIRN_ARTIFACT_KEY may hold the key instead",
           [](ServerConfig& c, const std::string& v) {
             c.artifact_key_file = v;
             return Status::Ok();
           }},
          {"tls-cert", "", "PEM certificate chain: serve HTTPS (with --tls-key)",
           [](ServerConfig& c, const std::string& v) {
             c.tls_cert = v;
             return Status::Ok();
           }},
          {"tls-key", "", "PEM private key of --tls-cert",
           [](ServerConfig& c, const std::string& v) {
             c.tls_key = v;
             return Status::Ok();
           }},
          {"ui-dir", "",
           "the MLflow web UI's build folder (mlflow/server/js/build); empty: the mlflow package's "
           "in a .venv near the binary or the working directory; none: no UI",
           [](ServerConfig& c, const std::string& v) {
             c.ui_dir = v;
             return Status::Ok();
           }},
      };
  return *specs;
}

StatusOr<std::map<std::string, std::string>> LoadYaml(const std::string& path) {
  std::map<std::string, std::string> out;
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (!root.IsMap()) return InvalidArgument("config file " + path + " must be a YAML mapping");
    for (const auto& kv : root) {
      if (!kv.second.IsScalar()) {
        return InvalidArgument("config key '" + kv.first.as<std::string>() +
                               "' must have a scalar value");
      }
      out[kv.first.as<std::string>()] = kv.second.as<std::string>();
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgument("cannot read config file " + path + ": " + e.what());
  }
  for (const auto& [key, unused] : out) {
    bool known = false;
    for (const auto& spec : Specs()) known = known || YamlKey(spec.name) == key;
    if (!known) {
      std::string message = "unknown key '";
      message += key;
      message += "' in config file ";
      message += path;
      return InvalidArgument(std::move(message));
    }
  }
  return out;
}

}  // namespace

StatusOr<ParsedArgs> ParseServerArgs(const std::vector<std::string>& args) {
  CLI::App app{"cairn server: run the Cairn server", "cairn server"};
  std::map<std::string, std::string> flag_values;
  for (const auto& spec : Specs()) {
    CLI::Option* option = app.add_option(
        "--" + spec.name, flag_values[spec.name],
        spec.help + " [env " + EnvName(spec.name) + ", default " + spec.default_text + "]");
    // A boolean may be given bare (--flag) or with a value (--flag=false, --flag true).
    if (IsBoolean(spec)) option->expected(0, 1);
  }
  std::string config_file;
  app.add_option("--config", config_file, "YAML configuration file [env CAIRN_CONFIG]");

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty()) reversed.pop_back();  // "server"
  ParsedArgs parsed;
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", app.help().c_str());
    parsed.exit_now = true;
    return parsed;
  } catch (const CLI::ParseError& e) {
    return InvalidArgument(e.what());
  }

  if (config_file.empty()) {
    if (const char* env = std::getenv("CAIRN_CONFIG")) config_file = env;
  }
  std::map<std::string, std::string> yaml;
  if (!config_file.empty()) {
    ASSIGN_OR_RETURN(yaml, LoadYaml(config_file));
  }
  ServerConfig& config = parsed.config;
  config.config_file = config_file;
  for (const auto& spec : Specs()) {
    std::optional<std::string> value;
    if (app.count("--" + spec.name) > 0) {
      value = flag_values[spec.name];
      if (value->empty() && IsBoolean(spec)) value = "true";
    } else if (const char* env = std::getenv(EnvName(spec.name).c_str())) {
      value = env;
    } else if (auto it = yaml.find(YamlKey(spec.name)); it != yaml.end()) {
      value = it->second;
    }
    if (value) RETURN_IF_ERROR(spec.apply(config, *value));
  }
  return parsed;
}

std::vector<std::string> SplitComma(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string ConfigTableMarkdown() {
  std::string out =
      "| flag | environment | YAML key | default | meaning |\n|---|---|---|---|---|\n";
  for (const auto& spec : Specs()) {
    out += "| `--" + spec.name + "` | `" + EnvName(spec.name) + "` | `" + YamlKey(spec.name) +
           "` | `" + spec.default_text + "` | " + spec.help + " |\n";
  }
  out += "| `--config` | `CAIRN_CONFIG` | | | YAML file with any of the keys above |\n";
  return out;
}

}  // namespace cairn::server
