#include "api/mlflow/ui_handlers.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "api/mlflow/route_call.h"
#include "api/mlflow/span_codec.h"
#include "artifact/artifact_store.h"
#include "base/json.h"
#include "http/error_response.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

constexpr uint64_t kMaxUploadBytes = 10 * 1024 * 1024;  // MLflow's upload-artifact limit
constexpr int kMaxDatasetSummaries = 1000;              // MLflow's search-datasets limit
constexpr int kMaxSearchDatasetExperiments = 20;

// A file of the UI build, read as it is sent.
class FileBodySource : public http::BodySource {
 public:
  FileBodySource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  ~FileBodySource() override { ::close(fd_); }
  FileBodySource(const FileBodySource&) = delete;
  FileBodySource& operator=(const FileBodySource&) = delete;

  StatusOr<size_t> Read(char* buffer, size_t capacity) override {
    ssize_t n = ::read(fd_, buffer, capacity);
    if (n < 0) return Internal("cannot read a UI file");
    return static_cast<size_t>(n);
  }
  std::optional<uint64_t> Size() const override { return size_; }

 private:
  int fd_;
  uint64_t size_;
};

std::string_view StaticContentType(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes = {{
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".html", "text/html; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/vnd.microsoft.icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
  }};
  for (const auto& [ext, type] : kTypes) {
    if (name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext) return type;
  }
  return "application/octet-stream";
}

http::Response MlflowError(StatusCode code, std::string message) {
  return http::ErrorResponse(Status(code, std::move(message)));
}

std::optional<std::string> Param(const http::Request& request, std::string_view name) {
  std::optional<std::string> value = request.QueryParam(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

const bj::value* Path(const bj::object& root, std::initializer_list<std::string_view> keys) {
  const bj::value* at = nullptr;
  const bj::object* object = &root;
  for (std::string_view key : keys) {
    if (object == nullptr) return nullptr;
    at = object->if_contains(key);
    if (at == nullptr) return nullptr;
    object = at->if_object();
  }
  return at;
}

std::string StringAt(const bj::object& root, std::initializer_list<std::string_view> keys) {
  const bj::value* v = Path(root, keys);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

http::Response JsonConstant(std::string_view body) {
  return http::Response::Json(200, std::string(body));
}

}  // namespace

UiHandlers::UiHandlers(const http::Router& router, ArtifactHandlers& artifacts,
                       std::optional<fs::path> ui_dir)
    : router_(router), artifacts_(artifacts) {
  if (ui_dir) {
    std::error_code ec;
    fs::path canonical = fs::canonical(*ui_dir, ec);
    if (!ec) ui_dir_ = std::move(canonical);
  }
}

std::optional<fs::path> UiHandlers::FindUiBuild(const fs::path& start) {
  std::error_code ec;
  fs::path dir = fs::absolute(start, ec);
  if (ec) return std::nullopt;
  while (true) {
    std::error_code probe;  // a missing folder is not an error here: look further up
    fs::path lib = dir / ".venv" / "lib";
    if (fs::is_directory(lib, probe)) {
      for (const fs::directory_entry& python : fs::directory_iterator(lib, probe)) {
        fs::path build = python.path() / "site-packages" / "mlflow" / "server" / "js" / "build";
        if (fs::is_regular_file(build / "index.html", probe)) return build;
      }
    }
    if (dir == dir.parent_path()) return std::nullopt;
    dir = dir.parent_path();
  }
}

void UiHandlers::Register(http::Router& router) {
  using M = http::Method;
  const http::RouteOptions pub{.run_inline = false, .permission = http::Permission::kPublic};
  const http::RouteOptions inline_pub{.run_inline = true, .permission = http::Permission::kPublic};
  const http::RouteOptions read{.permission = http::Permission::kRead};
  router.Add(
      M::kGet, "/", [this](http::Request&) { return StaticFile("index.html", false); }, pub);
  router.Add(
      M::kGet, "/static-files/{path...}",
      [this](http::Request& r) { return StaticFile(r.PathParam("path"), true); }, pub);

  router.Add(
      M::kGet, "/get-artifact", [this](http::Request& r) { return GetArtifact(r); }, read);
  router.Add(
      M::kGet, "/model-versions/get-artifact",
      [this](http::Request& r) { return GetModelVersionArtifact(r); }, read);
  router.Add(
      M::kGet, "/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files",
      [this](http::Request& r) { return GetLoggedModelArtifact(r); }, read);
  for (const char* version : {"2.0", "3.0"}) {
    router.Add(
        M::kGet, std::string("/ajax-api/") + version + "/mlflow/get-trace-artifact",
        [this](http::Request& r) { return GetTraceArtifact(r); }, read);
  }
  router.Add(
      M::kPost, "/ajax-api/2.0/mlflow/upload-artifact",
      [this](http::Request& r) { return UploadArtifact(r); },
      http::RouteOptions{.max_body_bytes = kMaxUploadBytes,
                         .permission = http::Permission::kWrite});
  router.Add(
      M::kPost, "/ajax-api/2.0/mlflow/experiments/search-datasets",
      [this](http::Request& r) { return SearchDatasets(r); }, read);

  // Telemetry, the assistant and the AI gateway: off, in the reference server's words.
  router.Add(
      M::kGet, "/ajax-api/3.0/mlflow/ui-telemetry",
      [](http::Request&) {
        return JsonConstant(
            R"({"disable_ui_events":[],"disable_ui_telemetry":true,"ui_rollout_percentage":0})");
      },
      inline_pub);
  router.Add(
      M::kPost, "/ajax-api/3.0/mlflow/ui-telemetry",
      [](http::Request&) { return JsonConstant(R"({"status":"disabled"})"); }, inline_pub);
  router.Add(
      M::kGet, "/ajax-api/3.0/mlflow/assistant/config",
      [](http::Request&) {
        return JsonConstant(R"({"providers":{},"projects":{},"remote_access_allowed":false})");
      },
      inline_pub);
  router.Add(
      M::kGet, "/ajax-api/3.0/mlflow/assistant/providers",
      [](http::Request&) {
        return JsonConstant(
            R"({"providers":[],"resolved":{"name":null,"model":null,"auto_selected":false,)"
            R"("requires_api_key":false,"has_api_key":false,"client_tool_delivery":"tool",)"
            R"("model_provider":null,"model_options":[],"provider_model":null},)"
            R"("gateway_vendor_options":{}})");
      },
      inline_pub);
  router.Add(
      M::kGet, "/ajax-api/2.0/mlflow/gateway-proxy",
      [](http::Request& r) {
        std::string path = r.QueryParam("gateway_path").value_or("");
        if (path.rfind("api/2.0/endpoints", 0) == 0) return JsonConstant(R"({"endpoints":[]})");
        return MlflowError(StatusCode::kNotFound, "The AI gateway is not available on this server");
      },
      http::RouteOptions{.run_inline = true, .permission = http::Permission::kRead});
}

http::Response UiHandlers::StaticFile(std::string_view relative, bool immutable) const {
  if (!ui_dir_) {
    return http::Response::Text(
        404,
        "The MLflow web UI is not available on this server: start it with --ui-dir pointing at "
        "the UI build (mlflow/server/js/build in an environment with the mlflow package).\n");
  }
  auto normalized = artifact::NormalizeArtifactPath(relative);
  if (!normalized.ok() || normalized->empty()) return http::Response::Text(404, "Not Found\n");
  std::error_code ec;
  fs::path file = fs::canonical(*ui_dir_ / *normalized, ec);
  // Symbolic links inside the build may not lead outside it.
  auto [root_end, file_it] =
      std::mismatch(ui_dir_->begin(), ui_dir_->end(), file.begin(), file.end());
  if (ec || root_end != ui_dir_->end() || !fs::is_regular_file(file, ec)) {
    return http::Response::Text(404, "Not Found\n");
  }
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return http::Response::Text(404, "Not Found\n");
  uint64_t size = fs::file_size(file, ec);
  if (ec) {
    ::close(fd);
    return http::Response::Text(404, "Not Found\n");
  }
  http::Response response;
  response.content_type = std::string(StaticContentType(file.filename().string()));
  response.headers.Set("Cache-Control", immutable ? "public, max-age=2419200" : "no-cache");
  response.headers.Set("X-Content-Type-Options", "nosniff");
  response.stream = std::make_unique<FileBodySource>(fd, size);
  return response;
}

http::Response UiHandlers::GetArtifact(http::Request& request) {
  std::optional<std::string> run_id = Param(request, "run_id");
  if (!run_id) run_id = Param(request, "run_uuid");
  std::optional<std::string> path = request.QueryParam("path");
  if (!path) return MlflowError(StatusCode::kInvalidArgument, "Request must specify path.");
  if (!run_id) return MlflowError(StatusCode::kInvalidArgument, "Request must specify run_uuid.");
  auto run = CallReadRoute(router_, request, http::Method::kGet, "/api/2.0/mlflow/runs/get",
                           bj::object{{"run_id", *run_id}});
  if (!run.ok()) return http::ErrorResponse(run.status());
  return artifacts_.Serve(request.scope.tenant, StringAt(*run, {"run", "info", "artifact_uri"}),
                          *path);
}

http::Response UiHandlers::GetModelVersionArtifact(http::Request& request) {
  std::optional<std::string> name = Param(request, "name");
  std::optional<std::string> version = Param(request, "version");
  std::optional<std::string> path = request.QueryParam("path");
  if (!path) return MlflowError(StatusCode::kInvalidArgument, "Request must specify path.");
  if (!name || !version) {
    return MlflowError(StatusCode::kInvalidArgument, "Request must specify name and version.");
  }
  auto uri = CallReadRoute(router_, request, http::Method::kGet,
                           "/api/2.0/mlflow/model-versions/get-download-uri",
                           bj::object{{"name", *name}, {"version", *version}});
  if (!uri.ok()) return http::ErrorResponse(uri.status());
  return artifacts_.Serve(request.scope.tenant, StringAt(*uri, {"artifact_uri"}), *path);
}

http::Response UiHandlers::GetLoggedModelArtifact(http::Request& request) {
  std::optional<std::string> path = Param(request, "artifact_file_path");
  if (!path) {
    return MlflowError(StatusCode::kInvalidArgument,
                       "Request must include the \"artifact_file_path\" query parameter.");
  }
  std::string model_id = request.PathParam("model_id");
  auto model = CallReadRoute(router_, request, http::Method::kGet,
                             "/api/2.0/mlflow/logged-models/" + model_id, bj::object{});
  if (!model.ok()) return http::ErrorResponse(model.status());
  return artifacts_.Serve(request.scope.tenant, StringAt(*model, {"model", "info", "artifact_uri"}),
                          *path);
}

http::Response UiHandlers::GetTraceArtifact(http::Request& request) {
  std::optional<std::string> trace_id = Param(request, "request_id");
  if (!trace_id) {
    return MlflowError(StatusCode::kInvalidArgument,
                       "Request must include the \"request_id\" query parameter.");
  }
  std::optional<std::string> attachment = Param(request, "path");
  auto trace = CallReadRoute(router_, request, http::Method::kGet,
                             "/api/3.0/mlflow/traces/" + *trace_id, bj::object{});
  if (!trace.ok()) return http::ErrorResponse(trace.status());
  if (!attachment && StringAt(*trace, {"trace", "trace_info", "tags",
                                       "mlflow.trace.spansLocation"}) == "TRACKING_STORE") {
    // The spans came over OTLP and are in the tracking store, not in traces.json.
    auto full = CallReadRoute(router_, request, http::Method::kGet, "/api/3.0/mlflow/traces/get",
                              bj::object{{"trace_id", *trace_id}, {"allow_partial", "true"}});
    if (!full.ok()) return http::ErrorResponse(full.status());
    bj::array none;
    const bj::value* spans = full->contains("trace") && (*full)["trace"].is_object()
                                 ? (*full)["trace"].get_object().if_contains("spans")
                                 : nullptr;
    http::Response r = http::Response::Json(
        200, TraceDataJsonFromOtel(spans && spans->is_array() ? spans->get_array() : none));
    r.content_type = "application/octet-stream";
    return r;
  }
  std::string location =
      StringAt(*trace, {"trace", "trace_info", "tags", "mlflow.artifactLocation"});
  if (location.empty()) {
    return MlflowError(StatusCode::kNotFound, "Trace '" + *trace_id + "' has no stored span data");
  }
  return artifacts_.Serve(request.scope.tenant, location,
                          attachment ? "attachments/" + *attachment : "traces.json");
}

http::Response UiHandlers::UploadArtifact(http::Request& request) {
  std::optional<std::string> run_id = Param(request, "run_uuid");
  if (!run_id) return MlflowError(StatusCode::kInvalidArgument, "Request must specify run_uuid.");
  std::optional<std::string> path = Param(request, "path");
  if (!path) return MlflowError(StatusCode::kInvalidArgument, "Request must specify path.");
  auto normalized = artifact::NormalizeArtifactPath(*path);
  if (!normalized.ok()) return http::ErrorResponse(normalized.status());
  if (request.body.empty()) {
    return MlflowError(StatusCode::kInvalidArgument, "Request must specify data.");
  }
  auto run = CallReadRoute(router_, request, http::Method::kGet, "/api/2.0/mlflow/runs/get",
                           bj::object{{"run_id", *run_id}});
  if (!run.ok()) return http::ErrorResponse(run.status());
  Status written =
      artifacts_.Write(request.scope.tenant, StringAt(*run, {"run", "info", "artifact_uri"}),
                       *normalized, request.body);
  if (!written.ok()) return http::ErrorResponse(written);
  return http::Response::Json(200, "{}");
}

http::Response UiHandlers::SearchDatasets(http::Request& request) {
  auto body = json::ParseObject(request.body);
  if (!body.ok()) return http::ErrorResponse(body.status());
  const bj::value* ids = body->if_contains("experiment_ids");
  if (ids == nullptr || !ids->is_array() || ids->as_array().empty()) {
    return MlflowError(StatusCode::kInvalidArgument,
                       "SearchDatasets request must specify at least one experiment_id.");
  }
  if (ids->as_array().size() > kMaxSearchDatasetExperiments) {
    return MlflowError(StatusCode::kInvalidArgument,
                       "SearchDatasets request cannot specify more than 20 experiment_ids. "
                       "Received " +
                           std::to_string(ids->as_array().size()) + " experiment_ids.");
  }
  // Every run of the experiments (deleted ones too: their datasets stay), page by page.
  std::set<std::tuple<std::string, std::string, std::string, std::string>> seen;
  bj::array summaries;
  std::string page_token;
  do {
    bj::object search{{"experiment_ids", *ids}, {"run_view_type", "ALL"}, {"max_results", 1000}};
    if (!page_token.empty()) search["page_token"] = page_token;
    auto page =
        CallReadRoute(router_, request, http::Method::kPost, "/api/2.0/mlflow/runs/search", search);
    if (!page.ok()) return http::ErrorResponse(page.status());
    const bj::value* runs = page->if_contains("runs");
    for (const bj::value& run :
         runs != nullptr && runs->is_array() ? runs->as_array() : bj::array()) {
      if (!run.is_object()) continue;
      std::string experiment = StringAt(run.as_object(), {"info", "experiment_id"});
      const bj::value* inputs = Path(run.as_object(), {"inputs", "dataset_inputs"});
      if (inputs == nullptr || !inputs->is_array()) continue;
      for (const bj::value& input : inputs->as_array()) {
        if (!input.is_object()) continue;
        std::string name = StringAt(input.as_object(), {"dataset", "name"});
        std::string digest = StringAt(input.as_object(), {"dataset", "digest"});
        std::string context;
        if (const bj::value* tags = input.as_object().if_contains("tags");
            tags != nullptr && tags->is_array()) {
          for (const bj::value& tag : tags->as_array()) {
            if (tag.is_object() && StringAt(tag.as_object(), {"key"}) == "mlflow.data.context") {
              context = StringAt(tag.as_object(), {"value"});
            }
          }
        }
        if (!seen.emplace(experiment, name, digest, context).second) continue;
        bj::object summary{{"experiment_id", experiment}, {"name", name}, {"digest", digest}};
        if (!context.empty()) summary["context"] = context;
        summaries.push_back(std::move(summary));
        if (static_cast<int>(summaries.size()) >= kMaxDatasetSummaries) break;
      }
      if (static_cast<int>(summaries.size()) >= kMaxDatasetSummaries) break;
    }
    page_token = StringAt(*page, {"next_page_token"});
  } while (!page_token.empty() && static_cast<int>(summaries.size()) < kMaxDatasetSummaries);
  bj::object out;
  if (!summaries.empty()) out["dataset_summaries"] = std::move(summaries);
  return http::Response::Json(200, bj::serialize(out));
}

}  // namespace cairn::api::mlflow
