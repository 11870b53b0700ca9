#pragma once

// Per-tenant data keys, wrapped by a master key and kept in the underlying store under
// ".cairn-keys/<tenant>.json". Internal to cairn_artifact_encrypted.
//
// A key file is JSON:
//   {"format": 1, "tenant": "<tenant>", "data_key_id": "<16 hex>", "master_key_id": "<id>",
//    "algorithm": "AES-256-GCM", "nonce": "<base64, 12 bytes>",
//    "wrapped_key": "<base64, 32-byte key ciphertext + 16-byte tag>"}
// The wrap is AES-256-GCM under the master key named by master_key_id, with associated data
// "cairn-data-key-v1" 0x00 <tenant> 0x00 <data_key_id>, so a key file copied to another tenant
// (or edited) does not unwrap.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "artifact/artifact_store.h"
#include "artifact/encrypted/chunk_cipher.h"
#include "artifact/encrypted/master_key.h"
#include "base/mutex.h"
#include "base/status.h"

namespace cairn::artifact::encrypted_format {

inline constexpr std::string_view kKeyFolder = ".cairn-keys";

struct DataKey {
  DataKeyId id{};
  Key key{};
  ~DataKey();
};

// Where `tenant`'s key file lives in the underlying store.
std::string KeyFilePath(std::string_view tenant);

// The key file text for `key`, wrapped by `master`.
StatusOr<std::string> WrapDataKey(const DataKey& key, std::string_view tenant,
                                  const MasterKey& master);

struct UnwrappedKey {
  std::unique_ptr<DataKey> key;
  std::string master_key_id;  // the master key that wrapped it
};
// Unwraps a key file of `tenant` with the ring's key of the id it names. INTERNAL for a
// malformed file, an unknown master key id, or a wrap that does not verify (wrong key, tampered,
// or another tenant's file).
StatusOr<UnwrappedKey> UnwrapDataKey(std::string_view text, std::string_view tenant,
                                     const std::vector<MasterKey>& ring);

// The whole content of a small file; NOT_FOUND when it is missing.
StatusOr<std::string> ReadSmallFile(ArtifactStore& store, std::string_view path);

// Loads, and creates on first use, the data keys of tenants; caches them unwrapped.
// Thread-safe. Creation is once per tenant across the threads of a process (a per-tenant lock);
// across processes it is best effort: the key file is written, read back, and if another process
// committed its own in between, that one is used instead.
class TenantKeys {
 public:
  // `ring` is non-empty; ring[0] wraps new keys. `store` must outlive this.
  TenantKeys(ArtifactStore& store, std::vector<MasterKey> ring);

  // `tenant`'s data key. When the tenant has none: with `create`, makes one; without, NOT_FOUND.
  StatusOr<std::shared_ptr<const DataKey>> Get(std::string_view tenant, bool create);

 private:
  struct Slot {
    Mutex mu;
    std::shared_ptr<const DataKey> key GUARDED_BY(mu);
  };

  StatusOr<std::shared_ptr<const DataKey>> Load(std::string_view tenant);
  StatusOr<std::shared_ptr<const DataKey>> Create(std::string_view tenant);

  ArtifactStore& store_;
  const std::vector<MasterKey> ring_;
  Mutex mu_;
  std::map<std::string, std::shared_ptr<Slot>, std::less<>> slots_ GUARDED_BY(mu_);
};

}  // namespace cairn::artifact::encrypted_format
