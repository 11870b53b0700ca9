#pragma once

#include <string>
#include <vector>

#include "artifact/encrypted/master_key.h"
#include "base/status.h"
#include "server/config.h"

namespace cairn::server {

// `cairn admin ...`: work on a server's stores directly (same store options as `cairn server`),
// for what cannot go through the API:
//   bootstrap [--principal admin] [--force]   the first administrator and its token, printed once
//   rotate-artifact-key --old-key-file F --new-key-file F
//                                             re-wraps every tenant's data key; artifacts untouched
//   audit-verify [--audit-key-file F]         checks the audit log's hash chain offline
// Store options: --data-dir, --backend-store-uri, --artifacts-uri (and their CAIRN_* variables).
// Returns the exit code: 0 ok, 1 failed, 2 usage.
int AdminMain(const std::vector<std::string>& args);

// The artifact master keys of a configuration: --artifact-key-file (a comma-separated list: the
// first wraps new data keys, every one unwraps, for a rotation in progress), else
// $CAIRN_ARTIFACT_KEY. Empty: artifacts are not encrypted.
StatusOr<std::vector<artifact::MasterKey>> LoadArtifactKeys(const ServerConfig& config);

// The audit chain's key from --audit-key-file: the file's bytes, a trailing newline dropped; at
// least 16 bytes.
StatusOr<std::string> ReadAuditKey(const std::string& path);

// `cairn admin audit-verify`: checks <data_dir>/audit.db; 0 intact, 1 tampered or unreadable.
int AuditVerifyMain(const std::string& data_dir, const std::string& key_file,
                    const std::string& backend_store_uri = "");

}  // namespace cairn::server
