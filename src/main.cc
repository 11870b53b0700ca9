#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/security_command.h"
#include "server/admin.h"
#include "server/cairn_server.h"
#include "server/import_command.h"
#include "server/serve.h"

namespace {

constexpr const char* kUsage =
    "usage: cairn <command> [options]\n"
    "\n"
    "commands:\n"
    "  server       run the Cairn server (cairn server --help for options)\n"
    "  serve        serve one model, as `mlflow models serve` does (cairn serve --help)\n"
    "  import       copy an MLflow server's database and artifacts into Cairn, ids kept\n"
    "               (cairn import --help)\n"
    "  models       manage registered models on a server (cairn models --help)\n"
    "  deployments  deploy models on a server and query them (cairn deployments --help)\n"
    "  monitor      watch deployments for drift and errors; compare tables (cairn monitor "
    "--help);\n"
    "               `cairn monitor worker [server options]` runs a monitor worker process\n"
    "  tokens       create, list and revoke API tokens (cairn tokens --help)\n"
    "  tenants      create and list tenants\n"
    "  principals   list, disable and enable principals\n"
    "  roles        grant, revoke and list roles in tenants\n"
    "  rate-limits  set, delete and list tenants' request budgets\n"
    "  audit        list, export and verify the audit log\n"
    "  admin        bootstrap the first admin token, rotate the artifact key, verify the audit\n"
    "               log offline (cairn admin --help)\n"
    "  version      print the version\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "server") return cairn::server::ServerMain(args);
  if (args[0] == "monitor" && args.size() >= 2 && args[1] == "worker") {
    // The server binary in its monitor role: the same options as `cairn server`.
    std::vector<std::string> server_args = {"server", "--role", "monitor"};
    server_args.insert(server_args.end(), args.begin() + 2, args.end());
    return cairn::server::ServerMain(server_args);
  }
  if (args[0] == "serve") return cairn::server::ServeMain(args);
  if (args[0] == "import") return cairn::server::ImportMain(args);
  if (args[0] == "models" || args[0] == "deployments" || args[0] == "monitor")
    return cairn::cli::CliMain(args);
  if (cairn::cli::IsSecurityCommand(args[0])) {
    const char* env = std::getenv("CAIRN_SERVER");
    return cairn::cli::SecurityCliMain(
        args, std::cout, std::cerr,
        env != nullptr ? std::optional<std::string>(env) : std::nullopt);
  }
  if (args[0] == "admin") return cairn::server::AdminMain(args);
  if (args[0] == "version" || args[0] == "--version") {
    std::puts("cairn " CAIRN_VERSION);
    return 0;
  }
  std::fprintf(stderr, "cairn: unknown command '%s'\n\n%s", args[0].c_str(), kUsage);
  return 2;
}
