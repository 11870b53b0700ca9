#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace cairn {

// A parsed URI: scheme:[//authority]path[?query][#fragment]. Accepts the forms the stores and the
// MLflow wire use: sqlite:///abs/path, sqlite://relative, file:///x, mlflow-artifacts:/1/abc,
// s3://bucket/key, postgresql://user:pw@host:5432/db, and bare paths (scheme empty).
struct Uri {
  std::string scheme;     // lower-cased; empty for a bare path
  std::string authority;  // user:pw@host:port, may be empty
  std::string path;
  std::string query;
  std::string fragment;
  bool has_authority = false;

  static StatusOr<Uri> Parse(std::string_view text);
  std::string ToString() const;
};

// How PercentDecode reads '+': kept (paths, URIs) or a space (application/x-www-form-urlencoded).
enum class PlusSign { kKeep, kSpace };

// Percent-decodes `in`: each "%XY" (two hex digits, either case) becomes the octet 0xXY. The one
// percent-decoder of the code base. INVALID_ARGUMENT on a '%' not followed by two hex digits
// (a truncated or non-hex escape); nothing is guessed or passed through. The result is octets,
// not checked as UTF-8 (see base/utf8.h), and "%00" decodes to a NUL byte: callers that hand
// the result to C strings, file systems or structural checks must refuse or look for it.
StatusOr<std::string> PercentDecode(std::string_view in, PlusSign plus = PlusSign::kKeep);
// Percent-encodes everything but unreserved characters and, if keep_slash, '/'.
std::string PercentEncode(std::string_view in, bool keep_slash = true);

}  // namespace cairn
