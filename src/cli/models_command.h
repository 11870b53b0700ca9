#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "cli/common.h"
#include "cli/http_client.h"

// `cairn models ...`: argument parsing, the HTTP call each subcommand makes against /api/v1,
// and the rendering of the answer. Everything here is pure; cli.cc does the I/O.
namespace cairn::cli {

enum class ModelsAction { kRegister, kVersions, kPromote, kDelete };

struct ModelsCommand {
  ModelsAction action = ModelsAction::kVersions;
  std::string server;  // --server, else CAIRN_SERVER, else kDefaultServer
  bool json = false;   // print the server's JSON instead of a table
  int64_t timeout_seconds = 30;
  std::string name;

  // register: exactly one of (run_id, artifact_path), logged_model_id, artifact_uri
  std::string run_id;
  std::string artifact_path;
  std::string logged_model_id;
  std::string artifact_uri;
  std::optional<std::string> description;
  std::vector<std::pair<std::string, std::string>> tags;  // --tag k=v, in order

  // versions
  std::optional<int64_t> max_results;
  std::string page_token;

  // promote, delete
  std::string version;
  std::optional<std::string> stage;
  std::optional<std::string> alias;
  bool archive_previous = false;
};

// What parsing decided: run `command`, or stop with `exit_code` (0 after --help, 2 for a usage
// error) after printing `message` (help text to stdout, errors to stderr).
struct ParsedModelsArgs {
  std::optional<ModelsCommand> command;
  int exit_code = 0;
  std::string message;
};

// `args` are the words after the program name; a leading "models" is skipped. `env_server` is
// the CAIRN_SERVER value, if set.
ParsedModelsArgs ParseModelsArgs(const std::vector<std::string>& args,
                                 std::optional<std::string> env_server);

// The request for `command`; model names are percent-encoded ('/' as %2F).
HttpCall BuildHttpCall(const ModelsCommand& command);

// The text to print for a successful (2xx) answer: the JSON body as received with --json, else
// a table or a sentence. INTERNAL if the body is not the JSON the API documents.
StatusOr<std::string> FormatReply(const ModelsCommand& command, std::string_view body);

// FormatError (common.h) renders failed answers.

}  // namespace cairn::cli
