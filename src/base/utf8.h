#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cairn {

// The one UTF-8 validator of the code base (RFC 3629). A well-formed sequence is 1 to 4 bytes:
// no stray continuation bytes, no truncated sequences, no overlong forms (e.g. C0 AF for '/'),
// no UTF-16 surrogates (U+D800..U+DFFF) and nothing above U+10FFFF. U+0000 is well-formed;
// callers that cannot hold a NUL check for it themselves.

// The length (1..4) of the well-formed sequence starting at s[i], or 0 when none starts there
// (or i is past the end).
size_t Utf8SequenceLength(std::string_view s, size_t i);

// Whether all of `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

// `s` with each byte that does not start a well-formed sequence replaced by U+FFFD, so text
// from outside (a decoded "%FF" in a path, say) can be echoed in JSON.
std::string ToValidUtf8(std::string_view s);

}  // namespace cairn
