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

// Percent-decodes `in`. Fails on malformed escapes. '+' is kept as is.
StatusOr<std::string> PercentDecode(std::string_view in);
// Percent-encodes everything but unreserved characters and, if keep_slash, '/'.
std::string PercentEncode(std::string_view in, bool keep_slash = true);

}  // namespace cairn
