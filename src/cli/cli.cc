#include "cli/cli.h"

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "cli/http_client.h"
#include "cli/models_command.h"

namespace cairn::cli {

int CliMain(const std::vector<std::string>& args) {
  const char* env = std::getenv("CAIRN_SERVER");
  return CliMain(args, std::cout, std::cerr,
                 env != nullptr ? std::optional<std::string>(env) : std::nullopt);
}

int CliMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
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

}  // namespace cairn::cli
