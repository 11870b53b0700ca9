#pragma once

// The fixture of the MonitorService tests: the monitor against real parts (the SQLite metadata
// stores, the SQLite event log, a model schema built by hand, a ManualClock). Events are
// appended to the log directly and read with CatchUpForTest(), so every test is deterministic.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/ids.h"
#include "base/status_testing.h"
#include "http/router.h"
#include "http/server.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"
#include "monitor/monitor_service.h"
#include "stream/sqlite/sqlite_event_stream.h"
#include "stream/stream_test_util.h"

namespace cairn::monitor::testing_util {

namespace bj = boost::json;
using namespace std::chrono_literals;
using metadata::AlertRecord;
using metadata::WindowRecord;

inline constexpr char kTenant[] = "t";
inline constexpr char kModel[] = "m";
inline constexpr char kDeploymentId[] = "d-0123456789abcdef0123456789abcdef";
// A whole minute since the epoch: one-minute windows start here.
inline constexpr int64_t kT0 = 1'699'999'980'000;

// One logged /invocations request of one row {a, b}.
struct Request {
  std::string request_id;
  int64_t timestamp_ms = kT0;
  double a = 0.5;
  double b = 0.5;
  std::string predictions = "[1]";  // the response's "predictions"
  int status = 200;
  int64_t latency_us = 2000;
  std::optional<std::string> subject;
};

inline stream::PredictionEvent EventOf(const Request& r) {
  stream::PredictionEvent e;
  e.tenant = kTenant;
  e.deployment_id = kDeploymentId;
  e.deployment_name = "prod";
  e.model_name = kModel;
  e.model_version = "3";
  e.request_id = r.request_id;
  e.timestamp_ms = r.timestamp_ms;
  e.latency_us = r.latency_us;
  e.protocol = "invocations";
  e.status_code = r.status;
  bj::object inputs;
  inputs["dataframe_split"] =
      bj::object{{"columns", bj::array{"a", "b"}}, {"data", bj::array{bj::array{r.a, r.b}}}};
  e.inputs_json = bj::serialize(inputs);
  if (r.status < 400) {
    e.outputs_json = R"({"predictions": )" + r.predictions + "}";
  } else {
    e.error_message = "boom";
  }
  e.subject_id = r.subject;
  return e;
}

class MonitorServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    ASSERT_OK_AND_ASSIGN(stores_, metadata::OpenSqliteMetadataStores(dir_.path() + "/meta.db"));
    ASSERT_OK_AND_ASSIGN(events_, stream::SqliteEventStream::Open(dir_.path() + "/events.db"));
    ASSERT_OK(stores_.deployments->CreateDeployment(
        kTenant, metadata::DeploymentRecord{.id = kDeploymentId,
                                            .name = "prod",
                                            .model_name = kModel,
                                            .model_version = "3",
                                            .spec_json = "{}",
                                            .state = "READY",
                                            .created_at_ms = kT0,
                                            .updated_at_ms = kT0}));
    schema_.interface.platform = "mlflow_pyfunc";
    runtime::ModelSignature signature;
    signature.inputs = {
        runtime::TensorSpec{.name = "a", .type = runtime::DataType::kFp64, .shape = {-1}},
        runtime::TensorSpec{.name = "b", .type = runtime::DataType::kFp64, .shape = {-1}}};
    signature.input_column_types = {"double", "double"};
    schema_.signature = signature;
  }

  void TearDown() override {
    // Senders and launchers first: their callbacks record actions through the service.
    launcher_.reset();
    sender_.reset();
    service_.reset();
    if (server_) server_->Stop();
  }

  MonitorService& NewService(MonitorOptions options = {}) {
    service_.reset();
    service_ = MakeService(std::move(options));
    return *service_;
  }

  // Another monitor on the same stores and log (another process's).
  std::unique_ptr<MonitorService> MakeService(MonitorOptions options = {}) {
    MonitorDeps deps{
        .events = *events_,
        .store = *stores_.monitoring,
        .deployments = *stores_.deployments,
        .schemas = [this](std::string_view, std::string_view deployment_id,
                          std::string_view) -> std::optional<ModelSchema> {
          if (deployment_id != kDeploymentId) return std::nullopt;
          return schema_;
        },
        .tracking = nullptr,
        .webhooks = sender_.get(),
        .launcher = launcher_.get(),
        .clock = clock_,
        .ids = ids_,
        .labels = labels_.get(),
    };
    return std::make_unique<MonitorService>(std::move(deps), std::move(options));
  }

  std::string PutConfig(const std::string& body) {
    StatusOr<metadata::DriftConfigRecord> record = service_->PutDriftConfig(scope_, kModel, body);
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    return record.ok() ? record->id : "";
  }

  void Append(const std::vector<Request>& requests) {
    std::vector<stream::Event> batch;
    for (const Request& r : requests) {
      StatusOr<stream::Event> e = stream::ToStreamEvent(EventOf(r));
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      batch.push_back(std::move(*e));
    }
    ASSERT_OK(events_->Append(stream::kPredictionsTopic, batch));
  }

  // `n` requests r<first>.. one ms apart from `start_ms`, b shifted by `shift`.
  std::vector<Request> Requests(int first, int n, int64_t start_ms, double shift = 0) {
    std::vector<Request> out;
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = first; i < first + n; ++i) {
      out.push_back(Request{.request_id = "r" + std::to_string(i),
                            .timestamp_ms = start_ms + (i - first),
                            .a = u(rng_),
                            .b = u(rng_) + shift});
    }
    return out;
  }

  void CatchUp() { ASSERT_OK(service_->CatchUpForTest()); }

  std::vector<WindowRecord> Windows() {
    StatusOr<std::vector<WindowRecord>> w =
        stores_.monitoring->ListWindows(kTenant, kModel, "", 0, 0, 10'000);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? *w : std::vector<WindowRecord>{};
  }
  static bj::object Results(const WindowRecord& w) { return bj::parse(w.results_json).as_object(); }

  std::vector<AlertRecord> AlertsOf(const std::string& kind) {
    metadata::AlertFilter filter;
    filter.kind = kind;
    StatusOr<std::vector<AlertRecord>> alerts = service_->Alerts(scope_, filter);
    EXPECT_TRUE(alerts.ok()) << alerts.status().ToString();
    return alerts.ok() ? *alerts : std::vector<AlertRecord>{};
  }

  bj::object Feedback(const std::string& body) {
    StatusOr<bj::object> out = service_->Feedback(scope_, body);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : bj::object{};
  }
  // Labels for r<first>..r<first+n-1>, all `label`.
  std::string Labels(int first, int n, const std::string& label) {
    bj::array labels;
    for (int i = first; i < first + n; ++i) {
      labels.push_back(
          bj::object{{"request_id", "r" + std::to_string(i)}, {"label", bj::parse(label)}});
    }
    return bj::serialize(bj::object{{"labels", std::move(labels)}});
  }

  // A reference where a and b are U(0, 1).
  void UploadReference() {
    std::mt19937_64 rng(99);
    std::uniform_real_distribution<double> u(0, 1);
    ColumnValues a, b;
    for (int i = 0; i < 500; ++i) {
      a.numbers.push_back(u(rng));
      b.numbers.push_back(u(rng));
    }
    std::vector<NamedColumn> columns = {{"a", a}, {"b", b}};
    ASSERT_OK_AND_ASSIGN(metadata::DeploymentRecord d,
                         service_->FindDeployment(scope_, kDeploymentId));
    ASSERT_OK(service_->AddReference(scope_, d, std::move(columns), "upload", "test"));
  }

  stream::testing_util::TempDir dir_;
  metadata::MetadataStores stores_;
  std::unique_ptr<stream::SqliteEventStream> events_;
  // Set before NewService to have Feedback log labels into the labels topic.
  std::unique_ptr<stream::EventLogger> labels_;
  ManualClock clock_{kT0};
  IdGenerator ids_{42};
  ModelSchema schema_;
  RequestScope scope_ = RequestScope::ForTenant(kTenant, "tester");
  std::mt19937_64 rng_{5};
  std::unique_ptr<MonitorService> service_;
  std::unique_ptr<WebhookSender> sender_;
  std::unique_ptr<CommandLauncher> launcher_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
};

inline int64_t SumPredictions(const std::vector<WindowRecord>& windows) {
  int64_t sum = 0;
  for (const WindowRecord& w : windows) sum += w.predictions;
  return sum;
}

// Waits up to 10 s for `done`.
template <typename F>
bool WaitFor(F done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

}  // namespace cairn::monitor::testing_util
