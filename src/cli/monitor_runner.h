#pragma once

#include <ostream>

#include "cli/monitor_command.h"

namespace cairn::cli {

// Runs a parsed `cairn monitor` command: one call for most actions; for reference --file an
// upload streamed from the file (never read whole into memory) with a progress line on `err`
// (redrawn at most 5 times a second when `err_is_terminal`, else one final line); for
// feedback a check of every line of the file, then POST /api/v1/feedback in batches of
// kFeedbackBatch labels and the totals; for drift-report the local comparison (no server).
// Returns the exit code: 0 on success; 1 when the server answers with an error (printed as
// "error: <error_code>: <message>") or cannot be reached, or a file cannot be read; 2 for a
// file that is malformed before anything is sent (a config that is not JSON, a bad feedback
// line). Blocking.
int RunMonitor(const MonitorCommand& command, std::ostream& out, std::ostream& err,
               bool err_is_terminal);

}  // namespace cairn::cli
