#include "server/admin.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "artifact/encrypted/encrypted_artifact_store.h"
#include "audit/audit_verify.h"
#include "audit/sql_audit_store.h"
#include "auth/security_service.h"
#include "base/clock.h"
#include "base/uri.h"
#include "server/backends.h"

namespace cairn::server {
namespace {

// The stores `cairn server` would open for the same options.
struct StoreOptions {
  std::string data_dir = "./cairn-data";
  std::string backend_store_uri;
  std::string artifacts_uri;
};

void AddStoreOptions(CLI::App& app, StoreOptions& options) {
  app.add_option("--data-dir", options.data_dir,
                 "Folder of the embedded stores [env CAIRN_DATA_DIR]");
  app.add_option("--backend-store-uri", options.backend_store_uri,
                 "Metadata store URI [env CAIRN_BACKEND_STORE_URI]");
  app.add_option("--artifacts-uri", options.artifacts_uri,
                 "Artifact store URI or folder [env CAIRN_ARTIFACTS_URI]");
}

void FromEnvironment(StoreOptions& options, const CLI::App& app) {
  auto env = [](const char* name) -> const char* { return std::getenv(name); };
  if (app.count("--data-dir") == 0 && env("CAIRN_DATA_DIR") != nullptr) {
    options.data_dir = env("CAIRN_DATA_DIR");
  }
  if (app.count("--backend-store-uri") == 0 && env("CAIRN_BACKEND_STORE_URI") != nullptr) {
    options.backend_store_uri = env("CAIRN_BACKEND_STORE_URI");
  }
  if (app.count("--artifacts-uri") == 0 && env("CAIRN_ARTIFACTS_URI") != nullptr) {
    options.artifacts_uri = env("CAIRN_ARTIFACTS_URI");
  }
}

StatusOr<std::filesystem::path> DataDir(const StoreOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec)
    return InvalidArgument("cannot create data dir '" + options.data_dir + "': " + ec.message());
  std::filesystem::path data = std::filesystem::absolute(options.data_dir, ec);
  if (ec) return InvalidArgument("bad data dir '" + options.data_dir + "'");
  return data.lexically_normal();
}

StatusOr<metadata::MetadataStores> OpenMetadata(const StoreOptions& options) {
  ASSIGN_OR_RETURN(std::filesystem::path data, DataDir(options));
  std::string uri = options.backend_store_uri.empty() ? "sqlite:///" + (data / "meta.db").string()
                                                      : options.backend_store_uri;
  metadata::MetadataStoreRegistry registry;
  RETURN_IF_ERROR(RegisterMetadataBackends(registry));
  ASSIGN_OR_RETURN(Uri parsed, Uri::Parse(uri));
  ASSIGN_OR_RETURN(metadata::MetadataStores stores,
                   registry.Create(parsed.scheme, parsed, metadata::MetadataStoreOptions{}));
  if (!stores.security) return InvalidArgument("the backend store has no security storage");
  return stores;
}

StatusOr<std::unique_ptr<artifact::ArtifactStore>> OpenArtifacts(const StoreOptions& options) {
  ASSIGN_OR_RETURN(std::filesystem::path data, DataDir(options));
  std::string uri =
      options.artifacts_uri.empty() ? (data / "artifacts").string() : options.artifacts_uri;
  artifact::ArtifactStoreRegistry registry;
  RETURN_IF_ERROR(RegisterArtifactBackends(registry));
  return artifact::CreateArtifactStore(registry, uri);
}

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "cairn admin %s: %s\n", what.c_str(), status.message().c_str());
  return status.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

StatusOr<std::vector<artifact::MasterKey>> LoadArtifactKeys(const ServerConfig& config) {
  std::vector<artifact::MasterKey> keys;
  if (!config.artifact_key_file.empty()) {
    for (const std::string& file : SplitComma(config.artifact_key_file)) {
      ASSIGN_OR_RETURN(artifact::MasterKey key, artifact::LoadMasterKeyFromFile(file));
      keys.push_back(std::move(key));
    }
  } else if (std::getenv("CAIRN_ARTIFACT_KEY") != nullptr) {
    ASSIGN_OR_RETURN(artifact::MasterKey key, artifact::LoadMasterKeyFromEnv("CAIRN_ARTIFACT_KEY"));
    keys.push_back(std::move(key));
  }
  return keys;
}

StatusOr<std::string> ReadAuditKey(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read audit key file '" + path + "'");
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  if (key.size() < 16) return InvalidArgument("audit key file '" + path + "' holds under 16 bytes");
  return key;
}

int AuditVerifyMain(const std::string& data_dir, const std::string& key_file,
                    const std::string& backend_store_uri) {
  std::string key;
  if (!key_file.empty()) {
    auto read = ReadAuditKey(key_file);
    if (!read.ok()) return Fail("audit-verify", read.status());
    key = std::move(read).value();
  }
  auto uri = Uri::Parse(backend_store_uri);
  bool postgres = uri.ok() && (uri->scheme == "postgresql" || uri->scheme == "postgres");
  std::filesystem::path path = std::filesystem::path(data_dir) / "audit.db";
  if (!postgres && !std::filesystem::exists(path)) {
    return Fail("audit-verify", NotFound("no audit log at " + path.string()));
  }
  auto store = OpenAuditStore(backend_store_uri, data_dir, false);
  if (!store.ok()) return Fail("audit-verify", store.status());
  auto result = audit::VerifyAuditChain(**store, key);
  if (!result.ok()) return Fail("audit-verify", result.status());
  if (result->ok) {
    std::printf("audit log intact: %lld entries checked\n",
                static_cast<long long>(result->entries_checked));
    return 0;
  }
  std::printf(
      "AUDIT LOG TAMPERED at entry %lld (%s): %s\n", static_cast<long long>(result->first_bad_seq),
      std::string(audit::VerifyFailureName(result->failure)).c_str(), result->reason.c_str());
  return 1;
}

int AdminMain(const std::vector<std::string>& args) {
  CLI::App app{"cairn admin: work on a server's stores directly", "cairn admin"};
  app.require_subcommand(1);
  StoreOptions stores;
  std::string principal = "admin";
  bool force = false;
  std::string old_key_file;
  std::string new_key_file;
  std::string audit_key_file;

  CLI::App* bootstrap = app.add_subcommand(
      "bootstrap", "Create the first administrator (admin in every tenant) and print its token.");
  AddStoreOptions(*bootstrap, stores);
  bootstrap->add_option("--principal", principal, "Administrator's name (default admin)");
  bootstrap->add_flag("--force", force, "Issue another admin token when one already exists");

  CLI::App* rotate = app.add_subcommand(
      "rotate-artifact-key",
      "Re-wrap every tenant's artifact data key under a new master key (artifacts untouched).");
  AddStoreOptions(*rotate, stores);
  rotate->add_option("--old-key-file", old_key_file, "Current master key")->required();
  rotate->add_option("--new-key-file", new_key_file, "New master key")->required();

  CLI::App* audit = app.add_subcommand("audit-verify", "Check the audit log's hash chain.");
  AddStoreOptions(*audit, stores);
  audit->add_option("--audit-key-file", audit_key_file, "Key of a keyed chain");

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty()) reversed.pop_back();  // "admin"
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (bootstrap->parsed()) {
    FromEnvironment(stores, *bootstrap);
    auto metadata = OpenMetadata(stores);
    if (!metadata.ok()) return Fail("bootstrap", metadata.status());
    auth::SecurityService service(*metadata->security, nullptr, nullptr, SystemClock::Get());
    auto created = service.Bootstrap(principal, force);
    if (!created.ok()) return Fail("bootstrap", created.status());
    std::printf(
        "Administrator '%s' (admin in every tenant). Its API token, shown once; store it now:\n"
        "%s\n",
        principal.c_str(), created->text.c_str());
    return 0;
  }
  if (rotate->parsed()) {
    FromEnvironment(stores, *rotate);
    auto old_key = artifact::LoadMasterKeyFromFile(old_key_file);
    if (!old_key.ok()) return Fail("rotate-artifact-key", old_key.status());
    auto new_key = artifact::LoadMasterKeyFromFile(new_key_file);
    if (!new_key.ok()) return Fail("rotate-artifact-key", new_key.status());
    auto artifacts = OpenArtifacts(stores);
    if (!artifacts.ok()) return Fail("rotate-artifact-key", artifacts.status());
    auto report = artifact::RotateMasterKey(**artifacts, *old_key, *new_key);
    if (!report.ok()) return Fail("rotate-artifact-key", report.status());
    std::printf("Re-wrapped %d tenant data key(s) under key %s (%d already were).\n",
                report->rewrapped, new_key->id().c_str(), report->already_current);
    return 0;
  }
  FromEnvironment(stores, *audit);
  return AuditVerifyMain(stores.data_dir, audit_key_file, stores.backend_store_uri);
}

}  // namespace cairn::server
