#include "cli/deployments_command.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "base/uri.h"
#include "cli/table.h"

namespace cairn::cli {
namespace {

namespace bj = boost::json;

constexpr std::string_view kDeployments = "/api/v1/deployments";
constexpr size_t kSummaryChars = 40;  // JSON cells of the predictions table

ParsedDeploymentsArgs UsageError(std::string message) {
  return ParsedDeploymentsArgs{
      .command = std::nullopt, .exit_code = 2, .message = std::move(message)};
}

bool IsVersionNumber(std::string_view text) {
  return !text.empty() && text.size() <= 18 &&
         text.find_first_not_of("0123456789") == std::string_view::npos;
}

bool EndsWithCsv(std::string_view path) {
  if (path.size() < 4) return false;
  std::string tail(path.substr(path.size() - 4));
  for (char& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return tail == ".csv";
}

std::string Segment(std::string_view text) { return PercentEncode(text, /*keep_slash=*/false); }

std::string DeploymentPath(const DeploymentsCommand& cmd) {
  return std::string(kDeployments) + "/" + Segment(cmd.deployment);
}

HttpCall Call(const DeploymentsCommand& cmd, http::Method method, std::string target,
              std::string body = "") {
  HttpCall call{.method = method, .target = std::move(target), .body = std::move(body)};
  if (!cmd.workspace.empty()) call.headers.emplace_back("X-MLflow-Workspace", cmd.workspace);
  return call;
}

// The deployment_config of create and the body of scale: replicas and/or autoscaling.
bj::object ReplicaConfig(const DeploymentsCommand& cmd) {
  bj::object config;
  if (cmd.replicas) config["replicas"] = *cmd.replicas;
  bj::object autoscaling;
  if (cmd.min_replicas) autoscaling["min"] = *cmd.min_replicas;
  if (cmd.max_replicas) autoscaling["max"] = *cmd.max_replicas;
  if (cmd.target_concurrency) autoscaling["target_concurrency"] = *cmd.target_concurrency;
  if (!autoscaling.empty()) config["autoscaling"] = std::move(autoscaling);
  return config;
}

const bj::object* Object(const bj::object& obj, std::string_view key) {
  auto it = obj.find(key);
  return it != obj.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
}

// "ready/desired", with the autoscaling bounds when they differ: "2/2 (1-4)".
std::string Replicas(const bj::object& status) {
  const bj::object* r = Object(status, "replicas");
  if (r == nullptr) return "-";
  std::string out =
      std::to_string(JsonInt(*r, "ready")) + "/" + std::to_string(JsonInt(*r, "desired"));
  int64_t min = JsonInt(*r, "min");
  int64_t max = JsonInt(*r, "max");
  if (min != max) out += " (" + std::to_string(min) + "-" + std::to_string(max) + ")";
  return out;
}

std::vector<std::string> StatusRow(const bj::object& s) {
  return {JsonText(s, "deployment_id"),
          JsonText(s, "name"),
          JsonText(s, "state"),
          JsonText(s, "model_name"),
          JsonText(s, "model_version"),
          OrDash(JsonText(s, "runtime")),
          OrDash(JsonText(s, "device")),
          Replicas(s),
          FormatTimestamp(JsonInt(s, "updated_at"))};
}

const std::vector<std::string>& StatusHeader() {
  static const std::vector<std::string> header = {
      "ID", "NAME", "STATE", "MODEL", "VERSION", "RUNTIME", "DEVICE", "REPLICAS", "UPDATED"};
  return header;
}

// Compact JSON with numbers written the shortest way ("0.2", where bj::serialize says "2E-1").
void AppendCompact(const bj::value& value, std::string& out) {
  switch (value.kind()) {
    case bj::kind::double_: {
      char buffer[32];
      auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value.get_double());
      out.append(buffer, ec == std::errc() ? end : buffer);
      return;
    }
    case bj::kind::array: {
      out += '[';
      bool first = true;
      for (const bj::value& item : value.get_array()) {
        if (!first) out += ',';
        first = false;
        AppendCompact(item, out);
      }
      out += ']';
      return;
    }
    case bj::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.get_object()) {
        if (!first) out += ',';
        first = false;
        out += bj::serialize(bj::string(key));
        out += ':';
        AppendCompact(item, out);
      }
      out += '}';
      return;
    }
    default:
      out += bj::serialize(value);
  }
}

// A JSON value in one short cell.
std::string Summary(const bj::value* value) {
  if (value == nullptr || value->is_null()) return "-";
  std::string text;
  AppendCompact(*value, text);
  if (text.size() <= kSummaryChars) return text;
  size_t cut = kSummaryChars - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

std::string Latency(const bj::object& p) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", static_cast<double>(JsonInt(p, "latency_us")) / 1e3);
  return buffer;
}

StatusOr<std::string> FormatPredictions(const bj::object& reply, std::string_view body) {
  auto it = reply.find("predictions");
  if (it == reply.end() || !it->value().is_array()) return UnexpectedAnswer(body);
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : it->value().as_array()) {
    if (!item.is_object()) return UnexpectedAnswer(body);
    const bj::object& p = item.as_object();
    rows.push_back({FormatTimestamp(JsonInt(p, "timestamp_ms")), OrDash(JsonText(p, "request_id")),
                    OrDash(JsonText(p, "model_version")), JsonText(p, "status_code"), Latency(p),
                    Summary(p.if_contains("inputs")), Summary(p.if_contains("outputs"))});
  }
  std::string out = rows.empty() ? "No predictions.\n"
                                 : FormatTable({"TIME", "REQUEST_ID", "VERSION", "STATUS",
                                                "LATENCY_MS", "INPUTS", "OUTPUTS"},
                                               rows);
  std::string token = JsonText(reply, "next_page_token");
  if (!token.empty()) out += "More predictions: --page-token " + OneLine(token) + "\n";
  return out;
}

}  // namespace

ParsedDeploymentsArgs ParseDeploymentsArgs(const std::vector<std::string>& args,
                                           std::optional<std::string> env_server) {
  DeploymentsCommand cmd;
  CLI::App app{"Deploy registered models on a Cairn server and query them.", "cairn deployments"};
  app.require_subcommand(1);
  std::string server;
  app.add_option("--server", server,
                 "Server URL, e.g. http://127.0.0.1:5000 (default: $CAIRN_SERVER, else " +
                     std::string(kDefaultServer) + ")");
  app.add_option("--workspace", cmd.workspace,
                 "Tenant, sent as X-MLflow-Workspace (default: the server's default)");
  app.add_flag("--json", cmd.json, "Print the server's JSON answer instead of a table");
  CLI::Option* timeout_opt =
      app.add_option("--timeout", cmd.timeout_seconds,
                     "Seconds to wait for each answer (default 30) and, with --wait, for the "
                     "deployment to be ready (default 300)")
          ->check(CLI::Range(int64_t{1}, int64_t{86400}));

  const auto positive = CLI::Range(int64_t{1}, int64_t{1000000});
  std::string version;
  std::string alias;
  int64_t replicas = 0;
  int64_t min_replicas = 0;
  int64_t max_replicas = 0;
  int64_t target_concurrency = 0;

  CLI::App* create = app.add_subcommand("create", "Deploy a registered model version.");
  create->fallthrough();
  create->add_option("--model-name", cmd.model_name, "Registered model name")->required();
  CLI::Option* create_version = create->add_option("--version", version, "Model version");
  CLI::Option* create_alias =
      create->add_option("--alias", alias, "Model alias, e.g. champion (resolved when deployed)");
  create_version->excludes(create_alias);
  create->add_option("--name", cmd.name,
                     "Endpoint name, [a-z0-9-] (default: derived from the model and version)");
  create->add_option("--runtime", cmd.runtime, "auto (default), onnx or python")
      ->check(CLI::IsMember({"auto", "onnx", "python"}));
  create->add_option("--device", cmd.device, "cpu (default) or cuda")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  CLI::Option* create_replicas =
      create->add_option("--replicas", replicas, "Replica count")->check(positive);
  CLI::Option* create_min =
      create->add_option("--min", min_replicas, "Autoscaling: fewest replicas")->check(positive);
  CLI::Option* create_max =
      create->add_option("--max", max_replicas, "Autoscaling: most replicas")->check(positive);
  CLI::Option* create_target =
      create
          ->add_option("--target-concurrency", target_concurrency,
                       "Autoscaling: in-flight requests per replica to aim for")
          ->check(positive);
  create->add_flag("--wait", cmd.wait, "Wait until the deployment is READY (exit 1 if it FAILED)");

  CLI::App* status = app.add_subcommand("status", "Show a deployment.");
  status->fallthrough();
  status->add_option("deployment", cmd.deployment, "Deployment id or endpoint name")->required();

  CLI::App* list = app.add_subcommand("list", "List the deployments.");
  list->fallthrough();

  CLI::App* scale = app.add_subcommand("scale", "Set the replica count or autoscaling bounds.");
  scale->fallthrough();
  scale->add_option("deployment", cmd.deployment, "Deployment id or endpoint name")->required();
  CLI::Option* scale_replicas =
      scale->add_option("--replicas", replicas, "Replica count (ends autoscaling)")
          ->check(positive);
  CLI::Option* scale_min =
      scale->add_option("--min", min_replicas, "Autoscaling: fewest replicas")->check(positive);
  CLI::Option* scale_max =
      scale->add_option("--max", max_replicas, "Autoscaling: most replicas")->check(positive);

  CLI::App* update = app.add_subcommand(
      "update", "Move a deployment to another model version, swapped in without failing requests.");
  update->fallthrough();
  update->add_option("deployment", cmd.deployment, "Deployment id or endpoint name")->required();
  CLI::Option* update_version = update->add_option("--version", version, "Model version");
  CLI::Option* update_alias = update->add_option("--alias", alias, "Model alias");
  update_version->excludes(update_alias);
  update->add_option("--model-name", cmd.model_name,
                     "Registered model name (default: the one deployed)");
  update->add_flag("--wait", cmd.wait, "Wait until the new version serves (exit 1 if it failed)");

  CLI::App* del =
      app.add_subcommand("delete", "Delete a deployment once its in-flight requests are done.");
  del->fallthrough();
  del->add_option("deployment", cmd.deployment, "Deployment id or endpoint name")->required();

  CLI::App* predict = app.add_subcommand(
      "predict",
      "Score input on a deployment and print the answer. The body comes from --data, --file or "
      "stdin.");
  predict->fallthrough();
  predict->add_option("deployment", cmd.deployment, "Deployment id or endpoint name")->required();
  std::string data;
  CLI::Option* data_opt = predict->add_option("--data", data, "The request body as JSON text");
  CLI::Option* file_opt = predict->add_option(
      "--file", cmd.file, "Read the body from a file: JSON, or CSV when it ends in .csv");
  data_opt->excludes(file_opt);
  predict->add_flag("--csv", cmd.csv, "The body is CSV with a header row (sent as text/csv)");
  std::string protocol = "invocations";
  predict
      ->add_option("--protocol", protocol,
                   "invocations (MLflow scoring, default) or v2 (Open Inference Protocol)")
      ->check(CLI::IsMember({"invocations", "v2"}));

  CLI::App* predictions =
      app.add_subcommand("predictions", "Page through a deployment's logged predictions.");
  predictions->fallthrough();
  predictions->add_option("deployment", cmd.deployment, "Deployment id or endpoint name")
      ->required();
  int64_t max_results = 0;
  CLI::Option* max_results_opt =
      predictions
          ->add_option("--max-results", max_results, "Predictions per page (1-1000, default 100)")
          ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  predictions->add_option("--page-token", cmd.page_token, "Continue from a previous page");

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty() && reversed.back() == "deployments") reversed.pop_back();
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out;
    std::ostringstream err;
    int code = app.exit(e, out, err);
    if (code == 0) {
      return ParsedDeploymentsArgs{.command = std::nullopt, .exit_code = 0, .message = out.str()};
    }
    std::string message = err.str();
    if (message.empty()) message = std::string(e.what()) + "\n";
    return UsageError("cairn deployments: " + message);
  }

  auto set = [](CLI::Option* opt, int64_t value, std::optional<int64_t>& field) {
    if (opt->count() > 0) field = value;
  };
  std::string sub;
  if (create->parsed()) {
    sub = "create";
    cmd.action = DeploymentsAction::kCreate;
    if (create_version->count() == 0 && create_alias->count() == 0) {
      return UsageError("cairn deployments create: give --version or --alias\n");
    }
    set(create_replicas, replicas, cmd.replicas);
    set(create_min, min_replicas, cmd.min_replicas);
    set(create_max, max_replicas, cmd.max_replicas);
    set(create_target, target_concurrency, cmd.target_concurrency);
    if (cmd.model_name.empty()) {
      return UsageError("cairn deployments create: the model name is empty\n");
    }
  } else if (status->parsed()) {
    sub = "status";
    cmd.action = DeploymentsAction::kStatus;
  } else if (list->parsed()) {
    sub = "list";
    cmd.action = DeploymentsAction::kList;
  } else if (scale->parsed()) {
    sub = "scale";
    cmd.action = DeploymentsAction::kScale;
    set(scale_replicas, replicas, cmd.replicas);
    set(scale_min, min_replicas, cmd.min_replicas);
    set(scale_max, max_replicas, cmd.max_replicas);
    if (!cmd.replicas && !cmd.min_replicas && !cmd.max_replicas) {
      return UsageError("cairn deployments scale: give --replicas, or --min and/or --max\n");
    }
  } else if (update->parsed()) {
    sub = "update";
    cmd.action = DeploymentsAction::kUpdate;
    if (update_version->count() == 0 && update_alias->count() == 0) {
      return UsageError("cairn deployments update: give --version or --alias\n");
    }
  } else if (del->parsed()) {
    sub = "delete";
    cmd.action = DeploymentsAction::kDelete;
  } else if (predict->parsed()) {
    sub = "predict";
    cmd.action = DeploymentsAction::kPredict;
    if (data_opt->count() > 0) cmd.data = data;
    if (EndsWithCsv(cmd.file)) cmd.csv = true;
    cmd.protocol = protocol == "v2" ? PredictProtocol::kV2 : PredictProtocol::kInvocations;
    if (cmd.csv && cmd.protocol == PredictProtocol::kV2) {
      return UsageError("cairn deployments predict: the v2 protocol takes JSON, not CSV\n");
    }
  } else {
    sub = "predictions";
    cmd.action = DeploymentsAction::kPredictions;
    set(max_results_opt, max_results, cmd.max_results);
  }

  if (create_version->count() > 0 || update_version->count() > 0) {
    if (!IsVersionNumber(version)) {
      return UsageError("cairn deployments " + sub + ": --version must be a version number, got '" +
                        version + "'\n");
    }
    cmd.version = version;
  }
  if (create_alias->count() > 0 || update_alias->count() > 0) {
    if (alias.empty()) return UsageError("cairn deployments " + sub + ": the alias is empty\n");
    cmd.alias = alias;
  }
  if (cmd.min_replicas && cmd.max_replicas && *cmd.min_replicas > *cmd.max_replicas) {
    return UsageError("cairn deployments " + sub + ": --min must not exceed --max\n");
  }
  bool needs_deployment =
      cmd.action != DeploymentsAction::kCreate && cmd.action != DeploymentsAction::kList;
  if (needs_deployment && cmd.deployment.empty()) {
    return UsageError("cairn deployments " + sub + ": the deployment id or name is empty\n");
  }
  if (timeout_opt->count() > 0) cmd.wait_seconds = cmd.timeout_seconds;

  StatusOr<std::string> chosen = ChooseServer(server, env_server);
  if (!chosen.ok()) return UsageError("cairn deployments: " + chosen.status().message() + "\n");
  cmd.server = std::move(*chosen);
  return ParsedDeploymentsArgs{.command = std::move(cmd), .exit_code = 0, .message = ""};
}

HttpCall BuildDeploymentsCall(const DeploymentsCommand& cmd) {
  switch (cmd.action) {
    case DeploymentsAction::kCreate:
    case DeploymentsAction::kUpdate: {
      bj::object body;
      if (!cmd.model_name.empty()) body["model_name"] = cmd.model_name;
      if (cmd.version) body["version"] = *cmd.version;
      if (cmd.alias) body["alias"] = *cmd.alias;
      if (!cmd.name.empty()) body["name"] = cmd.name;
      if (!cmd.runtime.empty()) body["runtime"] = cmd.runtime;
      if (!cmd.device.empty()) body["device"] = cmd.device;
      bj::object config = ReplicaConfig(cmd);
      if (!config.empty()) body["deployment_config"] = std::move(config);
      if (cmd.action == DeploymentsAction::kCreate) {
        return Call(cmd, http::Method::kPost, std::string(kDeployments) + "/create",
                    bj::serialize(body));
      }
      return Call(cmd, http::Method::kPut, DeploymentPath(cmd), bj::serialize(body));
    }
    case DeploymentsAction::kStatus:
      return StatusCall(cmd, cmd.deployment);
    case DeploymentsAction::kList:
      return Call(cmd, http::Method::kGet, std::string(kDeployments));
    case DeploymentsAction::kScale:
      return Call(cmd, http::Method::kPut, DeploymentPath(cmd) + "/scale",
                  bj::serialize(ReplicaConfig(cmd)));
    case DeploymentsAction::kDelete:
      return Call(cmd, http::Method::kDelete, DeploymentPath(cmd));
    case DeploymentsAction::kPredictions: {
      std::string target = DeploymentPath(cmd) + "/predictions";
      std::string query;
      if (cmd.max_results) query += "max_results=" + std::to_string(*cmd.max_results);
      if (!cmd.page_token.empty()) {
        if (!query.empty()) query += "&";
        query += "page_token=" + Segment(cmd.page_token);
      }
      if (!query.empty()) target += "?" + query;
      return Call(cmd, http::Method::kGet, std::move(target));
    }
    case DeploymentsAction::kPredict:
      break;  // BuildPredictCall, once the endpoint name is known
  }
  return StatusCall(cmd, cmd.deployment);
}

HttpCall StatusCall(const DeploymentsCommand& cmd, std::string_view id_or_name) {
  return Call(cmd, http::Method::kGet,
              std::string(kDeployments) + "/" + Segment(id_or_name) + "/status");
}

HttpCall ServingVersionCall(const DeploymentsCommand& cmd, std::string_view name,
                            std::string_view version) {
  return Call(cmd, http::Method::kGet,
              "/v2/models/" + Segment(name) + "/versions/" + Segment(version) + "/ready");
}

StatusOr<PredictBody> ReadPredictBody(const DeploymentsCommand& cmd, std::istream& in) {
  PredictBody body{.content_type = cmd.csv ? "text/csv" : "application/json", .data = ""};
  std::string source;
  if (cmd.data) {
    body.data = *cmd.data;
    source = "--data";
  } else if (!cmd.file.empty()) {
    std::ifstream file(cmd.file, std::ios::binary);
    if (!file) return NotFound("cannot read " + cmd.file);
    body.data.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    if (file.bad()) return NotFound("cannot read " + cmd.file);
    source = cmd.file;
  } else {
    body.data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    source = "stdin";
  }
  if (body.data.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument("the request body from " + source +
                           " is empty (give --data or --file, or pipe the body on stdin)");
  }
  if (!cmd.csv) {
    boost::system::error_code ec;
    bj::value parsed = bj::parse(body.data, ec);
    if (ec) {
      return InvalidArgument("the request body from " + source + " is not JSON: " + ec.message());
    }
    if (cmd.protocol == PredictProtocol::kV2 && !parsed.is_object()) {
      return InvalidArgument("a v2 request body is a JSON object with \"inputs\"");
    }
  }
  return body;
}

HttpCall BuildPredictCall(const DeploymentsCommand& cmd, std::string_view name, PredictBody body) {
  std::string target = cmd.protocol == PredictProtocol::kV2
                           ? "/v2/models/" + Segment(name) + "/infer"
                           : "/endpoints/" + Segment(name) + "/invocations";
  HttpCall call = Call(cmd, http::Method::kPost, std::move(target), std::move(body.data));
  call.content_type = std::move(body.content_type);
  return call;
}

WaitCheck CheckWait(const bj::object& status, std::string_view wanted_version,
                    int64_t stale_failed_at) {
  const std::string state = JsonText(status, "state");
  if (state == "FAILED" && stale_failed_at != 0 &&
      JsonInt(status, "updated_at") == stale_failed_at) {
    return {WaitCheck::kWaiting, ""};
  }
  const std::string name = OrDash(JsonText(status, "name"));
  const std::string reason = JsonText(status, "reason");
  if (state == "FAILED") {
    return {WaitCheck::kFailed,
            "deployment " + name + " failed: " + (reason.empty() ? "no reason given" : reason)};
  }
  if (state == "DELETING") return {WaitCheck::kFailed, "deployment " + name + " is being deleted"};
  if (wanted_version.empty()) {
    return {state == "READY" ? WaitCheck::kReady : WaitCheck::kWaiting, ""};
  }
  const std::string version = JsonText(status, "model_version");
  if (version != wanted_version) {
    // A failed update puts the previous version back; a newer update replaces the wanted one.
    return {WaitCheck::kFailed, "deployment " + name + " is at version " + version + ", not " +
                                    std::string(wanted_version) +
                                    (reason.empty() ? "" : ": " + reason)};
  }
  return {state == "READY" ? WaitCheck::kCheckServing : WaitCheck::kWaiting, ""};
}

StatusOr<std::string> FormatDeploymentsReply(const DeploymentsCommand& cmd, std::string_view body) {
  if (cmd.json) {
    std::string out(body);
    if (out.empty() || out.back() != '\n') out += '\n';
    return out;
  }
  ASSIGN_OR_RETURN(bj::object reply, ParseJsonObject(body));
  switch (cmd.action) {
    case DeploymentsAction::kList: {
      auto it = reply.find("deployments");
      if (it == reply.end() || !it->value().is_array()) return UnexpectedAnswer(body);
      std::vector<std::vector<std::string>> rows;
      for (const auto& item : it->value().as_array()) {
        if (!item.is_object()) return UnexpectedAnswer(body);
        rows.push_back(StatusRow(item.as_object()));
      }
      if (rows.empty()) return std::string("No deployments.\n");
      return FormatTable(StatusHeader(), rows);
    }
    case DeploymentsAction::kDelete:
      if (JsonText(reply, "deployment_id").empty()) return UnexpectedAnswer(body);
      return "Deleted deployment " + OneLine(JsonText(reply, "deployment_id")) + ".\n";
    case DeploymentsAction::kPredictions:
      return FormatPredictions(reply, body);
    case DeploymentsAction::kCreate:
    case DeploymentsAction::kStatus:
    case DeploymentsAction::kScale:
    case DeploymentsAction::kUpdate:
    case DeploymentsAction::kPredict: {
      if (JsonText(reply, "deployment_id").empty() || JsonText(reply, "state").empty()) {
        return UnexpectedAnswer(body);
      }
      std::string out = FormatTable(StatusHeader(), {StatusRow(reply)});
      if (std::string reason = JsonText(reply, "reason"); !reason.empty()) {
        out += "Reason: " + OneLine(reason) + "\n";
      }
      const bj::object* endpoints = Object(reply, "endpoints");
      StatusOr<ServerAddress> address = ParseServerAddress(cmd.server);
      if (cmd.action == DeploymentsAction::kStatus && endpoints != nullptr && address.ok()) {
        for (const auto& [label, key] :
             {std::pair{"Invocations", "invocations"}, std::pair{"V2 infer", "v2_infer"}}) {
          std::string path = JsonText(*endpoints, key);
          if (!path.empty())
            out += std::string(label) + ": " + OneLine(address->UrlOf(path)) + "\n";
        }
      }
      return out;
    }
  }
  return UnexpectedAnswer(body);
}

}  // namespace cairn::cli
