#include "cli/cli.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "cli/deployments_command.h"
#include "cli/deployments_runner.h"
#include "cli/http_client.h"
#include "cli/models_command.h"
#include "cli/monitor_runner.h"

namespace cairn::cli {
namespace {

int ModelsMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               std::optional<std::string> env_server) {
  ParsedModelsArgs parsed = ParseModelsArgs(args, std::move(env_server));
  if (!parsed.command) {
    (parsed.exit_code == 0 ? out : err) << parsed.message;
    return parsed.exit_code;
  }
  const ModelsCommand& command = *parsed.command;
  StatusOr<ServerAddress> server = ParseServerAddress(command.server);
  if (!server.ok()) {
    err << "cairn models: " << server.status().message() << "\n";
    return 2;
  }
  StatusOr<HttpReply> reply =
      SendHttp(*server, BuildHttpCall(command), std::chrono::seconds(command.timeout_seconds));
  if (!reply.ok()) {
    err << "error: " << reply.status().message() << "\n";
    return 1;
  }
  if (reply->status < 200 || reply->status >= 300) {
    err << FormatError(reply->status, reply->body) << "\n";
    return 1;
  }
  StatusOr<std::string> text = FormatReply(command, reply->body);
  if (!text.ok()) {
    err << "error: " << text.status().message() << "\n";
    return 1;
  }
  out << *text;
  out.flush();
  return 0;
}

int DeploymentsMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                    std::istream& in, std::optional<std::string> env_server) {
  ParsedDeploymentsArgs parsed = ParseDeploymentsArgs(args, std::move(env_server));
  if (!parsed.command) {
    (parsed.exit_code == 0 ? out : err) << parsed.message;
    return parsed.exit_code;
  }
  return RunDeployments(*parsed.command, out, err, in);
}

int MonitorMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                std::optional<std::string> env_server, bool err_is_terminal) {
  ParsedMonitorArgs parsed = ParseMonitorArgs(args, std::move(env_server));
  if (!parsed.command) {
    (parsed.exit_code == 0 ? out : err) << parsed.message;
    return parsed.exit_code;
  }
  return RunMonitor(*parsed.command, out, err, err_is_terminal);
}

}  // namespace

int CliMain(const std::vector<std::string>& args) {
  const char* env = std::getenv("CAIRN_SERVER");
  std::optional<std::string> env_server =
      env != nullptr ? std::optional<std::string>(env) : std::nullopt;
  // A terminal on stdin is no request body: read nothing rather than wait for typing.
  std::istringstream no_input;
  std::istream& in = isatty(STDIN_FILENO) ? static_cast<std::istream&>(no_input) : std::cin;
  if (!args.empty() && args[0] == "monitor") {
    return MonitorMain(args, std::cout, std::cerr, std::move(env_server), isatty(STDERR_FILENO));
  }
  return CliMain(args, std::cout, std::cerr, in, std::move(env_server));
}

int CliMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            std::istream& in, std::optional<std::string> env_server) {
  if (!args.empty() && args[0] == "deployments") {
    return DeploymentsMain(args, out, err, in, std::move(env_server));
  }
  if (!args.empty() && args[0] == "monitor") {
    return MonitorMain(args, out, err, std::move(env_server), /*err_is_terminal=*/false);
  }
  return ModelsMain(args, out, err, std::move(env_server));
}

int CliMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            std::optional<std::string> env_server) {
  std::istringstream no_input;
  return CliMain(args, out, err, no_input, std::move(env_server));
}

}  // namespace cairn::cli
