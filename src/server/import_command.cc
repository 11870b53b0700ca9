#include "server/import_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "artifact/artifact_store_factory.h"
#include "artifact/encrypted/encrypted_artifact_store.h"
#include "artifact/layout_migration.h"
#include "base/uri.h"
#include "importer/import_progress.h"
#include "importer/mlflow_importer.h"
#include "importer/mlflow_source.h"
#include "metadata/metadata_store_factory.h"
#include "metadata/postgres/postgres_metadata_backend.h"
#include "server/admin.h"
#include "server/backends.h"
#include "server/config.h"
#include "sqlite/sqlite_uri.h"

namespace cairn::server {
namespace {

namespace fs = std::filesystem;

int Fail(const Status& status) {
  std::fprintf(stderr, "cairn import: %s\n", std::string(status.message()).c_str());
  return status.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

// Opens the MLflow backend store `from` names: sqlite:///<path>.db or postgresql://... (also
// SQLAlchemy's postgresql+psycopg2://, as MLflow users write it).
StatusOr<std::unique_ptr<importer::MlflowSource>> OpenSource(const std::string& from,
                                                             const std::string& workspace) {
  ASSIGN_OR_RETURN(Uri uri, Uri::Parse(from));
  if (uri.scheme == "postgresql" || uri.scheme == "postgres" ||
      uri.scheme.starts_with("postgresql+")) {
    uri.scheme = "postgresql";
    ASSIGN_OR_RETURN(metadata::PostgresUri parsed, metadata::ParsePostgresUri(uri));
    std::string conninfo = parsed.conninfo;
    if (!parsed.schema.empty()) {
      conninfo += (conninfo.find('?') == std::string::npos ? "?" : "&");
      conninfo += "options=-csearch_path%3D" + parsed.schema;
    }
    return importer::MlflowSource::OpenPostgres(conninfo, workspace);
  }
  if (uri.scheme != "sqlite") {
    return InvalidArgument(
        "--from must be an MLflow backend store URI (sqlite:///<path>.db or "
        "postgresql://user:password@host:port/db), not a " +
        (uri.scheme.empty() ? std::string("bare path") : uri.scheme + ":// URI"));
  }
  ASSIGN_OR_RETURN(std::string path, sqlite::PathFromUri(uri));
  if (path == ":memory:") return InvalidArgument("--from names an in-memory database");
  return importer::MlflowSource::Open(path, workspace);
}

// `from` as it may be shown: without a password.
std::string Redacted(const std::string& from) {
  auto uri = Uri::Parse(from);
  if (!uri.ok() || !uri->has_authority) return from;
  size_t at = uri->authority.rfind('@');
  if (at == std::string::npos) return from;
  std::string user = uri->authority.substr(0, at);
  size_t colon = user.find(':');
  if (colon == std::string::npos) return from;
  uri->authority = user.substr(0, colon) + ":***" + uri->authority.substr(at);
  return uri->ToString();
}

}  // namespace

int ImportMain(const std::vector<std::string>& args) {
  CLI::App app{
      "cairn import: copy an MLflow tracking server's data (SQLite backend store and artifact "
      "folder) into a Cairn tenant, keeping every id. Resumable: run it again after an "
      "interruption. Store options are those of `cairn server` (--data-dir, "
      "--backend-store-uri, --artifacts-uri, --artifact-key-file, --config); stop the server "
      "first.",
      "cairn import"};
  std::string from;
  std::string artifacts;
  std::string tenant = "default";
  std::string workspace = "default";
  int verify_runs = 5;
  app.add_option(
         "--from", from,
         "MLflow backend store URI: sqlite:///mlflow.db or postgresql://user:pw@host:port/db")
      ->required();
  app.add_option("--artifacts", artifacts,
                 "MLflow's artifact folder (mlflow server --artifacts-destination)");
  app.add_option("--tenant", tenant, "Cairn tenant to import into (default: default)");
  app.add_option("--workspace", workspace,
                 "MLflow workspace to read, in databases that have workspaces (default: default)");
  app.add_option("--verify-runs", verify_runs,
                 "runs whose metric histories are compared value by value (default 5)");
  app.allow_extras();
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty()) reversed.pop_back();  // "import"
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", app.help().c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "cairn import: %s\n", e.what());
    return 2;
  }
  std::vector<std::string> server_args = {"server"};
  for (const std::string& extra : app.remaining()) server_args.push_back(extra);
  auto parsed = ParseServerArgs(server_args);
  if (!parsed.ok()) return Fail(parsed.status());
  if (parsed->exit_now) return 0;
  ServerConfig config = parsed->config;

  auto source = OpenSource(from, workspace);
  if (!source.ok()) return Fail(source.status());

  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec) return Fail(InvalidArgument("cannot create data dir '" + config.data_dir + "'"));
  fs::path data = fs::absolute(config.data_dir, ec).lexically_normal();
  if (config.backend_store_uri.empty()) {
    config.backend_store_uri = "sqlite:///" + (data / "meta.db").string();
  }
  if (config.artifacts_uri.empty()) config.artifacts_uri = (data / "artifacts").string();

  metadata::MetadataStoreRegistry metadata_registry;
  if (Status s = RegisterMetadataBackends(metadata_registry); !s.ok()) return Fail(s);
  auto backend_uri = Uri::Parse(config.backend_store_uri);
  if (!backend_uri.ok()) return Fail(backend_uri.status());
  auto stores =
      metadata_registry.Create(backend_uri->scheme, *backend_uri, metadata::MetadataStoreOptions{});
  if (!stores.ok()) return Fail(stores.status());
  if (!stores->tracking || !stores->registry || !stores->traces) {
    return Fail(InvalidArgument("the backend store has no tracking, registry or trace storage"));
  }

  artifact::ArtifactStoreRegistry artifact_registry;
  if (Status s = RegisterArtifactBackends(artifact_registry); !s.ok()) return Fail(s);
  auto artifact_store = artifact::CreateArtifactStore(artifact_registry, config.artifacts_uri);
  if (!artifact_store.ok()) return Fail(artifact_store.status());
  auto keys = LoadArtifactKeys(config);
  if (!keys.ok()) return Fail(keys.status());
  fs::path cairn_root;
  if (keys->empty()) {
    auto uri = Uri::Parse(config.artifacts_uri);
    if (uri.ok() && (uri->scheme.empty() || uri->scheme == "file")) {
      cairn_root = uri->scheme.empty() ? fs::path(config.artifacts_uri) : fs::path(uri->path);
    }
  } else {
    artifact::EncryptionOptions encryption;
    encryption.master_keys = std::move(keys).value();
    artifact_store = artifact::MakeEncryptedArtifactStore(std::move(artifact_store).value(),
                                                          std::move(encryption));
    if (!artifact_store.ok()) return Fail(artifact_store.status());
  }
  if (auto moved = artifact::MoveDefaultTenantToRoot(**artifact_store); !moved.ok()) {
    return Fail(moved.status());
  }

  importer::ImportOptions options;
  options.tenant = tenant;
  options.source_artifacts = artifacts;
  options.cairn_artifact_root = cairn_root;
  options.verify_runs = verify_runs;
  importer::ImportProgress progress(std::cerr, isatty(STDERR_FILENO) != 0);
  std::fprintf(stderr, "importing %s (schema %s) into tenant '%s'\n", Redacted(from).c_str(),
               (*source)->schema_version().c_str(), tenant.c_str());
  importer::MlflowImporter run(**source, *stores, **artifact_store, options,
                               [&](std::string_view kind, int64_t done, int64_t total) {
                                 progress.Update(kind, done, total);
                               });
  auto report = run.Run();
  progress.Finish();
  if (!report.ok()) {
    std::fprintf(stderr,
                 "cairn import: %s\n(what was imported before this stays; fix the cause and run "
                 "the same command again to resume)\n",
                 std::string(report.status().message()).c_str());
    return report.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::fputs(report->ToText().c_str(), stdout);
  return report->ok() ? 0 : 1;
}

}  // namespace cairn::server
