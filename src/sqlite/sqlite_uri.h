#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/uri.h"

namespace cairn::sqlite {

// How a sqlite:// URI names a database file, shared by every store that opens one (metadata,
// events): sqlite:///relative/path.db (three slashes: relative to the working directory, as in
// MLflow), sqlite:////abs/path.db (four slashes: absolute), sqlite://dir/file.db (relative),
// sqlite:// or sqlite:///:memory: (":memory:", a private in-memory database). Percent-escapes
// are decoded; INVALID_ARGUMENT for another scheme or a NUL in the path.
StatusOr<std::string> PathFromUri(const Uri& uri);

// The query options a sqlite URI may carry; unset when the URI does not say.
struct UriOptions {
  std::optional<bool> synchronous_full;   // synchronous=normal|full
  std::optional<int> reader_connections;  // readers=<0..64>
};

// Parses "synchronous=full&readers=2". INVALID_ARGUMENT for an unknown key or a bad value.
StatusOr<UriOptions> ParseUriQuery(std::string_view query);

}  // namespace cairn::sqlite
