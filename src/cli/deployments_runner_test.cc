#include "cli/deployments_runner.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <deque>
#include <memory>
#include <sstream>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "cli/cli.h"
#include "http/router.h"
#include "http/server.h"

namespace cairn::cli {
namespace {

namespace bj = boost::json;

// A status object as the server writes it.
std::string StatusJson(std::string_view state, std::string_view version = "3",
                       std::string_view reason = "") {
  bj::object s{{"deployment_id", "d-1f"},
               {"name", "iris-v3"},
               {"state", state},
               {"reason", reason},
               {"model_name", "iris"},
               {"model_version", version},
               {"runtime", "onnx"},
               {"device", "cpu"},
               {"replicas", bj::object{{"desired", 1}, {"ready", 1}, {"min", 1}, {"max", 1}}},
               {"endpoints", bj::object{{"invocations", "/endpoints/iris-v3/invocations"}}},
               {"created_at", 1700000000000},
               {"updated_at", 1700000000000}};
  return bj::serialize(s);
}

struct Seen {
  std::string method_and_target;
  std::string content_type;
  std::string workspace;
  std::string body;
};

// A scripted deployments server: status answers come from a queue (the last one repeats),
// every request is recorded.
class FakeServer {
 public:
  FakeServer() {
    auto json = [this](std::string answer) {
      return [this, answer](http::Request& req) {
        Record(req);
        return http::Response::Json(200, answer);
      };
    };
    router_.Add(http::Method::kPost, "/api/v1/deployments/create", json(StatusJson("PENDING")));
    router_.Add(http::Method::kPut, "/api/v1/deployments/{id}", [this](http::Request& req) {
      Record(req);
      MutexLock lock(mu_);
      return http::Response::Json(200, put_answer_);
    });
    router_.Add(http::Method::kGet, "/api/v1/deployments/{id}/status", [this](http::Request& req) {
      Record(req);
      if (req.PathParam("id") != "d-1f" && req.PathParam("id") != "iris-v3") {
        return http::Response::Json(
            404, R"({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no such deployment"})");
      }
      return http::Response::Json(200, NextStatus());
    });
    router_.Add(http::Method::kGet, "/v2/models/{name}/versions/{version}/ready",
                [this](http::Request& req) {
                  Record(req);
                  bool ready = NextReady() == "yes";
                  return http::Response::Json(ready ? 200 : 400,
                                              ready ? R"({"ready":true})" : R"({"ready":false})");
                });
    router_.Add(http::Method::kPost, "/endpoints/{name}/invocations", [this](http::Request& req) {
      Record(req);
      if (req.body.find("bad") != std::string::npos) {
        return http::Response::Json(
            400, R"({"error_code": "BAD_REQUEST", "message": "missing column"})");
      }
      return http::Response::Json(200, R"({"predictions": [0, 2]})");
    });
    router_.Add(http::Method::kPost, "/v2/models/{name}/infer", [this](http::Request& req) {
      Record(req);
      return http::Response::Json(200, R"({"model_name": "iris-v3", "outputs": []})");
    });
    router_.Add(http::Method::kGet, "/api/v1/deployments/{id}/predictions",
                [this](http::Request& req) {
                  Record(req);
                  return http::Response::Json(
                      200, R"({"predictions": [{"request_id": "r1", "timestamp_ms": 0,
                               "latency_us": 2000, "model_version": "3", "status_code": 200,
                               "inputs": [1], "outputs": [0]}], "next_page_token": "p2"})");
                });
    http::ServerOptions options;
    options.port = 0;
    options.threads = 2;
    server_ =
        std::make_unique<http::HttpServer>(options, router_, std::vector<http::Middleware*>{});
    auto port = server_->Start();
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    url_ = "http://127.0.0.1:" + std::to_string(port.ok() ? *port : 1);
  }

  ~FakeServer() { server_->Stop(); }

  void SetStatuses(std::deque<std::string> statuses) {
    MutexLock lock(mu_);
    statuses_ = std::move(statuses);
  }
  void SetPutAnswer(std::string answer) {
    MutexLock lock(mu_);
    put_answer_ = std::move(answer);
  }
  void SetReady(std::deque<std::string> ready) {
    MutexLock lock(mu_);
    ready_ = std::move(ready);
  }
  std::vector<Seen> seen() {
    MutexLock lock(mu_);
    return seen_;
  }
  const std::string& url() const { return url_; }
  void Stop() { server_->Stop(); }

 private:
  void Record(const http::Request& req) {
    MutexLock lock(mu_);
    seen_.push_back({std::string(http::MethodName(req.method)) + " " + req.target,
                     std::string(req.headers.Get("Content-Type").value_or("")),
                     std::string(req.headers.Get("X-MLflow-Workspace").value_or("")), req.body});
  }
  std::string NextStatus() {
    MutexLock lock(mu_);
    return Pop(statuses_);
  }
  std::string NextReady() {
    MutexLock lock(mu_);
    return Pop(ready_);
  }
  static std::string Pop(std::deque<std::string>& queue) {
    if (queue.empty()) return "";
    std::string front = queue.front();
    if (queue.size() > 1) queue.pop_front();
    return front;
  }

  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  std::string url_;
  Mutex mu_;
  std::deque<std::string> statuses_ GUARDED_BY(mu_);
  std::deque<std::string> ready_ GUARDED_BY(mu_);
  std::string put_answer_ GUARDED_BY(mu_) = StatusJson("READY", "4");
  std::vector<Seen> seen_ GUARDED_BY(mu_);
};

class DeploymentsRunnerTest : public ::testing::Test {
 protected:
  struct Outcome {
    int code;
    std::string out;
    std::string err;
  };

  Outcome Run(std::vector<std::string> args, std::string stdin_text = "") {
    args.insert(args.begin(), "deployments");
    std::ostringstream out;
    std::ostringstream err;
    std::istringstream in(stdin_text);
    int code = CliMain(args, out, err, in, fake_.url());
    return {code, out.str(), err.str()};
  }

  std::vector<std::string> Targets() {
    std::vector<std::string> out;
    for (const Seen& s : fake_.seen()) out.push_back(s.method_and_target);
    return out;
  }

  FakeServer fake_;
};

TEST_F(DeploymentsRunnerTest, CreateWaitsUntilReady) {
  fake_.SetStatuses({StatusJson("LOADING"), StatusJson("LOADING"), StatusJson("READY")});
  Outcome r = Run({"create", "--model-name", "iris", "--version", "3", "--wait"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("d-1f  iris-v3  READY"), std::string::npos) << r.out;
  EXPECT_EQ(Targets(),
            (std::vector<std::string>{
                "POST /api/v1/deployments/create", "GET /api/v1/deployments/d-1f/status",
                "GET /api/v1/deployments/d-1f/status", "GET /api/v1/deployments/d-1f/status"}));
}

TEST_F(DeploymentsRunnerTest, CreateWithoutWaitPrintsTheFirstAnswer) {
  Outcome r = Run({"create", "--model-name", "iris", "--version", "3", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(bj::parse(r.out).at("state"), "PENDING");
  EXPECT_EQ(Targets().size(), 1u);
}

TEST_F(DeploymentsRunnerTest, CreateWaitReportsFailure) {
  fake_.SetStatuses({StatusJson("LOADING"), StatusJson("FAILED", "3", "no MLmodel in the model")});
  Outcome r = Run({"create", "--model-name", "iris", "--version", "3", "--wait"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "error: deployment iris-v3 failed: no MLmodel in the model\n");
}

TEST_F(DeploymentsRunnerTest, CreateWaitGivesUpAfterTheTimeout) {
  fake_.SetStatuses({StatusJson("LOADING")});
  Outcome r = Run({"create", "--model-name", "iris", "--version", "3", "--wait", "--timeout", "1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: deployment iris-v3 is not ready after 1s (state LOADING)\n");
}

TEST_F(DeploymentsRunnerTest, UpdateWaitsUntilTheNewVersionServes) {
  fake_.SetStatuses({StatusJson("READY", "4")});
  fake_.SetReady({"no", "yes"});
  Outcome r = Run({"update", "iris-v3", "--alias", "champion", "--wait"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Targets(),
            (std::vector<std::string>{
                "PUT /api/v1/deployments/iris-v3", "GET /v2/models/iris-v3/versions/4/ready",
                "GET /api/v1/deployments/d-1f/status", "GET /v2/models/iris-v3/versions/4/ready"}));
  EXPECT_EQ(bj::parse(fake_.seen()[0].body), bj::parse(R"({"alias": "champion"})"));
}

TEST_F(DeploymentsRunnerTest, UpdateWaitReportsARevert) {
  fake_.SetStatuses({StatusJson("READY", "3", "update to version 4 failed: bad model")});
  fake_.SetReady({"no"});
  Outcome r = Run({"update", "iris-v3", "--version", "4", "--wait"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "error: deployment iris-v3 is at version 3, not 4: update to version 4 failed: bad "
            "model\n");
}

TEST_F(DeploymentsRunnerTest, UpdateOfAFailedDeploymentWaitsForTheReload) {
  // The answer to the update and the first poll still show the old failure.
  fake_.SetPutAnswer(StatusJson("FAILED", "4", "old failure"));
  fake_.SetStatuses({StatusJson("FAILED", "4", "old failure"), StatusJson("LOADING", "4"),
                     StatusJson("READY", "4")});
  fake_.SetReady({"yes"});
  Outcome r = Run({"update", "iris-v3", "--version", "4", "--wait"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("READY"), std::string::npos) << r.out;
}

TEST_F(DeploymentsRunnerTest, PredictResolvesAnIdAndSendsTheBody) {
  fake_.SetStatuses({StatusJson("READY")});
  Outcome r = Run({"--workspace", "team-a", "predict", "d-1f", "--data", R"({"inputs": [[1]]})"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"predictions\": [0, 2]}\n");
  std::vector<Seen> seen = fake_.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method_and_target, "GET /api/v1/deployments/d-1f/status");
  EXPECT_EQ(seen[1].method_and_target, "POST /endpoints/iris-v3/invocations");
  EXPECT_EQ(seen[1].content_type, "application/json");
  EXPECT_EQ(seen[1].workspace, "team-a");
  EXPECT_EQ(seen[1].body, R"({"inputs": [[1]]})");
}

TEST_F(DeploymentsRunnerTest, PredictCsvFromStdinAndV2) {
  fake_.SetStatuses({StatusJson("READY")});
  Outcome csv = Run({"predict", "iris-v3", "--csv"}, "a,b\n1,2\n");
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_EQ(fake_.seen()[1].content_type, "text/csv");
  EXPECT_EQ(fake_.seen()[1].body, "a,b\n1,2\n");

  Outcome v2 = Run({"predict", "iris-v3", "--protocol", "v2"}, R"({"inputs": []})");
  ASSERT_EQ(v2.code, 0) << v2.err;
  EXPECT_EQ(fake_.seen()[3].method_and_target, "POST /v2/models/iris-v3/infer");
}

TEST_F(DeploymentsRunnerTest, PredictErrors) {
  fake_.SetStatuses({StatusJson("READY")});
  Outcome rejected = Run({"predict", "iris-v3", "--data", R"({"bad": 1})"});
  EXPECT_EQ(rejected.code, 1);
  EXPECT_EQ(rejected.err, "error: BAD_REQUEST: missing column\n");

  Outcome unknown = Run({"predict", "nope", "--data", "{}"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.err, "error: RESOURCE_DOES_NOT_EXIST: no such deployment\n");

  size_t before = fake_.seen().size();
  Outcome not_json = Run({"predict", "iris-v3", "--data", "{oops"});
  EXPECT_EQ(not_json.code, 2);
  EXPECT_NE(not_json.err.find("not JSON"), std::string::npos) << not_json.err;
  Outcome empty = Run({"predict", "iris-v3"});
  EXPECT_EQ(empty.code, 2);
  EXPECT_NE(empty.err.find("empty"), std::string::npos) << empty.err;
  EXPECT_EQ(fake_.seen().size(), before);
}

TEST_F(DeploymentsRunnerTest, PredictionsPage) {
  Outcome r = Run({"predictions", "iris-v3", "--max-results", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("r1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("More predictions: --page-token p2\n"), std::string::npos) << r.out;
  EXPECT_EQ(
      Targets(),
      (std::vector<std::string>{"GET /api/v1/deployments/iris-v3/predictions?max_results=1"}));
}

TEST_F(DeploymentsRunnerTest, UnreachableServerExitsOne) {
  fake_.Stop();
  Outcome r = Run({"list", "--timeout", "5"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("error: cannot connect to", 0), 0u) << r.err;
}

}  // namespace
}  // namespace cairn::cli
