#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "artifact/encrypted/master_key.h"
#include "base/status.h"

namespace cairn::artifact {

// Seals short secrets that the server must read back in clear (webhook signing keys) before they
// are stored in the metadata database, with the same master key ring that encrypts artifacts
// (--artifact-key-file). A sealed value is text:
//
//   cairn-sealed:v1:<master key id>:<base64 nonce, 12 bytes>:<base64 ciphertext || 16-byte tag>
//
// AES-256-GCM under the master key, with associated data "cairn-secret-v1" 0x00 <context>, so a
// sealed value copied to another record (another context) does not open. Sealing uses the
// ring's first key; opening finds the key by the id it names, so values sealed before a master
// key rotation still open while the old key stays in the ring.
//
// Thread-safe (immutable after construction).
class SecretBox {
 public:
  // INVALID_ARGUMENT for an empty ring.
  static StatusOr<SecretBox> Create(std::vector<MasterKey> ring);

  StatusOr<std::string> Seal(std::string_view context, std::string_view plaintext) const;
  // The plaintext of a value Seal made for the same context. INVALID_ARGUMENT when `sealed` is
  // not in the format above; INTERNAL when its key is not in the ring or it does not verify
  // (wrong key or context, tampered).
  StatusOr<std::string> Open(std::string_view context, std::string_view sealed) const;
  // Whether `text` has the sealed form's prefix (values stored before sealing was turned on
  // do not).
  static bool IsSealed(std::string_view text);

 private:
  explicit SecretBox(std::vector<MasterKey> ring) : ring_(std::move(ring)) {}
  std::vector<MasterKey> ring_;
};

}  // namespace cairn::artifact
