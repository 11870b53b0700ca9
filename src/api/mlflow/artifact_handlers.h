#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "artifact/artifact_store.h"
#include "http/router.h"

namespace cairn::api::mlflow {

struct ArtifactHandlerOptions {
  // Largest single upload (PUT) accepted; the body is streamed, never held in memory.
  uint64_t max_upload_bytes = uint64_t{5} << 30;
};

// MLflow's proxied artifact service (`mlflow-artifacts`), under /api/2.0 and /ajax-api/2.0:
//   GET    /mlflow-artifacts/artifacts?path=<dir>     list direct children (basenames)
//   GET    /mlflow-artifacts/artifacts/<path>         download, streamed from the store
//   PUT    /mlflow-artifacts/artifacts/<path>         upload the raw body, streamed to the store
//   DELETE /mlflow-artifacts/artifacts/<path>         recursive delete
//   POST   /mlflow-artifacts/mpu/{create,complete,abort}/<path>, GET /presigned/<path>:
//          501 NOT_IMPLEMENTED with the message the client recognises (it then falls back to a
//          single PUT, or to a plain download).
// Every client path goes through artifact::NormalizeArtifactPath (400 INVALID_PARAMETER_VALUE
// when rejected) and is stored in the caller's tenant's space (artifact/tenant_layout.h: the
// default tenant at the store's root, as MLflow lays it out, others under "<tenant>/"), so
// tenants never see each other's files. Thread-safe; borrows the store, which must outlive the
// routes.
class ArtifactHandlers {
 public:
  explicit ArtifactHandlers(artifact::ArtifactStore& store, ArtifactHandlerOptions options = {});

  // Adds every route above to `router`. The router keeps copies of handlers that point at this
  // object, so it must outlive the router's use.
  void Register(http::Router& router);

  // Direct children of `relative_path` (client form, e.g. "0/<run_id>/artifacts/model") in
  // `tenant`'s artifact space. Empty for a missing directory or a file. INVALID_ARGUMENT for a
  // rejected path or tenant.
  StatusOr<std::vector<artifact::FileInfo>> ListRelative(std::string_view tenant,
                                                         std::string_view relative_path);

  // The download of `relative_path` under `artifact_uri` (an artifact root this server handed
  // out: a run's artifact_uri, a logged model's artifact_location, a trace's artifact location)
  // in `tenant`'s space, streamed with the same headers as a mlflow-artifacts download. An error
  // response for a rejected path (400), a missing file (404) or a directory (400, as MLflow).
  http::Response Serve(std::string_view tenant, std::string_view artifact_uri,
                       std::string_view relative_path);

  // Writes `data` as `relative_path` under `artifact_uri` in `tenant`'s space, replacing it.
  Status Write(std::string_view tenant, std::string_view artifact_uri,
               std::string_view relative_path, std::string_view data);

 private:
  http::Response Download(http::Request& request);
  http::Response List(http::Request& request);
  StatusOr<std::unique_ptr<http::BodySink>> Upload(http::Request& request);
  http::Response Delete(http::Request& request);
  // A streamed download of `store_path` with MLflow's headers; the store's NOT_FOUND as is.
  StatusOr<http::Response> OpenDownload(const std::string& store_path);
  // Where `normalized` (a NormalizeArtifactPath result) under `artifact_uri` lives in the store.
  StatusOr<std::string> StorePathUnder(std::string_view tenant, std::string_view artifact_uri,
                                       const std::string& normalized);

  artifact::ArtifactStore& store_;
  ArtifactHandlerOptions options_;
};

// Maps an artifact URI this server hands out, or its HTTP form, to the store-relative path:
//   mlflow-artifacts:/0/abc/artifacts                                      -> "0/abc/artifacts"
//   mlflow-artifacts://host:port/0/abc/artifacts                           -> "0/abc/artifacts"
//   http(s)://host[:port][/prefix]/api/2.0/mlflow-artifacts/artifacts/0/abc -> "0/abc"
// The result is normalised. INVALID_ARGUMENT for other schemes (s3:, file:, runs:, ...), for an
// HTTP URL outside the artifact service, and for unsafe paths.
StatusOr<std::string> ArtifactUriToRelativePath(std::string_view artifact_uri);

// Where a tenant's artifact lives in the store: artifact::TenantStorePath (the default tenant at
// the root, as MLflow lays out --artifacts-destination; other tenants in "<tenant>/"). The
// tenant comes from authentication, not from the path, but is still checked. `normalized` must
// have passed NormalizeArtifactPath.
StatusOr<std::string> TenantArtifactPath(std::string_view tenant, std::string_view normalized);

// The Content-Type sent for a download, as MLflow picks it: `text/plain` for text extensions
// (txt, log, json, yaml, csv, py, md, ...) and for MLmodel and MLproject, otherwise from the
// extension (image/png, text/html, ...), application/octet-stream when unknown.
std::string_view GuessContentType(std::string_view file_name);

// `attachment; filename="<name>"`, with '"' and '\' escaped, plus an RFC 5987 `filename*` when
// the name is not plain ASCII.
std::string ContentDisposition(std::string_view file_name);

}  // namespace cairn::api::mlflow
