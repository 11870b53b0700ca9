#pragma once

#include <string>
#include <vector>

namespace cairn::server {

// `cairn import --from sqlite:///mlflow.db [--artifacts DIR] [--tenant T] [--workspace W]
// [--verify-runs N] [store options]`: copies an MLflow tracking server's data (its SQLite backend
// store and its --artifacts-destination folder) into a Cairn tenant, keeping every id, with a
// progress bar on stderr and a verification report on stdout (importer/mlflow_importer.h).
// Store options are `cairn server`'s (--data-dir, --backend-store-uri, --artifacts-uri,
// --artifact-key-file, --config and their CAIRN_* variables); the server must not be running.
// Returns the exit code: 0 imported and verified, 1 failed or verification found differences,
// 2 usage (including an unsupported --from URI).
int ImportMain(const std::vector<std::string>& args);

}  // namespace cairn::server
