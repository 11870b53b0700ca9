#pragma once

// Internal to cairn_inference_codec: the shared simdjson plumbing of the request parsers.

#include <simdjson.h>

#include <string>
#include <string_view>

#include "base/status.h"

namespace cairn::inference::internal {

namespace od = simdjson::ondemand;

// Starts an On-Demand parse of `body`, copied into a padded thread-local buffer (simdjson reads
// up to SIMDJSON_PADDING bytes past the end). `doc` and every string read from it stay valid
// until the next call on this thread, so parses must not nest.
simdjson::error_code IterateBody(std::string_view body, od::document& doc);

// InvalidArgument("Malformed JSON in request body: <simdjson's reason>").
Status MalformedJson(simdjson::error_code error);

// OK when the document has been consumed to its end (no second value after the first).
Status CheckConsumed(od::document& doc);

// A short quote of a scalar for error messages: its JSON text, at most 40 bytes.
std::string Quote(od::value& value);

// "[2,-1,4]".
std::string ShapeText(const std::vector<int64_t>& shape);

}  // namespace cairn::inference::internal
