#include "cli/security_command.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <sstream>

#include "base/uri.h"
#include "cli/common.h"
#include "cli/http_client.h"
#include "cli/table.h"

namespace cairn::cli {
namespace {

namespace bj = boost::json;

struct Request {
  HttpCall call;
  // Which array of the answer to print as a table, and its columns (JSON keys); empty: print
  // `message` (or the answer's "token") instead.
  std::string list_key;
  std::vector<std::string> columns;
  std::string message;
  bool raw = false;  // print the body as it is (JSON lines)
};

std::string Seg(std::string_view text) { return PercentEncode(text, /*keep_slash=*/false); }

std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    out += out.empty() ? "?" : "&";
    out += key + "=" + PercentEncode(value, /*keep_slash=*/false);
  }
  return out;
}

// "RATE" or "RATE:BURST" as a budget object.
std::optional<bj::object> Budget(const std::string& text) {
  size_t colon = text.find(':');
  try {
    size_t used = 0;
    double rate = std::stod(text.substr(0, colon), &used);
    if (used != text.substr(0, colon).size()) return std::nullopt;
    double burst = rate;
    if (colon != std::string::npos) {
      std::string b = text.substr(colon + 1);
      burst = std::stod(b, &used);
      if (used != b.size()) return std::nullopt;
    }
    return bj::object{{"rate", rate}, {"burst", burst}};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string Cell(const bj::value& v) {
  if (v.is_string()) return OneLine(v.as_string());
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_uint64()) return std::to_string(v.as_uint64());
  if (v.is_bool()) return v.as_bool() ? "yes" : "no";
  if (v.is_null()) return "-";
  if (v.is_array()) {
    std::string out;
    for (const bj::value& item : v.as_array()) out += (out.empty() ? "" : ",") + Cell(item);
    return out;
  }
  return OneLine(bj::serialize(v));
}

std::string ColumnCell(const bj::object& row, const std::string& column) {
  const bj::value* v = row.if_contains(column);
  if (v == nullptr) return "-";
  if ((column.ends_with("_at") || column == "time_ms") && v->is_int64())
    return FormatTimestamp(v->as_int64());
  if ((column == "control" || column == "predict") && v->is_object()) {
    const bj::object& b = v->as_object();
    return Cell(b.contains("rate") ? b.at("rate") : bj::value()) + "/s burst " +
           Cell(b.contains("burst") ? b.at("burst") : bj::value());
  }
  return OrDash(Cell(*v));
}

StatusOr<std::string> Render(const Request& request, std::string_view body) {
  if (request.raw) return std::string(body);
  ASSIGN_OR_RETURN(bj::object reply, ParseJsonObject(body));
  if (!request.list_key.empty()) {
    const bj::value* list = reply.if_contains(request.list_key);
    if (list == nullptr || !list->is_array()) return UnexpectedAnswer(body);
    std::vector<std::vector<std::string>> rows;
    for (const bj::value& item : list->as_array()) {
      if (!item.is_object()) continue;
      std::vector<std::string> row;
      for (const std::string& column : request.columns) {
        row.push_back(ColumnCell(item.as_object(), column));
      }
      rows.push_back(std::move(row));
    }
    std::vector<std::string> headers;
    for (std::string column : request.columns) {
      for (char& c : column) c = c == '_' ? ' ' : static_cast<char>(std::toupper(c));
      headers.push_back(column);
    }
    return FormatTable(headers, rows);
  }
  if (const bj::value* token = reply.if_contains("token"); token != nullptr && token->is_string()) {
    return "Token " + JsonText(reply, "id") + " for " + JsonText(reply, "principal") + " in " +
           JsonText(reply, "tenant") + " (shown once; store it now):\n" +
           std::string(token->as_string()) + "\n";
  }
  if (reply.contains("ok")) {
    std::string out =
        std::string(reply.at("ok").is_bool() && reply.at("ok").as_bool() ? "audit log intact"
                                                                         : "AUDIT LOG TAMPERED") +
        ": " + JsonText(reply, "checked") + " entries checked";
    if (std::string bad = JsonText(reply, "first_bad_seq"); !bad.empty() && bad != "0") {
      out += "; first bad entry " + bad + ": " + JsonText(reply, "reason");
    }
    return out + "\n";
  }
  return request.message + "\n";
}

}  // namespace

bool IsSecurityCommand(const std::string& word) {
  return word == "tokens" || word == "tenants" || word == "principals" || word == "roles" ||
         word == "rate-limits" || word == "audit";
}

int SecurityCliMain(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                    std::optional<std::string> env_server) {
  if (args.empty() || !IsSecurityCommand(args[0])) {
    err << "cairn: expected tokens, tenants, principals, roles, rate-limits or audit\n";
    return 2;
  }
  const std::string command = args[0];
  CLI::App app{"Manage access to a Cairn server: " + command + ".", "cairn " + command};
  app.require_subcommand(1);
  std::string server;
  bool json = false;
  int64_t timeout_s = 30;
  std::string workspace;
  app.add_option("--server", server,
                 "Server URL (default: $CAIRN_SERVER, else " + std::string(kDefaultServer) + ")");
  app.add_option("--workspace", workspace, "Tenant to act in (X-MLflow-Workspace)");
  app.add_flag("--json", json, "Print the server's JSON answer");
  app.add_option("--timeout", timeout_s, "Seconds to wait for the server")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}));

  std::string name, principal, tenant, role, description, expires_in, control, predict, action,
      outcome, id;
  std::vector<std::string> roles;
  int64_t limit = 100;
  std::map<std::string, CLI::App*> subs;
  auto sub = [&](const std::string& word, const std::string& help) {
    CLI::App* s = app.add_subcommand(word, help);
    s->fallthrough();
    subs[word] = s;
    return s;
  };
  if (command == "tokens") {
    CLI::App* create = sub("create", "Create an API token (printed once).");
    create->add_option("--principal", principal, "Who the token stands for")->required();
    create->add_option("--role", roles, "Role it grants (repeatable)")->required();
    create->add_option("--tenant", tenant, "Tenant (default: the workspace's; * for all)");
    create->add_option("--expires-in", expires_in, "Lifetime such as 90d, 12h; 0: never");
    create->add_option("--description", description, "What it is for");
    CLI::App* list = sub("list", "List tokens (never their secrets).");
    list->add_option("--tenant", tenant, "Tenant (default: the workspace's; * for all)");
    list->add_option("--principal", principal, "Only this principal's");
    sub("revoke", "Revoke a token now.")->add_option("id", id, "Token id")->required();
  } else if (command == "tenants") {
    CLI::App* create = sub("create", "Create a tenant.");
    create->add_option("name", name, "Tenant name")->required();
    create->add_option("--description", description, "What it is");
    sub("list", "List tenants.");
  } else if (command == "principals") {
    sub("list", "List principals.");
    sub("disable", "Refuse every credential of a principal.")
        ->add_option("name", name, "Principal")
        ->required();
    sub("enable", "Accept a disabled principal's credentials again.")
        ->add_option("name", name, "Principal")
        ->required();
  } else if (command == "roles") {
    for (const char* word : {"grant", "revoke"}) {
      CLI::App* s = sub(word, std::string(word) + " a role in a tenant.");
      s->add_option("principal", principal, "Principal")->required();
      s->add_option("role", role, "viewer, editor, deployer, predictor or admin")->required();
      s->add_option("--tenant", tenant, "Tenant (default: the workspace's; * for all)");
    }
    CLI::App* list = sub("list", "List role bindings.");
    list->add_option("--principal", principal, "Only this principal's");
    list->add_option("--tenant", tenant, "Tenant (default: the workspace's; * for all)");
  } else if (command == "rate-limits") {
    CLI::App* set = sub("set", "Set a tenant's request budgets.");
    set->add_option("tenant", tenant, "Tenant")->required();
    set->add_option("--control", control, "Control plane: RATE[:BURST] requests/s (0: unlimited)");
    set->add_option("--predict", predict, "Predictions: RATE[:BURST] requests/s (0: unlimited)");
    sub("delete", "Back to the server's default budgets.")
        ->add_option("tenant", tenant, "Tenant")
        ->required();
    sub("list", "List tenants' budgets.");
  } else {
    for (const char* word : {"list", "export"}) {
      CLI::App* s = sub(word, std::string(word == std::string("list") ? "Show" : "Export") +
                                  " audit entries, oldest first.");
      s->add_option("--tenant", tenant, "Only this tenant's");
      s->add_option("--principal", principal, "Only this principal's");
      s->add_option("--action", action, "Only actions starting with this");
      s->add_option("--outcome", outcome, "ok, error, denied or unauthenticated");
      s->add_option("--limit", limit, "Entries (list only; at most 1000)")
          ->check(CLI::Range(int64_t{1}, int64_t{1000}));
    }
    sub("verify", "Check the audit log's hash chain.");
  }

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  reversed.pop_back();
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    std::ostringstream o;
    std::ostringstream e2;
    int code = app.exit(e, o, e2);
    if (code == 0) {
      out << o.str();
      return 0;
    }
    err << "cairn " << command << ": " << (e2.str().empty() ? std::string(e.what()) : e2.str())
        << "\n";
    return 2;
  }
  std::string verb;
  for (const auto& [word, s] : subs) {
    if (s->parsed()) verb = word;
  }

  Request r;
  r.call.headers.clear();
  using M = http::Method;
  auto set = [&](M method, std::string target, std::string body = "") {
    r.call.method = method;
    r.call.target = std::move(target);
    r.call.body = std::move(body);
  };
  if (command == "tokens" && verb == "create") {
    bj::object body{{"principal", principal}};
    bj::array list;
    for (const auto& role_name : roles) list.emplace_back(role_name);
    body["roles"] = std::move(list);
    if (!tenant.empty()) body["tenant"] = tenant;
    if (!description.empty()) body["description"] = description;
    if (!expires_in.empty()) {
      bool digits = expires_in.find_first_not_of("0123456789") == std::string::npos;
      if (digits) {
        body["expires_in"] = std::stoll(expires_in);
      } else {
        body["expires_in"] = expires_in;
      }
    }
    set(M::kPost, "/api/v1/tokens", bj::serialize(body));
  } else if (command == "tokens" && verb == "list") {
    set(M::kGet, "/api/v1/tokens" + Query({{"tenant", tenant}, {"principal", principal}}));
    r.list_key = "tokens";
    r.columns = {"id",         "principal",  "tenant",     "roles",
                 "created_at", "expires_at", "revoked_at", "description"};
  } else if (command == "tokens") {
    set(M::kDelete, "/api/v1/tokens/" + Seg(id));
    r.message = "Revoked token " + id;
  } else if (command == "tenants" && verb == "create") {
    set(M::kPost, "/api/v1/tenants",
        bj::serialize(bj::object{{"name", name}, {"description", description}}));
    r.message = "Created tenant " + name;
  } else if (command == "tenants") {
    set(M::kGet, "/api/v1/tenants");
    r.list_key = "tenants";
    r.columns = {"name", "description", "created_at"};
  } else if (command == "principals" && verb == "list") {
    set(M::kGet, "/api/v1/principals");
    r.list_key = "principals";
    r.columns = {"name", "kind", "disabled", "created_at"};
  } else if (command == "principals") {
    set(M::kPost, "/api/v1/principals",
        bj::serialize(bj::object{{"name", name}, {"disabled", verb == "disable"}}));
    r.message = (verb == "disable" ? "Disabled " : "Enabled ") + name;
  } else if (command == "roles" && verb == "grant") {
    set(M::kPost, "/api/v1/role-bindings",
        bj::serialize(bj::object{{"principal", principal}, {"role", role}, {"tenant", tenant}}));
    r.message = "Granted " + role + " to " + principal;
  } else if (command == "roles" && verb == "revoke") {
    set(M::kDelete, "/api/v1/role-bindings" +
                        Query({{"principal", principal}, {"role", role}, {"tenant", tenant}}));
    r.message = "Revoked " + role + " from " + principal;
  } else if (command == "roles") {
    set(M::kGet, "/api/v1/role-bindings" + Query({{"principal", principal}, {"tenant", tenant}}));
    r.list_key = "role_bindings";
    r.columns = {"principal", "tenant", "role", "created_by", "created_at"};
  } else if (command == "rate-limits" && verb == "set") {
    bj::object body;
    for (auto [key, text] : {std::pair{"control", &control}, std::pair{"predict", &predict}}) {
      if (text->empty()) continue;
      std::optional<bj::object> budget = Budget(*text);
      if (!budget) {
        err << "cairn rate-limits set: --" << key << " must be RATE or RATE:BURST\n";
        return 2;
      }
      body[key] = std::move(*budget);
    }
    set(M::kPut, "/api/v1/rate-limits/" + Seg(tenant), bj::serialize(body));
    r.message = "Set the budgets of " + tenant;
  } else if (command == "rate-limits" && verb == "delete") {
    set(M::kDelete, "/api/v1/rate-limits/" + Seg(tenant));
    r.message = tenant + " is back on the default budgets";
  } else if (command == "rate-limits") {
    set(M::kGet, "/api/v1/rate-limits");
    r.list_key = "rate_limits";
    r.columns = {"tenant", "control", "predict", "updated_at"};
  } else if (command == "audit" && verb == "verify") {
    set(M::kGet, "/api/v1/audit/verify");
  } else {
    std::vector<std::pair<std::string, std::string>> q = {
        {"tenant", tenant}, {"principal", principal}, {"action", action}, {"outcome", outcome}};
    if (verb == "list") {
      q.emplace_back("max_results", std::to_string(limit));
      set(M::kGet, "/api/v1/audit" + Query(q));
      r.list_key = "entries";
      r.columns = {"seq",    "time_ms", "principal",  "tenant",
                   "action", "status",  "request_id", "client"};
    } else {
      set(M::kGet, "/api/v1/audit/export" + Query(q));
      r.raw = true;
    }
  }
  if (!workspace.empty()) r.call.headers.emplace_back("X-MLflow-Workspace", workspace);

  StatusOr<std::string> url = ChooseServer(server, env_server);
  if (!url.ok()) {
    err << "cairn " << command << ": " << url.status().message() << "\n";
    return 2;
  }
  StatusOr<ServerAddress> address = ParseServerAddress(*url);
  if (!address.ok()) {
    err << "cairn " << command << ": " << address.status().message() << "\n";
    return 2;
  }
  StatusOr<HttpReply> reply = SendHttp(*address, r.call, std::chrono::seconds(timeout_s));
  if (!reply.ok()) {
    err << "error: " << reply.status().message() << "\n";
    return 1;
  }
  if (reply->status < 200 || reply->status >= 300) {
    err << FormatError(reply->status, reply->body) << "\n";
    return 1;
  }
  if (json) {
    out << reply->body << (reply->body.ends_with('\n') ? "" : "\n");
    return 0;
  }
  StatusOr<std::string> text = Render(r, reply->body);
  if (!text.ok()) {
    err << "error: " << text.status().message() << "\n";
    return 1;
  }
  out << *text;
  if (command == "audit" && verb == "verify") {
    auto parsed = ParseJsonObject(reply->body);
    if (parsed.ok() && parsed->contains("ok") && parsed->at("ok").is_bool() &&
        !parsed->at("ok").as_bool()) {
      return 1;
    }
  }
  return 0;
}

}  // namespace cairn::cli
