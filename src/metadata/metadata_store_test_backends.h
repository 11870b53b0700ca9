#pragma once

// Shared by the conformance suites of the domain stores (tracking_store_conformance_test.cc,
// registry_store_conformance_test.cc, trace_store_conformance_test.cc): status assertions, the
// list of backends every suite runs against, and the fixture that opens one. A backend joins by
// adding an entry to kConformanceBackends.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "base/status.h"
#include "base/status_testing.h"
#include "base/test_services.h"
#include "base/uri.h"
#include "metadata/metadata_stores.h"
#include "metadata/postgres/postgres_metadata_backend.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "pg/connection.h"

namespace cairn::metadata::testing_util {

struct Backend {
  std::string name;
  // Opens the store whose state lives under `dir`; opening the same dir again must see the same
  // data. Fills every domain. Returns UNAVAILABLE when the backend cannot run here (the suite
  // then skips).
  std::function<StatusOr<MetadataStores>(const std::string& dir)> open;
  // Removes what `open` created outside `dir` (may be empty).
  std::function<void(const std::string& dir)> cleanup;
};

// Names the backend in test output (instead of a byte dump of the struct).
inline void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

inline std::string BackendName(const testing::TestParamInfo<Backend>& info) {
  return info.param.name;
}

inline StatusOr<MetadataStores> OpenSqlite(const std::string& dir) {
  return OpenSqliteMetadataStores(dir + "/meta.db");
}

// The writer connection alone, with checkpoints on the committing thread.
inline StatusOr<MetadataStores> OpenSqliteSingleConnection(const std::string& dir) {
  sqlite::DatabaseOptions options;
  options.reader_connections = 0;
  options.checkpoint_frames = 0;
  return OpenSqliteMetadataStores(dir + "/meta.db", options);
}

// PostgreSQL from scripts/test_services.sh (CAIRN_TEST_POSTGRES_URI): a schema of its own per
// directory, so that tests never see each other's rows and Reopen() finds the same data.
inline std::string PostgresSchemaFor(const std::string& dir) {
  return ::cairn::testing_services::TestSchemaName("conformance_", dir);
}

inline StatusOr<MetadataStores> OpenPostgres(const std::string& dir) {
  auto uri = ::cairn::testing_services::ServiceUri("POSTGRES");
  if (!uri) {
    if (::cairn::testing_services::ServicesRequired()) {
      return FailedPrecondition("CAIRN_TEST_POSTGRES_URI is unset but CAIRN_REQUIRE_SERVICES=1");
    }
    return Unavailable("CAIRN_TEST_POSTGRES_URI is unset (scripts/test_services.sh starts it)");
  }
  ASSIGN_OR_RETURN(Uri parsed, Uri::Parse(*uri + "?schema=" + PostgresSchemaFor(dir)));
  ASSIGN_OR_RETURN(PostgresUri pg, ParsePostgresUri(parsed));
  ASSIGN_OR_RETURN(auto admin, pg::Connection::Open(pg.conninfo, {}));
  RETURN_IF_ERROR(admin->Exec("CREATE SCHEMA IF NOT EXISTS " + pg.schema));
  pg.options.reader_connections = 4;
  return OpenPostgresMetadataStores(pg.conninfo, pg.options);
}

inline void DropPostgresSchema(const std::string& dir) {
  auto uri = ::cairn::testing_services::ServiceUri("POSTGRES");
  if (!uri) return;
  auto admin = pg::Connection::Open(*uri, {});
  if (admin.ok()) {
    (*admin)->Exec("DROP SCHEMA IF EXISTS " + PostgresSchemaFor(dir) + " CASCADE").IgnoreError();
  }
}

inline const Backend kConformanceBackends[] = {
    {"Sqlite", OpenSqlite, nullptr},
    {"SqliteSingleConnection", OpenSqliteSingleConnection, nullptr},
    {"Postgres", OpenPostgres, DropPostgresSchema},
};

// Opens the parameter's backend on a fresh directory; Reopen() opens the same directory again.
class StoreConformanceTest : public testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-meta-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto opened = GetParam().open(dir_);
    if (!opened.ok() && opened.status().code() == StatusCode::kUnavailable) {
      GTEST_SKIP() << GetParam().name << " unavailable: " << opened.status().ToString();
    }
    ASSERT_OK(opened);
    stores_ = std::move(opened).value();
    ASSERT_NE(stores_.tracking, nullptr);
    ASSERT_NE(stores_.registry, nullptr);
    ASSERT_NE(stores_.traces, nullptr);
    ASSERT_NE(stores_.deployments, nullptr);
    ASSERT_NE(stores_.monitoring, nullptr);
    ASSERT_NE(stores_.security, nullptr);
    ASSERT_NE(stores_.webhooks, nullptr);
    ASSERT_NE(stores_.assessments, nullptr);
    ASSERT_NE(stores_.trace_links, nullptr);
    ASSERT_NE(stores_.scorers, nullptr);
    ASSERT_NE(stores_.issues, nullptr);
    ASSERT_NE(stores_.eval_datasets, nullptr);
  }

  void TearDown() override {
    stores_ = {};
    if (!dir_.empty() && GetParam().cleanup) GetParam().cleanup(dir_);
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void Reopen() {
    stores_ = {};
    auto opened = GetParam().open(dir_);
    ASSERT_OK(opened);
    stores_ = std::move(opened).value();
  }

  TrackingStore& tracking() { return *stores_.tracking; }
  RegistryStore& registry() { return *stores_.registry; }
  TraceStore& traces() { return *stores_.traces; }
  DeploymentStore& deployments() { return *stores_.deployments; }
  MonitorStore& monitoring() { return *stores_.monitoring; }
  SecurityStore& security() { return *stores_.security; }
  WebhookStore& webhooks() { return *stores_.webhooks; }
  AssessmentStore& assessments() { return *stores_.assessments; }
  TraceLinkStore& trace_links() { return *stores_.trace_links; }
  EvalDatasetStore& eval_datasets() { return *stores_.eval_datasets; }

  std::string dir_;
  MetadataStores stores_;
};

}  // namespace cairn::metadata::testing_util
