#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace cairn::cli {

// The access-control commands, all talking to a server's /api/v1 (--server URL, else
// $CAIRN_SERVER; credentials from $CAIRN_TOKEN):
//   cairn tokens create --principal P --role R... [--tenant T] [--expires-in 90d]
//                [--description D]                  prints the token once
//   cairn tokens list [--tenant T] [--principal P]
//   cairn tokens revoke ID
//   cairn tenants create NAME [--description D] | list
//   cairn principals list | disable NAME | enable NAME
//   cairn roles grant PRINCIPAL ROLE [--tenant T] | revoke PRINCIPAL ROLE [--tenant T]
//               | list [--principal P] [--tenant T]
//   cairn rate-limits set TENANT [--control RATE[:BURST]] [--predict RATE[:BURST]]
//                     | delete TENANT | list
//   cairn audit list [--tenant T] [--principal P] [--action PREFIX] [--outcome O] [--limit N]
//               | verify | export [same filters]   (export: JSON lines on stdout)
// --json prints the server's answer as it is. `args` start with the command word. Exit codes
// as CliMain's: 0 ok, 1 server error or unreachable, 2 usage.
int SecurityCliMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                    std::optional<std::string> env_server);

// Whether `word` is one of the commands above.
bool IsSecurityCommand(const std::string& word);

}  // namespace cairn::cli
