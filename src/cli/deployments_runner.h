#pragma once

#include <istream>
#include <ostream>

#include "cli/deployments_command.h"

namespace cairn::cli {

// Runs a parsed `cairn deployments` command against its server: one call, or for create and
// update with --wait the call and then status polls (every 0.1 s, doubling up to 1 s) until the
// deployment is READY (and, for update, serves the new version) or wait_seconds pass; for
// predict a status lookup (the argument may be an id; the prediction routes take the endpoint
// name) and the prediction. `in` is the request body source of predict when neither --data nor
// --file is given. Returns the exit code: 0 on success; 1 when the server answers with an error
// (printed as "error: <error_code>: <message>"), cannot be reached, the deployment FAILED or is
// not ready in time; 2 for a request body that cannot be read or is not JSON (nothing is sent).
// Blocking.
int RunDeployments(const DeploymentsCommand& command, std::ostream& out, std::ostream& err,
                   std::istream& in);

}  // namespace cairn::cli
