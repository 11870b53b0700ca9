#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "artifact/artifact_store.h"
#include "artifact/encrypted/master_key.h"
#include "base/status.h"

namespace cairn::artifact {

struct EncryptionOptions {
  // The master key ring, at least one key, ids unique. master_keys[0] wraps the data keys of new
  // tenants (and is the target of RewrapDataKeys); every key unwraps. During a rotation, list the
  // new key first and the old one after it; once RewrapDataKeys has run, drop the old key.
  std::vector<MasterKey> master_keys;
};

// Encrypts artifacts at rest on top of any ArtifactStore (envelope encryption).
//
// Every file is stored as AES-256-GCM in authenticated 64 KiB chunks (format: chunk_cipher.h)
// under a key derived from its tenant's data key, its own random file id and its path, so uploads
// and downloads stream at constant memory (about 130 KiB per open reader or writer), and a
// modified, truncated, extended, reordered or spliced file, or one moved or copied to another
// path or tenant, fails to read. The key scope ("tenant" below) is the first path segment: a
// tenant's folder, or each top-level folder of the default tenant, which owns the root
// (tenant_layout.h). Each tenant's data key is made (random) by the first write in that tenant,
// wrapped by the master key and stored in the underlying store at ".cairn-keys/<tenant>.json";
// unwrapped keys are cached for the store's life. Rotating the master key re-wraps those files only
// (RewrapDataKeys), never an artifact.
//
// Contract differences from the underlying store:
//  - The folder ".cairn-keys" is reserved: List("") hides it; reading, writing, listing or
//    deleting a path inside it is INVALID_ARGUMENT; Delete("") keeps it.
//  - OpenReader reads and checks the header and the first chunk, so a wrong key or a damaged
//    start of file fails there; later chunks are checked as they are read, and no byte of a chunk
//    is returned before its tag verifies. A failed check is INTERNAL, naming the path and the
//    chunk; the reader then fails every further Read. (status.h has no DATA_LOSS code.)
//  - Reader::Size() and List's file_size are plaintext sizes (computed from stored sizes, no
//    extra reads); a stored file whose size no plaintext gives lists without file_size.
//  - A file whose tenant has no data key, whose key cannot be unwrapped with the configured
//    master keys, or that is not in this format (e.g. written before encryption was turned on)
//    reads as INTERNAL.
// Not protected: file names, directory structure and approximate sizes are visible to whoever
// reads the underlying store; replacing a file by an older version of the same path (rollback)
// is not detected; deleting a tenant's key file makes that tenant's artifacts unreadable.
// Thread-safe, as the ArtifactStore contract requires.
StatusOr<std::unique_ptr<ArtifactStore>> MakeEncryptedArtifactStore(
    std::unique_ptr<ArtifactStore> inner, EncryptionOptions options);

struct RewrapReport {
  int rewrapped = 0;        // key files now wrapped by master_keys[0] that were not before
  int already_current = 0;  // key files that already were (checked to unwrap)
};

// Re-wraps every tenant's data key in `inner` (the underlying store, not the encrypting one)
// under master_keys[0], unwrapping each with whichever key of the ring wrapped it. Each key file
// is replaced atomically and read back, so stores reading with a ring that holds both keys work
// throughout, and artifacts are never rewritten. Idempotent: run it again after a failure. Key
// files that cannot be unwrapped are left alone and reported together in one INTERNAL error
// naming their tenants, after all the others are done. A tenant key created by a process still
// writing with the old key first, while this runs, may be missed: give servers the new ring
// (new key first) before rotating, or run it again.
StatusOr<RewrapReport> RewrapDataKeys(ArtifactStore& inner, const EncryptionOptions& options);

// `cairn admin rotate-artifact-key`: RewrapDataKeys with the ring {new_key, old_key}. After it
// succeeds, the old key may be dropped from every server's configuration.
StatusOr<RewrapReport> RotateMasterKey(ArtifactStore& inner, const MasterKey& old_key,
                                       const MasterKey& new_key);

}  // namespace cairn::artifact
