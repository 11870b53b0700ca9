#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace cairn::cli {

// `cairn models register|versions|promote|delete ...`: talks to a Cairn server's /api/v1 over
// plain HTTP (--server URL, else $CAIRN_SERVER, else http://127.0.0.1:5000) and prints a table,
// or the server's JSON with --json. `args` are the words after the program name, starting
// with "models". Returns the exit code: 0 on success, 1 when the server answers with an error
// (printed as "error: <error_code>: <message>") or cannot be reached, 2 for usage errors.
int CliMain(const std::vector<std::string>& args);

// The same with the output streams and the CAIRN_SERVER value supplied, for tests.
int CliMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            std::optional<std::string> env_server);

}  // namespace cairn::cli
