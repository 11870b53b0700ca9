#pragma once

#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace cairn::cli {

// `cairn models register|versions|promote|delete ...`, `cairn deployments
// create|status|list|scale|update|delete|predict|predictions ...` and `cairn monitor
// status|metrics|alerts|ack|config|reference|feedback|drift-report ...`: talk to a Cairn server
// over HTTP or HTTPS (--server URL, else $CAIRN_SERVER, else http://127.0.0.1:5000) and print a
// table, or the server's JSON with --json. `args` are the words after the program name,
// starting with "models", "deployments" or "monitor" (whose drift-report needs no server). Returns
// the exit code: 0 on success, 1 when the server answers with an error (printed as "error:
// <error_code>: <message>"), cannot be reached, or a deployment waited for fails, 2 for usage
// errors.
int CliMain(const std::vector<std::string>& args);

// The same with the output streams and the CAIRN_SERVER value supplied, for tests; `in` stands
// for stdin (the body of `deployments predict` without --data or --file).
int CliMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            std::istream& in, std::optional<std::string> env_server);

// As above with an empty stdin.
int CliMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            std::optional<std::string> env_server);

}  // namespace cairn::cli
