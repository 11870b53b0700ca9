#include "cli/deployments_runner.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace cairn::cli {
namespace {

namespace bj = boost::json;
using Clock = std::chrono::steady_clock;

// Sends calls to one server and reports failures on `err`.
class Session {
 public:
  Session(const DeploymentsCommand& cmd, ServerAddress server, std::ostream& err)
      : server_(std::move(server)),
        timeout_(std::chrono::seconds(cmd.timeout_seconds)),
        err_(err) {}

  // The answer, whatever its HTTP status; nullopt (after printing why) when there is none.
  std::optional<HttpReply> SendAny(const HttpCall& call) {
    StatusOr<HttpReply> reply = SendHttp(server_, call, timeout_);
    if (!reply.ok()) {
      err_ << "error: " << reply.status().message() << "\n";
      return std::nullopt;
    }
    return std::move(*reply);
  }

  // A 2xx answer's body; nullopt (after printing the error) otherwise.
  std::optional<std::string> Send(const HttpCall& call) {
    std::optional<HttpReply> reply = SendAny(call);
    if (!reply) return std::nullopt;
    if (reply->status < 200 || reply->status >= 300) {
      err_ << FormatError(reply->status, reply->body) << "\n";
      return std::nullopt;
    }
    return std::move(reply->body);
  }

  // A 2xx answer's body as a JSON object.
  std::optional<bj::object> SendForObject(const HttpCall& call) {
    std::optional<std::string> body = Send(call);
    if (!body) return std::nullopt;
    StatusOr<bj::object> parsed = ParseJsonObject(*body);
    if (!parsed.ok()) {
      err_ << "error: " << parsed.status().message() << "\n";
      return std::nullopt;
    }
    return std::move(*parsed);
  }

 private:
  const ServerAddress server_;
  const std::chrono::milliseconds timeout_;
  std::ostream& err_;
};

int Print(const DeploymentsCommand& cmd, std::string_view body, std::ostream& out,
          std::ostream& err) {
  StatusOr<std::string> text = FormatDeploymentsReply(cmd, body);
  if (!text.ok()) {
    err << "error: " << text.status().message() << "\n";
    return 1;
  }
  out << *text;
  out.flush();
  return 0;
}

// Polls the status of the deployment `first` describes until CheckWait says it is ready;
// returns the last status (serialized) or nullopt after printing why not.
std::optional<std::string> WaitForReady(const DeploymentsCommand& cmd, Session& session,
                                        bj::object first, const std::string& wanted_version,
                                        int64_t stale_failed_at, std::ostream& err) {
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(cmd.wait_seconds);
  std::string id = JsonText(first, "deployment_id");
  if (id.empty()) id = JsonText(first, "name");
  if (id.empty()) id = cmd.deployment;
  bj::object status = std::move(first);
  auto interval = std::chrono::milliseconds(100);
  while (true) {
    WaitCheck check = CheckWait(status, wanted_version, stale_failed_at);
    if (check.outcome == WaitCheck::kFailed) {
      err << "error: " << OneLine(check.message) << "\n";
      return std::nullopt;
    }
    if (check.outcome == WaitCheck::kReady) return bj::serialize(status);
    if (check.outcome == WaitCheck::kCheckServing) {
      std::optional<HttpReply> ready =
          session.SendAny(ServingVersionCall(cmd, JsonText(status, "name"), wanted_version));
      if (!ready) return std::nullopt;
      if (ready->status == 200) return bj::serialize(status);
    }
    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining.count() <= 0) {
      err << "error: deployment " << OneLine(OrDash(JsonText(status, "name")))
          << " is not ready after " << cmd.wait_seconds << "s (state "
          << OneLine(JsonText(status, "state"))
          << (wanted_version.empty() ? ""
                                     : ", version " + OneLine(JsonText(status, "model_version")))
          << ")\n";
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::min(interval, remaining));
    interval = std::min(interval * 2, std::chrono::milliseconds(1000));
    std::optional<bj::object> next = session.SendForObject(StatusCall(cmd, id));
    if (!next) return std::nullopt;
    status = std::move(*next);
  }
}

int CreateOrUpdate(const DeploymentsCommand& cmd, Session& session, std::ostream& out,
                   std::ostream& err) {
  std::optional<std::string> body = session.Send(BuildDeploymentsCall(cmd));
  if (!body) return 1;
  if (!cmd.wait) return Print(cmd, *body, out, err);
  StatusOr<bj::object> status = ParseJsonObject(*body);
  if (!status.ok()) {
    err << "error: " << status.status().message() << "\n";
    return 1;
  }
  // The server resolves --version or --alias and answers the version it moves to.
  std::string wanted =
      cmd.action == DeploymentsAction::kUpdate ? JsonText(*status, "model_version") : "";
  if (cmd.action == DeploymentsAction::kUpdate && wanted.empty()) {
    err << "error: " << UnexpectedAnswer(*body).message() << "\n";
    return 1;
  }
  // An update of a FAILED deployment answers FAILED until the reload starts.
  int64_t stale_failed_at = 0;
  if (cmd.action == DeploymentsAction::kUpdate && JsonText(*status, "state") == "FAILED") {
    stale_failed_at = JsonInt(*status, "updated_at");
  }
  std::optional<std::string> ready =
      WaitForReady(cmd, session, std::move(*status), wanted, stale_failed_at, err);
  if (!ready) return 1;
  return Print(cmd, *ready, out, err);
}

int Predict(const DeploymentsCommand& cmd, Session& session, std::ostream& out, std::ostream& err,
            std::istream& in) {
  StatusOr<PredictBody> body = ReadPredictBody(cmd, in);
  if (!body.ok()) {
    err << "cairn deployments predict: " << body.status().message() << "\n";
    return 2;
  }
  // The argument may be a deployment id; the prediction routes want the endpoint name.
  std::optional<bj::object> status = session.SendForObject(StatusCall(cmd, cmd.deployment));
  if (!status) return 1;
  std::string name = JsonText(*status, "name");
  if (name.empty()) {
    err << "error: " << UnexpectedAnswer(bj::serialize(*status)).message() << "\n";
    return 1;
  }
  std::optional<std::string> answer = session.Send(BuildPredictCall(cmd, name, std::move(*body)));
  if (!answer) return 1;
  out << *answer;
  if (answer->empty() || answer->back() != '\n') out << '\n';
  out.flush();
  return 0;
}

}  // namespace

int RunDeployments(const DeploymentsCommand& cmd, std::ostream& out, std::ostream& err,
                   std::istream& in) {
  StatusOr<ServerAddress> server = ParseServerAddress(cmd.server);
  if (!server.ok()) {
    err << "cairn deployments: " << server.status().message() << "\n";
    return 2;
  }
  Session session(cmd, std::move(*server), err);
  switch (cmd.action) {
    case DeploymentsAction::kCreate:
    case DeploymentsAction::kUpdate:
      return CreateOrUpdate(cmd, session, out, err);
    case DeploymentsAction::kPredict:
      return Predict(cmd, session, out, err, in);
    case DeploymentsAction::kStatus:
    case DeploymentsAction::kList:
    case DeploymentsAction::kScale:
    case DeploymentsAction::kDelete:
    case DeploymentsAction::kPredictions:
      break;
  }
  std::optional<std::string> body = session.Send(BuildDeploymentsCall(cmd));
  if (!body) return 1;
  return Print(cmd, *body, out, err);
}

}  // namespace cairn::cli
