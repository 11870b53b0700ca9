#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "artifact/artifact_store.h"
#include "base/uri.h"
#include "base/utf8.h"

namespace cairn::artifact {
namespace {

Status BadPath(std::string_view raw, std::string_view why) {
  std::string shown(raw.substr(0, 200));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return InvalidArgument("Invalid artifact path '" + shown + "': " + std::string(why));
}

bool IsDriveLetter(std::string_view segment) {
  return segment.size() >= 2 && std::isalpha(static_cast<unsigned char>(segment[0])) &&
         segment[1] == ':';
}

// A segment that would turn into a separator, a dot-segment, a NUL or a drive letter if some
// later layer decoded it once more ("%2e%2e", "%2f", "%5c", "%00", "C%3a").
bool HidesTraversal(std::string_view segment, bool first) {
  if (segment.find('%') == std::string_view::npos) return false;
  auto decoded = PercentDecode(segment);
  if (!decoded.ok()) return false;  // a literal '%' in a file name
  const std::string& d = *decoded;
  if (d == "." || d == "..") return true;
  if (d.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) return true;
  return first && IsDriveLetter(d);
}

}  // namespace

StatusOr<std::string> NormalizeArtifactPath(std::string_view raw) {
  for (char c : raw) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\0') return BadPath(raw, "NUL byte");
    if (u < 0x20 || u == 0x7f) return BadPath(raw, "control character");
    if (c == '\\') return BadPath(raw, "backslash");
  }
  // No overlong forms or surrogates: names are echoed in JSON and headers, and every MLflow
  // client holds paths as Unicode strings.
  if (!IsValidUtf8(raw)) return BadPath(raw, "not valid UTF-8");
  if (!raw.empty() && raw.front() == '/') return BadPath(raw, "absolute path");

  std::vector<std::string_view> kept;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('/', start);
    if (end == std::string_view::npos) end = raw.size();
    std::string_view segment = raw.substr(start, end - start);
    start = end + 1;
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") return BadPath(raw, "'..' segment");
    if (kept.empty() && IsDriveLetter(segment)) return BadPath(raw, "drive letter");
    if (HidesTraversal(segment, kept.empty())) return BadPath(raw, "encoded traversal");
    kept.push_back(segment);
  }

  std::string out;
  out.reserve(raw.size());
  for (std::string_view segment : kept) {
    if (!out.empty()) out += '/';
    out += segment;
  }
  return out;
}

}  // namespace cairn::artifact
