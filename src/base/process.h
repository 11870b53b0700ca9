#pragma once

#include <cstddef>
#include <cstdint>

#include "base/status.h"

namespace cairn {

// Process-wide settings a long-running server applies once at start.

// Raises the soft limit on open files to the hard limit (a server with the default soft limit
// of 1,024 stops accepting after that many sockets). Returns the soft limit now in force.
StatusOr<uint64_t> RaiseOpenFileLimit();

// Makes the allocator serve blocks of at least `bytes` straight from the system and give them
// back when freed, instead of letting its threshold grow with the largest block seen (glibc's
// default), which otherwise keeps the memory of a few large request bodies for good.
void ReturnLargeBlocksToTheSystem(size_t bytes);

}  // namespace cairn
