#include "cli/models_command.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <sstream>

#include "base/uri.h"
#include "cli/common.h"
#include "cli/table.h"

namespace cairn::cli {
namespace {

namespace bj = boost::json;

ParsedModelsArgs UsageError(std::string message) {
  return ParsedModelsArgs{.command = std::nullopt, .exit_code = 2, .message = std::move(message)};
}

bool IsVersionNumber(std::string_view text) {
  return !text.empty() && text.size() <= 18 &&
         text.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string EncodedModelPath(const std::string& name) {
  return "/api/v1/models/" + PercentEncode(name, /*keep_slash=*/false);
}

std::string Aliases(const bj::object& version) {
  std::string out;
  auto it = version.find("aliases");
  if (it == version.end() || !it->value().is_array()) return out;
  for (const auto& alias : it->value().as_array()) {
    if (!alias.is_string()) continue;
    if (!out.empty()) out += ",";
    out += alias.as_string();
  }
  return out;
}

StatusOr<const bj::object*> Member(const bj::object& obj, std::string_view key,
                                   std::string_view body) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->value().is_object()) return UnexpectedAnswer(body);
  return &it->value().as_object();
}

}  // namespace

ParsedModelsArgs ParseModelsArgs(const std::vector<std::string>& args,
                                 std::optional<std::string> env_server) {
  ModelsCommand cmd;
  CLI::App app{"Manage registered models on a Cairn server.", "cairn models"};
  app.require_subcommand(1);
  std::string server;
  app.add_option("--server", server,
                 "Server URL, e.g. http://127.0.0.1:5000 (default: $CAIRN_SERVER, else " +
                     std::string(kDefaultServer) + ")");
  app.add_flag("--json", cmd.json, "Print the server's JSON answer instead of a table");
  app.add_option("--timeout", cmd.timeout_seconds, "Seconds to wait for the server (default 30)")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}));

  CLI::App* reg = app.add_subcommand(
      "register", "Register a new model version, creating the registered model if needed.");
  reg->fallthrough();
  reg->add_option("--name", cmd.name, "Registered model name")->required();
  reg->add_option("--run-id", cmd.run_id,
                  "Run whose artifacts hold the model (with --artifact-path)");
  reg->add_option("--artifact-path", cmd.artifact_path,
                  "Path of the model inside the run's artifacts");
  reg->add_option("--logged-model-id", cmd.logged_model_id, "MLflow 3 logged model id (m-...)");
  reg->add_option("--artifact-uri", cmd.artifact_uri, "Any artifact URI holding the model");
  std::string description;
  CLI::Option* description_opt =
      reg->add_option("--description", description, "Version description");
  std::vector<std::string> tags;
  reg->add_option("--tag", tags, "Version tag as key=value (repeatable)")->allow_extra_args(false);

  CLI::App* versions = app.add_subcommand("versions", "List a model's versions, newest first.");
  versions->fallthrough();
  versions->add_option("name", cmd.name, "Registered model name")->required();
  int64_t max_results = 0;
  CLI::Option* max_results_opt =
      versions->add_option("--max-results", max_results, "Versions per page (1-1000, default 100)")
          ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  versions->add_option("--page-token", cmd.page_token, "Continue from a previous page");

  CLI::App* promote =
      app.add_subcommand("promote", "Move a version to a stage, or point an alias at it.");
  promote->fallthrough();
  promote->add_option("name", cmd.name, "Registered model name")->required();
  promote->add_option("--version", cmd.version, "Version number")->required();
  std::string stage;
  std::string alias;
  CLI::Option* stage_opt =
      promote->add_option("--stage", stage, "None, Staging, Production or Archived");
  CLI::Option* alias_opt = promote->add_option("--alias", alias, "Alias to point at the version");
  stage_opt->excludes(alias_opt);
  promote->add_flag("--archive-previous", cmd.archive_previous,
                    "Archive the versions that held the stage or alias before");

  CLI::App* del = app.add_subcommand(
      "delete", "Delete a version, and the files only it uses (never a run's or logged model's).");
  del->fallthrough();
  del->add_option("name", cmd.name, "Registered model name")->required();
  del->add_option("--version", cmd.version, "Version number")->required();

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  if (!reversed.empty() && reversed.back() == "models") reversed.pop_back();
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    std::ostringstream out;
    std::ostringstream err;
    int code = app.exit(e, out, err);
    if (code == 0)
      return ParsedModelsArgs{.command = std::nullopt, .exit_code = 0, .message = out.str()};
    std::string message = err.str();
    if (message.empty()) message = std::string(e.what()) + "\n";
    return UsageError("cairn models: " + message);
  }

  std::string sub;
  if (reg->parsed()) {
    sub = "register";
    cmd.action = ModelsAction::kRegister;
    int forms = (!cmd.run_id.empty() || !cmd.artifact_path.empty() ? 1 : 0) +
                (!cmd.logged_model_id.empty() ? 1 : 0) + (!cmd.artifact_uri.empty() ? 1 : 0);
    if (forms != 1) {
      return UsageError(
          "cairn models register: give exactly one source: --run-id with --artifact-path, "
          "--logged-model-id, or --artifact-uri\n");
    }
    if (cmd.run_id.empty() != cmd.artifact_path.empty()) {
      return UsageError("cairn models register: --run-id and --artifact-path go together\n");
    }
    if (description_opt->count() > 0) cmd.description = description;
    for (const std::string& tag : tags) {
      size_t eq = tag.find('=');
      if (eq == std::string::npos || eq == 0) {
        return UsageError("cairn models register: --tag wants key=value, got '" + tag + "'\n");
      }
      cmd.tags.emplace_back(tag.substr(0, eq), tag.substr(eq + 1));
    }
  } else if (versions->parsed()) {
    sub = "versions";
    cmd.action = ModelsAction::kVersions;
    if (max_results_opt->count() > 0) cmd.max_results = max_results;
  } else if (promote->parsed()) {
    sub = "promote";
    cmd.action = ModelsAction::kPromote;
    if (stage_opt->count() == 0 && alias_opt->count() == 0) {
      return UsageError("cairn models promote: give --stage or --alias\n");
    }
    if (stage_opt->count() > 0) cmd.stage = stage;
    if (alias_opt->count() > 0) cmd.alias = alias;
  } else {
    sub = "delete";
    cmd.action = ModelsAction::kDelete;
  }
  if ((cmd.action == ModelsAction::kPromote || cmd.action == ModelsAction::kDelete) &&
      !IsVersionNumber(cmd.version)) {
    return UsageError("cairn models " + sub + ": --version must be a version number, got '" +
                      cmd.version + "'\n");
  }
  if (cmd.name.empty()) return UsageError("cairn models " + sub + ": the model name is empty\n");

  StatusOr<std::string> chosen = ChooseServer(server, env_server);
  if (!chosen.ok()) return UsageError("cairn models: " + chosen.status().message() + "\n");
  cmd.server = std::move(*chosen);
  return ParsedModelsArgs{.command = std::move(cmd), .exit_code = 0, .message = ""};
}

HttpCall BuildHttpCall(const ModelsCommand& cmd) {
  HttpCall call;
  switch (cmd.action) {
    case ModelsAction::kRegister: {
      bj::object source;
      if (!cmd.run_id.empty()) {
        source["run_id"] = cmd.run_id;
        source["artifact_path"] = cmd.artifact_path;
      } else if (!cmd.logged_model_id.empty()) {
        source["logged_model_id"] = cmd.logged_model_id;
      } else {
        source["artifact_uri"] = cmd.artifact_uri;
      }
      bj::object body{{"name", cmd.name}, {"source", std::move(source)}};
      if (cmd.description) body["description"] = *cmd.description;
      if (!cmd.tags.empty()) {
        bj::array tags;
        for (const auto& [key, value] : cmd.tags) {
          tags.push_back(bj::object{{"key", key}, {"value", value}});
        }
        body["tags"] = std::move(tags);
      }
      call.method = http::Method::kPost;
      call.target = "/api/v1/models/register";
      call.body = bj::serialize(body);
      break;
    }
    case ModelsAction::kVersions: {
      call.method = http::Method::kGet;
      call.target = EncodedModelPath(cmd.name) + "/versions";
      std::string query;
      if (cmd.max_results) query += "max_results=" + std::to_string(*cmd.max_results);
      if (!cmd.page_token.empty()) {
        if (!query.empty()) query += "&";
        query += "page_token=" + PercentEncode(cmd.page_token, /*keep_slash=*/false);
      }
      if (!query.empty()) call.target += "?" + query;
      break;
    }
    case ModelsAction::kPromote: {
      bj::object body{{"version", cmd.version}};
      if (cmd.stage) body["stage"] = *cmd.stage;
      if (cmd.alias) body["alias"] = *cmd.alias;
      if (cmd.archive_previous) body["archive_previous"] = true;
      call.method = http::Method::kPost;
      call.target = EncodedModelPath(cmd.name) + "/promote";
      call.body = bj::serialize(body);
      break;
    }
    case ModelsAction::kDelete:
      call.method = http::Method::kDelete;
      call.target = EncodedModelPath(cmd.name) + "/versions/" + cmd.version;
      break;
  }
  return call;
}

StatusOr<std::string> FormatReply(const ModelsCommand& cmd, std::string_view body) {
  if (cmd.json) {
    std::string out(body);
    if (out.empty() || out.back() != '\n') out += '\n';
    return out;
  }
  ASSIGN_OR_RETURN(bj::object reply, ParseJsonObject(body));
  switch (cmd.action) {
    case ModelsAction::kRegister: {
      ASSIGN_OR_RETURN(const bj::object* v, Member(reply, "model_version", body));
      return FormatTable(
          {"NAME", "VERSION", "STAGE", "STATUS", "CREATED", "SOURCE"},
          {{JsonText(*v, "name"), JsonText(*v, "version"), JsonText(*v, "current_stage"),
            JsonText(*v, "status"), FormatTimestamp(JsonInt(*v, "creation_timestamp")),
            JsonText(*v, "source")}});
    }
    case ModelsAction::kVersions: {
      auto it = reply.find("versions");
      if (it == reply.end() || !it->value().is_array()) return UnexpectedAnswer(body);
      std::vector<std::vector<std::string>> rows;
      for (const auto& item : it->value().as_array()) {
        if (!item.is_object()) return UnexpectedAnswer(body);
        const bj::object& v = item.as_object();
        rows.push_back({JsonText(v, "version"), JsonText(v, "current_stage"), OrDash(Aliases(v)),
                        JsonText(v, "status"), FormatTimestamp(JsonInt(v, "creation_timestamp")),
                        OrDash(JsonText(v, "user_id")), JsonText(v, "source")});
      }
      std::string out;
      if (rows.empty()) {
        out = "No versions.\n";
      } else {
        out = FormatTable({"VERSION", "STAGE", "ALIASES", "STATUS", "CREATED", "USER", "SOURCE"},
                          rows);
      }
      std::string token = JsonText(reply, "next_page_token");
      if (!token.empty()) out += "More versions: --page-token " + token + "\n";
      return out;
    }
    case ModelsAction::kPromote: {
      ASSIGN_OR_RETURN(const bj::object* p, Member(reply, "promotion", body));
      return FormatTable({"NAME", "VERSION", "TARGET", "PREVIOUS", "BY", "AT"},
                         {{JsonText(*p, "name"), JsonText(*p, "version"), JsonText(*p, "target"),
                           OrDash(JsonText(*p, "previous_version")), JsonText(*p, "principal"),
                           FormatTimestamp(JsonInt(*p, "timestamp"))}});
    }
    case ModelsAction::kDelete:
      return "Deleted " + OneLine(cmd.name) + " version " + cmd.version + ".\n";
  }
  return UnexpectedAnswer(body);
}

}  // namespace cairn::cli
