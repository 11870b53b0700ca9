#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cli/common.h"
#include "cli/http_client.h"

// `cairn deployments ...`: argument parsing, the HTTP calls each subcommand makes against
// /api/v1/deployments and the prediction routes, the decisions of --wait, and the rendering of
// the answers. Everything here is pure except ReadPredictBody (reads a file or the given
// stream); deployments_runner.cc does the I/O.
namespace cairn::cli {

enum class DeploymentsAction {
  kCreate,
  kStatus,
  kList,
  kScale,
  kUpdate,
  kDelete,
  kPredict,
  kPredictions
};

enum class PredictProtocol { kInvocations, kV2 };

struct DeploymentsCommand {
  DeploymentsAction action = DeploymentsAction::kList;
  std::string server;     // --server, else CAIRN_SERVER, else kDefaultServer
  std::string workspace;  // --workspace: sent as X-MLflow-Workspace; "" = the server's default
  bool json = false;      // print the server's JSON instead of a table
  // --timeout: the limit of each exchange with the server, and with --wait of the whole wait.
  int64_t timeout_seconds = 30;
  int64_t wait_seconds = 300;  // --timeout when given, else 300
  std::string deployment;      // the ID|NAME argument (all but create and list)

  // create (model_name required), update (model_name optional)
  std::string model_name;
  std::optional<std::string> version;
  std::optional<std::string> alias;
  std::string name;     // endpoint name; "" = the server derives one
  std::string runtime;  // "" = not sent (server default auto)
  std::string device;   // "" = not sent (server default cpu)
  bool wait = false;

  // create, scale
  std::optional<int64_t> replicas;
  std::optional<int64_t> min_replicas;
  std::optional<int64_t> max_replicas;
  std::optional<int64_t> target_concurrency;  // create only

  // predict: at most one of data and file; neither = stdin
  std::optional<std::string> data;
  std::string file;
  bool csv = false;  // --csv, or a --file ending in .csv
  PredictProtocol protocol = PredictProtocol::kInvocations;

  // predictions
  std::optional<int64_t> max_results;
  std::string page_token;
};

// What parsing decided: run `command`, or stop with `exit_code` (0 after --help, 2 for a usage
// error) after printing `message` (help text to stdout, errors to stderr).
struct ParsedDeploymentsArgs {
  std::optional<DeploymentsCommand> command;
  int exit_code = 0;
  std::string message;
};

// `args` are the words after the program name; a leading "deployments" is skipped.
// `env_server` is the CAIRN_SERVER value, if set.
ParsedDeploymentsArgs ParseDeploymentsArgs(const std::vector<std::string>& args,
                                           std::optional<std::string> env_server);

// The request for `command` (all actions but kPredict): create, status, list, scale, update,
// delete, predictions. The ID|NAME argument is percent-encoded as one path segment.
HttpCall BuildDeploymentsCall(const DeploymentsCommand& command);

// GET the status of `id_or_name`, for --wait and for predict.
HttpCall StatusCall(const DeploymentsCommand& command, std::string_view id_or_name);

// GET /v2/models/{name}/versions/{version}/ready: 200 once `name` serves `version`.
HttpCall ServingVersionCall(const DeploymentsCommand& command, std::string_view name,
                            std::string_view version);

// A prediction body and how to send it.
struct PredictBody {
  std::string content_type;  // "application/json" or "text/csv"
  std::string data;
};

// The body of `predict`: --data, else --file, else all of `in` (stdin). JSON bodies must parse;
// the V2 protocol takes JSON only. INVALID_ARGUMENT for an empty or malformed body, NOT_FOUND
// when the file cannot be read.
StatusOr<PredictBody> ReadPredictBody(const DeploymentsCommand& command, std::istream& in);

// The prediction request for an endpoint `name` (from the deployment's status).
HttpCall BuildPredictCall(const DeploymentsCommand& command, std::string_view name,
                          PredictBody body);

// One look at a status object while waiting for a deployment.
struct WaitCheck {
  enum Outcome {
    kWaiting,       // not there yet: poll again
    kCheckServing,  // READY at the wanted version: done once ServingVersionCall answers 200
    kReady,         // done
    kFailed,        // stop with `message`
  };
  Outcome outcome = kWaiting;
  std::string message;
};

// `wanted_version` empty: any READY will do (create). Otherwise (update) the deployment must
// be READY at that version and actually serve it; a status back at another version means the
// update failed (the reason says why) or was superseded. `stale_failed_at`: when an update is
// sent to a FAILED deployment, the updated_at of the server's answer; a FAILED status with that
// same updated_at is the state from before the update (the reload has not started yet), not a
// new failure. 0 for none.
WaitCheck CheckWait(const boost::json::object& status, std::string_view wanted_version,
                    int64_t stale_failed_at = 0);

// The text to print for a successful (2xx) answer to BuildDeploymentsCall: the JSON body as
// received with --json, else a table or a sentence. INTERNAL if the body is not the JSON the API
// documents.
StatusOr<std::string> FormatDeploymentsReply(const DeploymentsCommand& command,
                                             std::string_view body);

}  // namespace cairn::cli
