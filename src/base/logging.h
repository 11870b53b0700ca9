#pragma once

#include <string_view>

#include "base/status.h"

namespace cairn {

enum class LogFormat { kText, kJson };

// Configures the process-wide spdlog logger: text or JSON lines on stderr at `level`
// (trace, debug, info, warn, error). Call once at start-up, before other threads log.
Status InitLogging(LogFormat format, std::string_view level);

StatusOr<LogFormat> ParseLogFormat(std::string_view name);

// Escapes `in` for use inside a JSON string literal (no surrounding quotes).
std::string JsonEscape(std::string_view in);

}  // namespace cairn
