#include "server/serve.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "api/inference/inference_handlers.h"
#include "artifact/local/local_artifact_store.h"
#include "artifact/tenant_layout.h"
#include "base/clock.h"
#include "base/logging.h"
#include "base/uri.h"
#include "http/access_log_middleware.h"
#include "http/client.h"
#include "http/metrics_middleware.h"
#include "http/request_id_middleware.h"
#include "http/server.h"
#include "http/tenant_middleware.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "metrics/metrics_registry.h"
#include "server/backends.h"
#include "server/serving_setup.h"

namespace cairn::server {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;

constexpr std::string_view kTenant = "default";
// Where the served model's files go in the default tenant's artifact space.
constexpr std::string_view kServedFolder = "0/served";
constexpr std::string_view kArtifactsApi = "/api/2.0/mlflow-artifacts/artifacts";

struct ServeOptions {
  std::string model_uri;
  std::string tracking_uri;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string name = "model";
  std::string runtime = "auto";
  std::string device = "cpu";
  int replicas = 1;
  std::string data_dir;
  std::string events_uri;
  std::string python_executable;
  std::string onnxruntime_library;
  std::string log_format = "text";
  std::string log_level = "info";
};

StatusOr<bj::value> GetJson(http::Client& client, const std::string& url) {
  ASSIGN_OR_RETURN(http::ClientResponse response, client.Send({.url = url}));
  if (response.status != 200) {
    return Unavailable("GET " + url + " answered " + std::to_string(response.status) + ": " +
                       response.body.substr(0, 300));
  }
  boost::system::error_code ec;
  bj::value parsed = bj::parse(response.body, ec);
  if (ec) return Unavailable("GET " + url + " answered invalid JSON");
  return parsed;
}

// Copies the tracking server's artifact folder `path` (relative to its proxy root) to `local`.
Status Download(http::Client& client, const std::string& base, const std::string& path,
                const fs::path& local, int depth) {
  if (depth > 32) return InvalidArgument("model folder nests too deep");
  ASSIGN_OR_RETURN(bj::value listing, GetJson(client, base + std::string(kArtifactsApi) +
                                                          "?path=" + PercentEncode(path)));
  std::error_code ec;
  fs::create_directories(local, ec);
  if (ec) return Internal("cannot create " + local.string() + ": " + ec.message());
  const bj::value* files = listing.as_object().if_contains("files");
  if (files == nullptr || !files->is_array()) return Status::Ok();
  for (const bj::value& file : files->as_array()) {
    const bj::object& info = file.as_object();
    // The artifact proxy lists names relative to the listed folder.
    std::string listed(info.at("path").as_string());
    std::string leaf = listed.substr(listed.rfind('/') + 1);
    if (leaf.empty() || leaf == "." || leaf == "..") {
      return InvalidArgument("the tracking server listed a bad file name");
    }
    const std::string child = path.empty() ? leaf : path + "/" + leaf;
    const bj::value* is_dir = info.if_contains("is_dir");
    if (is_dir != nullptr && is_dir->is_bool() && is_dir->as_bool()) {
      RETURN_IF_ERROR(Download(client, base, child, local / leaf, depth + 1));
      continue;
    }
    std::ofstream out(local / leaf, std::ios::binary | std::ios::trunc);
    http::ClientRequest request{
        .url = base + std::string(kArtifactsApi) + "/" + PercentEncode(child, /*keep_slash=*/true),
        .total_timeout = std::chrono::minutes(30)};
    request.on_body = [&out](std::string_view piece) {
      out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
      return out ? Status::Ok() : Internal("cannot write the model file");
    };
    ASSIGN_OR_RETURN(http::ClientResponse response, client.Send(request));
    if (response.status != 200) {
      return Unavailable("downloading " + child + " answered " + std::to_string(response.status));
    }
  }
  return Status::Ok();
}

// Fetches models:/name/version or models:/name@alias from the tracking server into `local`.
Status FetchRegisteredModel(const std::string& tracking_uri, std::string_view model_uri,
                            const fs::path& local) {
  if (tracking_uri.empty()) {
    return InvalidArgument("a models:/ URI needs --tracking-uri (or MLFLOW_TRACKING_URI)");
  }
  std::string base = tracking_uri;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string_view rest = model_uri.substr(std::string_view("models:/").size());
  std::string name;
  std::string version;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    name = std::string(rest.substr(0, at));
    ASSIGN_OR_RETURN(auto client, http::Client::Create());
    ASSIGN_OR_RETURN(
        bj::value alias,
        GetJson(*client, base +
                             "/api/2.0/mlflow/registered-models/alias?name=" + PercentEncode(name) +
                             "&alias=" + PercentEncode(std::string(rest.substr(at + 1)))));
    version = std::string(alias.at("model_version").at("version").as_string());
  } else if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    name = std::string(rest.substr(0, slash));
    version = std::string(rest.substr(slash + 1));
  } else {
    return InvalidArgument("model URI must be models:/<name>/<version> or models:/<name>@<alias>");
  }
  ASSIGN_OR_RETURN(auto client, http::Client::Create());
  ASSIGN_OR_RETURN(
      bj::value download,
      GetJson(*client, base + "/api/2.0/mlflow/model-versions/get-download-uri?name=" +
                           PercentEncode(name) + "&version=" + PercentEncode(version)));
  std::string artifact_uri(download.at("artifact_uri").as_string());
  ASSIGN_OR_RETURN(Uri parsed, Uri::Parse(artifact_uri));
  if (parsed.scheme != "mlflow-artifacts") {
    return InvalidArgument("model files at " + artifact_uri +
                           " are not served by the tracking server's artifact proxy");
  }
  std::string path = parsed.path;
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  spdlog::info("fetching {} v{} from {} ({})", name, version, base, artifact_uri);
  return Download(*client, base, path, local, 0);
}

// Puts `folder` into the artifact store as the one version of the served model.
Status ImportFolder(artifact::ArtifactStore& store, const fs::path& folder,
                    const std::string& prefix) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(folder, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string relative = fs::relative(it->path(), folder).generic_string();
    ASSIGN_OR_RETURN(auto writer, store.OpenWriter(prefix + "/" + relative));
    std::ifstream in(it->path(), std::ios::binary);
    std::vector<char> buffer(1 << 16);
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      if (in.gcount() > 0) {
        RETURN_IF_ERROR(writer->Append(std::string_view(buffer.data(), in.gcount())));
      }
    }
    RETURN_IF_ERROR(writer->Commit());
  }
  if (ec) return InvalidArgument("cannot read " + folder.string() + ": " + ec.message());
  return Status::Ok();
}

int Serve(const ServeOptions& options) {
  std::error_code ec;
  fs::path data = options.data_dir;
  bool temporary = false;
  if (data.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "cairn-serve-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      spdlog::error("cannot create a temporary data dir");
      return 1;
    }
    data = tmpl;
    temporary = true;
  }
  fs::create_directories(data, ec);
  data = fs::absolute(data).lexically_normal();
  auto fail = [&](const Status& status) {
    spdlog::error("cannot serve {}: {}", options.model_uri, status.ToString());
    if (temporary) fs::remove_all(data, ec);
    return 1;
  };

  fs::path folder;
  if (options.model_uri.starts_with("models:/")) {
    folder = data / "fetched";
    fs::remove_all(folder, ec);
    if (Status s = FetchRegisteredModel(options.tracking_uri, options.model_uri, folder); !s.ok()) {
      return fail(s);
    }
  } else {
    folder =
        options.model_uri.starts_with("file://") ? options.model_uri.substr(7) : options.model_uri;
    if (!fs::exists(fs::path(folder) / "MLmodel", ec)) {
      return fail(NotFound("no MLmodel file in " + folder.string()));
    }
  }

  auto stores = metadata::OpenSqliteMetadataStores(":memory:");
  if (!stores.ok()) return fail(stores.status());
  auto artifacts = artifact::LocalArtifactStore::Open(data / "artifacts");
  if (!artifacts.ok()) return fail(artifacts.status());
  auto prefix = artifact::TenantStorePath(kTenant, kServedFolder);
  if (!prefix.ok()) return fail(prefix.status());
  if (Status s = ImportFolder(**artifacts, folder, *prefix); !s.ok()) {
    return fail(s);
  }
  const int64_t now = SystemClock::Get().NowMillis();
  auto registered = stores->registry->CreateRegisteredModel(kTenant, options.name, "", {}, "", now);
  if (!registered.ok()) return fail(registered.status());
  metadata::CreateModelVersionRequest version{
      .name = options.name,
      .source = options.model_uri,
      .storage_location = "mlflow-artifacts:/" + std::string(kServedFolder)};
  if (auto created = stores->registry->CreateModelVersion(kTenant, version, now); !created.ok()) {
    return fail(created.status());
  }

  metrics::MetricsRegistry metrics;
  stream::EventStreamRegistry event_registry;
  if (Status s = RegisterEventStreamBackends(event_registry, &metrics); !s.ok()) return fail(s);
  std::string events_uri = options.events_uri.empty() ? "sqlite:///" + (data / "events.db").string()
                                                      : options.events_uri;
  auto events = stream::CreateEventStream(event_registry, events_uri);
  if (!events.ok()) return fail(events.status());
  stream::PredictionLogger logger(**events, {.metrics = &metrics});

  ServerConfig config;
  config.data_dir = data.string();
  config.python_executable = options.python_executable;
  config.python_prestart = false;  // the one deployment below starts what it needs
  config.onnxruntime_library = options.onnxruntime_library;
  auto service = StartServing(config, *stores, **artifacts, metrics);
  if (!service.ok()) return fail(service.status());
  bj::object body;
  body["model_name"] = options.name;
  body["version"] = "1";
  body["name"] = options.name;
  body["runtime"] = options.runtime;
  body["device"] = options.device;
  body["deployment_config"] = bj::object{{"replicas", options.replicas}};
  RequestScope scope = RequestScope::ForTenant(std::string(kTenant));
  if (auto created = (*service)->Create(scope, bj::serialize(body)); !created.ok()) {
    return fail(created.status());
  }

  http::Router router;
  api::inference::InferenceHandlers inference(**service, &logger, {});
  inference.Register(router);
  inference.RegisterSingleModel(router, options.name);
  http::AddMetricsRoute(router, metrics);
  http::RequestIdMiddleware request_id;
  http::TenantMiddleware tenant;
  http::MetricsMiddleware metrics_middleware(metrics);
  http::AccessLogMiddleware access_log;
  http::ServerOptions server_options;
  server_options.host = options.host;
  server_options.port = static_cast<uint16_t>(options.port);
  http::HttpServer http(server_options, router,
                        {&request_id, &tenant, &metrics_middleware, &access_log});
  auto port = http.Start();
  if (!port.ok()) return fail(port.status());
  spdlog::info("serving {} as '{}' on http://{}:{} (/invocations, /v2/models/{}/infer)",
               options.model_uri, options.name, options.host, *port, options.name);
  http.WaitForSignal();
  service->reset();
  logger.Shutdown();
  if (temporary) fs::remove_all(data, ec);
  spdlog::info("cairn serve stopped");
  return 0;
}

}  // namespace

int ServeMain(const std::vector<std::string>& args) {
  CLI::App app{"cairn serve: serve one MLflow model over /invocations and the V2 protocol",
               "cairn serve"};
  ServeOptions options;
  if (const char* env = std::getenv("MLFLOW_TRACKING_URI")) options.tracking_uri = env;
  options.port = 8080;
  if (const char* env = std::getenv("PORT")) options.port = std::atoi(env);
  if (const char* env = std::getenv("CAIRN_PYTHON")) options.python_executable = env;
  app.add_option("-m,--model-uri", options.model_uri,
                 "models:/<name>/<version>, models:/<name>@<alias> or a local model folder")
      ->required();
  app.add_option("--tracking-uri", options.tracking_uri,
                 "tracking server for models:/ URIs [env MLFLOW_TRACKING_URI]");
  app.add_option("--host", options.host, "address to listen on (default 127.0.0.1)");
  app.add_option("-p,--port", options.port, "port (default $PORT, else 8080)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--name", options.name, "model name in the V2 routes (default model)");
  app.add_option("--runtime", options.runtime, "auto, onnx or python")
      ->check(CLI::IsMember({"auto", "onnx", "python"}));
  app.add_option("--device", options.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--replicas", options.replicas, "model instances (default 1)")
      ->check(CLI::Range(1, 64));
  app.add_option("--data-dir", options.data_dir,
                 "where fetched files and the prediction log go (default: a temporary folder)");
  app.add_option("--events-uri", options.events_uri,
                 "prediction log (default sqlite:///<data-dir>/events.db)");
  app.add_option("--python-executable", options.python_executable,
                 "interpreter of the Python model workers [env CAIRN_PYTHON]");
  app.add_option("--onnxruntime-library", options.onnxruntime_library,
                 "libonnxruntime.so (e.g. onnxruntime-gpu's for --device cuda)");
  app.add_option("--log-format", options.log_format, "text or json");
  app.add_option("--log-level", options.log_level, "trace, debug, info, warn or error");
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty()) reversed.pop_back();  // "serve"
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", app.help().c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "cairn serve: %s\n", e.what());
    return 2;
  }
  auto format = ParseLogFormat(options.log_format);
  if (!format.ok() || !InitLogging(*format, options.log_level).ok()) {
    std::fprintf(stderr, "cairn serve: bad --log-format or --log-level\n");
    return 2;
  }
  if (options.name.empty() || !serving::ValidateEndpointName(options.name).ok()) {
    std::fprintf(stderr, "cairn serve: --name must be a DNS label ([a-z0-9-], from a letter)\n");
    return 2;
  }
  return Serve(options);
}

}  // namespace cairn::server
