#include "api/mlflow/artifact_handlers.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <optional>
#include <utility>

#include "artifact/tenant_layout.h"
#include "base/json.h"
#include "base/uri.h"
#include "http/error_response.h"

namespace cairn::api::mlflow {
namespace {

constexpr std::string_view kMultipartUnsupported =
    "Multipart upload is not supported for the current artifact repository";
constexpr std::string_view kPresignedUnsupported =
    "Presigned download URLs are not supported for the current artifact repository";
constexpr std::string_view kArtifactsPath = "/api/2.0/mlflow-artifacts/artifacts";

}  // namespace

StatusOr<std::string> TenantArtifactPath(std::string_view tenant, std::string_view normalized) {
  return artifact::TenantStorePath(tenant, normalized);
}

namespace {

StatusOr<std::string> TenantPath(std::string_view tenant, std::string_view normalized) {
  return TenantArtifactPath(tenant, normalized);
}

std::string_view Basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

class ArtifactBodySource : public http::BodySource {
 public:
  explicit ArtifactBodySource(std::unique_ptr<artifact::ArtifactReader> reader)
      : reader_(std::move(reader)) {}
  StatusOr<size_t> Read(char* buffer, size_t capacity) override {
    return reader_->Read(buffer, capacity);
  }
  std::optional<uint64_t> Size() const override { return reader_->Size(); }

 private:
  std::unique_ptr<artifact::ArtifactReader> reader_;
};

class ArtifactUploadSink : public http::BodySink {
 public:
  explicit ArtifactUploadSink(std::unique_ptr<artifact::ArtifactWriter> writer)
      : writer_(std::move(writer)) {}
  Status Write(std::string_view chunk) override { return writer_->Append(chunk); }
  http::Response Finish() override {
    Status committed = writer_->Commit();
    if (!committed.ok()) return http::ErrorResponse(committed);
    return http::Response::Json(200, "{}");
  }
  void Abort() override { writer_->Abort(); }

 private:
  std::unique_ptr<artifact::ArtifactWriter> writer_;
};

http::Response Unsupported(http::Request& request, std::string_view message) {
  auto normalized = artifact::NormalizeArtifactPath(request.PathParam("path"));
  if (!normalized.ok()) return http::ErrorResponse(normalized.status());
  return http::ErrorResponse(Unimplemented(std::string(message)));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

ArtifactHandlers::ArtifactHandlers(artifact::ArtifactStore& store, ArtifactHandlerOptions options)
    : store_(store), options_(options) {}

void ArtifactHandlers::Register(http::Router& router) {
  using http::Method;
  for (std::string_view prefix : {"/api/2.0", "/ajax-api/2.0"}) {
    const std::string base = std::string(prefix) + "/mlflow-artifacts";
    const http::RouteOptions read{.permission = http::Permission::kRead};
    const http::RouteOptions write{.permission = http::Permission::kWrite};
    router.Add(
        Method::kGet, base + "/artifacts", [this](http::Request& r) { return List(r); }, read);
    router.Add(
        Method::kGet, base + "/artifacts/{path...}",
        [this](http::Request& r) { return Download(r); }, read);
    router.AddStreaming(
        Method::kPut, base + "/artifacts/{path...}", [this](http::Request& r) { return Upload(r); },
        http::RouteOptions{.max_body_bytes = options_.max_upload_bytes,
                           .permission = http::Permission::kWrite});
    router.Add(
        Method::kDelete, base + "/artifacts/{path...}",
        [this](http::Request& r) { return Delete(r); }, write);
    for (std::string_view action : {"create", "complete", "abort"}) {
      router.Add(
          Method::kPost, base + "/mpu/" + std::string(action) + "/{path...}",
          [](http::Request& r) { return Unsupported(r, kMultipartUnsupported); }, write);
    }
    router.Add(
        Method::kGet, base + "/presigned/{path...}",
        [](http::Request& r) { return Unsupported(r, kPresignedUnsupported); }, read);
  }
}

StatusOr<std::vector<artifact::FileInfo>> ArtifactHandlers::ListRelative(
    std::string_view tenant, std::string_view relative_path) {
  ASSIGN_OR_RETURN(std::string normalized, artifact::NormalizeArtifactPath(relative_path));
  ASSIGN_OR_RETURN(std::string path, TenantPath(tenant, normalized));
  ASSIGN_OR_RETURN(std::vector<artifact::FileInfo> files, store_.List(path));
  // The default tenant's root is the store's root, which also holds the other tenants' folders.
  if (path.empty()) return artifact::DefaultTenantRootEntries(std::move(files));
  return files;
}

http::Response ArtifactHandlers::List(http::Request& request) {
  std::optional<std::string> path = request.QueryParam("path");
  // MLflow reads a GET without a query string from a JSON body.
  if (!path && request.query.empty() && !request.body.empty()) {
    auto body = json::ParseObject(request.body);
    if (!body.ok()) return http::ErrorResponse(body.status());
    auto field = json::GetString(*body, "path");
    if (!field.ok()) return http::ErrorResponse(field.status());
    path = *field;
  }
  auto files = ListRelative(request.scope.tenant, path.value_or(""));
  if (!files.ok()) return http::ErrorResponse(files.status());

  boost::json::object response;
  if (!files->empty()) {
    boost::json::array out;
    out.reserve(files->size());
    for (const artifact::FileInfo& file : *files) {
      boost::json::object entry;
      entry["path"] = file.path;
      entry["is_dir"] = file.is_dir;
      if (file.file_size) entry["file_size"] = *file.file_size;
      out.emplace_back(std::move(entry));
    }
    response["files"] = std::move(out);
  }
  return http::Response::Json(200, json::Serialize(response));
}

http::Response ArtifactHandlers::Download(http::Request& request) {
  std::string raw = request.PathParam("path");
  if (raw.empty()) return List(request);  // ".../artifacts/?path=..." lists, as the bare form
  auto normalized = artifact::NormalizeArtifactPath(raw);
  if (!normalized.ok()) return http::ErrorResponse(normalized.status());
  auto path = TenantPath(request.scope.tenant, *normalized);
  if (!path.ok()) return http::ErrorResponse(path.status());
  auto response = OpenDownload(*path);
  if (!response.ok() && response.status().code() == StatusCode::kNotFound) {
    return http::ErrorResponse(NotFound("Artifact '" + *normalized + "' does not exist"));
  }
  return response.ok() ? std::move(response).value() : http::ErrorResponse(response.status());
}

StatusOr<std::string> ArtifactHandlers::StorePathUnder(std::string_view tenant,
                                                       std::string_view artifact_uri,
                                                       const std::string& normalized) {
  ASSIGN_OR_RETURN(std::string root, ArtifactUriToRelativePath(artifact_uri));
  if (root.empty()) return TenantPath(tenant, normalized);
  return TenantPath(tenant, normalized.empty() ? root : root + "/" + normalized);
}

StatusOr<http::Response> ArtifactHandlers::OpenDownload(const std::string& store_path) {
  ASSIGN_OR_RETURN(std::unique_ptr<artifact::ArtifactReader> reader, store_.OpenReader(store_path));
  std::string_view name = Basename(store_path);
  http::Response response;
  response.content_type = std::string(GuessContentType(name));
  response.headers.Set("Content-Disposition", ContentDisposition(name));
  response.headers.Set("X-Content-Type-Options", "nosniff");
  response.stream = std::make_unique<ArtifactBodySource>(std::move(reader));
  return response;
}

http::Response ArtifactHandlers::Serve(std::string_view tenant, std::string_view artifact_uri,
                                       std::string_view relative_path) {
  auto relative = artifact::NormalizeArtifactPath(relative_path);
  if (!relative.ok()) return http::ErrorResponse(relative.status());
  auto path = StorePathUnder(tenant, artifact_uri, *relative);
  if (!path.ok()) return http::ErrorResponse(path.status());
  auto response = OpenDownload(*path);
  if (response.ok()) return std::move(response).value();
  if (response.status().code() != StatusCode::kNotFound) {
    return http::ErrorResponse(response.status());
  }
  auto children = store_.List(*path);
  if (children.ok() && !children->empty()) {
    return http::ErrorResponse(
        InvalidArgument("Artifact path refers to a directory, not a file: '" + *relative + "'"));
  }
  return http::ErrorResponse(NotFound("Artifact '" + *relative + "' does not exist"));
}

Status ArtifactHandlers::Write(std::string_view tenant, std::string_view artifact_uri,
                               std::string_view relative_path, std::string_view data) {
  ASSIGN_OR_RETURN(std::string relative, artifact::NormalizeArtifactPath(relative_path));
  if (relative.empty()) return InvalidArgument("Request must specify path.");
  ASSIGN_OR_RETURN(std::string path, StorePathUnder(tenant, artifact_uri, relative));
  ASSIGN_OR_RETURN(std::unique_ptr<artifact::ArtifactWriter> writer, store_.OpenWriter(path));
  Status appended = writer->Append(data);
  if (!appended.ok()) {
    writer->Abort();
    return appended;
  }
  return writer->Commit();
}

StatusOr<std::unique_ptr<http::BodySink>> ArtifactHandlers::Upload(http::Request& request) {
  ASSIGN_OR_RETURN(std::string normalized,
                   artifact::NormalizeArtifactPath(request.PathParam("path")));
  if (normalized.empty()) return InvalidArgument("An artifact path is required for an upload");
  ASSIGN_OR_RETURN(std::string path, TenantPath(request.scope.tenant, normalized));
  ASSIGN_OR_RETURN(std::unique_ptr<artifact::ArtifactWriter> writer, store_.OpenWriter(path));
  return std::unique_ptr<http::BodySink>(std::make_unique<ArtifactUploadSink>(std::move(writer)));
}

http::Response ArtifactHandlers::Delete(http::Request& request) {
  auto normalized = artifact::NormalizeArtifactPath(request.PathParam("path"));
  if (!normalized.ok()) return http::ErrorResponse(normalized.status());
  if (normalized->empty()) {
    return http::ErrorResponse(InvalidArgument("An artifact path is required for a delete"));
  }
  auto path = TenantPath(request.scope.tenant, *normalized);
  if (!path.ok()) return http::ErrorResponse(path.status());
  Status deleted = store_.Delete(*path);
  if (!deleted.ok()) return http::ErrorResponse(deleted);
  return http::Response::Json(200, "{}");
}

StatusOr<std::string> ArtifactUriToRelativePath(std::string_view artifact_uri) {
  ASSIGN_OR_RETURN(Uri uri, Uri::Parse(artifact_uri));
  std::string relative;
  if (uri.scheme == "mlflow-artifacts") {
    relative = uri.path;
  } else if (uri.scheme == "http" || uri.scheme == "https") {
    size_t at = uri.path.find(kArtifactsPath);
    std::string_view rest =
        at == std::string::npos ? std::string_view() : std::string_view(uri.path).substr(at);
    rest.remove_prefix(std::min(rest.size(), kArtifactsPath.size()));
    if (at == std::string::npos || (!rest.empty() && rest.front() != '/')) {
      return InvalidArgument("artifact URI '" + std::string(artifact_uri) +
                             "' is not under this server's " + std::string(kArtifactsPath));
    }
    ASSIGN_OR_RETURN(relative, PercentDecode(rest));
  } else {
    return InvalidArgument("artifact URI '" + std::string(artifact_uri) +
                           "' is not served by this server's artifact proxy");
  }
  size_t first = relative.find_first_not_of('/');
  relative.erase(0, first == std::string::npos ? relative.size() : first);
  return artifact::NormalizeArtifactPath(relative);
}

std::string_view GuessContentType(std::string_view file_name) {
  // mlflow.utils.mime_type_utils: these extensions (compared as written) and the two file names
  // are sent as text; everything else goes by Python's mimetypes table (case-insensitive).
  static constexpr std::array<std::string_view, 26> kText = {
      "txt",  "log",   "err",  "cfg",  "conf", "cnf",   "cf",      "ini",      "properties",
      "prop", "hocon", "toml", "yaml", "yml",  "xml",   "json",    "js",       "py",
      "py3",  "csv",   "tsv",  "md",   "rst",  "ipynb", "MLmodel", "mlproject"};
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kTypes = {{
      {"json", "application/json"},
      {"xml", "application/xml"},
      {"html", "text/html"},
      {"htm", "text/html"},
      {"css", "text/css"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"svg", "image/svg+xml"},
      {"webp", "image/webp"},
      {"bmp", "image/bmp"},
      {"tiff", "image/tiff"},
      {"ico", "image/vnd.microsoft.icon"},
      {"pdf", "application/pdf"},
      {"zip", "application/zip"},
      {"tar", "application/x-tar"},
      {"mp4", "video/mp4"},
      {"wav", "audio/x-wav"},
      {"mp3", "audio/mpeg"},
      {"geojson", "application/geo+json"},
      {"woff2", "font/woff2"},
  }};
  size_t dot = file_name.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? file_name : file_name.substr(dot + 1);
  if (dot == 0) ext = file_name;  // ".txt" has no extension for Python's splitext
  for (std::string_view text : kText) {
    if (text == ext) return "text/plain";
  }
  if (dot == std::string_view::npos || dot == 0) return "application/octet-stream";
  std::string lower = Lower(ext);
  for (const auto& [known, type] : kTypes) {
    if (known == lower) return type;
  }
  return "application/octet-stream";
}

std::string ContentDisposition(std::string_view file_name) {
  std::string out = "attachment; filename=\"";
  bool ascii = true;
  for (char c : file_name) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || u < 0x20 || u == 0x7f) {
      ascii = false;
      out += '_';
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  if (!ascii) out += "; filename*=UTF-8''" + PercentEncode(file_name, /*keep_slash=*/false);
  return out;
}

}  // namespace cairn::api::mlflow
