#include "runtime/python/python_runtime.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "runtime/python/python_model.h"

namespace cairn::runtime::python {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The interpreter that trains the test models and runs the workers: it needs mlflow and
// scikit-learn.
std::string TestPython() {
  const char* configured = std::getenv("CAIRN_TEST_PYTHON");
  std::string python = configured != nullptr && *configured != '\0'
                           ? configured
                           : std::string(CAIRN_SOURCE_DIR) + "/.venv/bin/python";
  return access(python.c_str(), X_OK) == 0 ? python : "";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs make_test_models.py once per build tree and version of the script: later test
// processes reuse the folder (gtest_discover_tests runs each test in its own process).
StatusOr<fs::path> TestModels(const std::string& python) {
  const fs::path script =
      fs::path(CAIRN_SOURCE_DIR) / "src/runtime/python/testdata/make_test_models.py";
  std::string source = ReadFile(script);
  if (source.empty()) return Internal("cannot read " + script.string());
  const fs::path root = CAIRN_TEST_MODELS_DIR;
  const fs::path dir = root / std::to_string(std::hash<std::string>{}(source + python));
  if (fs::exists(dir / "expected.json")) return dir;
  fs::create_directories(root);
  const fs::path scratch = root / ("tmp." + std::to_string(getpid()));
  fs::remove_all(scratch);
  std::string command = "'" + python + "' '" + script.string() + "' '" + scratch.string() +
                        "' > '" + scratch.string() + ".log' 2>&1";
  if (std::system(command.c_str()) != 0) {
    return Internal("making the test models failed; see " + scratch.string() + ".log");
  }
  std::error_code ec;
  fs::rename(scratch, dir, ec);  // another test process may have won the race: fine
  fs::remove_all(scratch);
  fs::remove(scratch.string() + ".log");
  return dir;
}

template <typename T>
Tensor Column(std::string name, DataType type, std::vector<T> values) {
  Tensor t{.name = std::move(name), .type = type, .shape = {static_cast<int64_t>(values.size())}};
  t.data.resize(values.size() * sizeof(T));
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

Tensor Strings(std::string name, std::vector<std::string> values) {
  Tensor t{.name = std::move(name),
           .type = DataType::kBytes,
           .shape = {static_cast<int64_t>(values.size())}};
  t.strings = std::move(values);
  return t;
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  std::span<const T> s = t.As<T>();
  return {s.begin(), s.end()};
}

// The behave model's request: column x, and the action for it to take.
PredictRequest BehaveRequest(std::vector<double> x, const std::string& action = "") {
  PredictRequest request;
  request.columnar = true;
  std::size_t rows = x.size();
  request.inputs.push_back(Column<double>("x", DataType::kFp64, std::move(x)));
  request.inputs.push_back(Strings("action", std::vector<std::string>(rows, action)));
  return request;
}

StatusOr<PredictResponse> PredictNow(LoadedModel& model, PredictRequest request,
                                     std::chrono::seconds wait = 60s) {
  auto promise = std::make_shared<std::promise<StatusOr<PredictResponse>>>();
  std::future<StatusOr<PredictResponse>> answer = promise->get_future();
  model.Predict(std::move(request),
                [promise](StatusOr<PredictResponse> r) { promise->set_value(std::move(r)); });
  if (answer.wait_for(wait) != std::future_status::ready) return Internal("no answer in time");
  return answer.get();
}

// Gone, or a zombie that whoever adopted it has not reaped yet.
bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  std::size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

// The processes whose parent is `pid`, from /proc/<n>/stat.
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string stat = ReadFile(entry.path() / "stat");
    std::size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 2));
    char state;
    pid_t parent = 0;
    if (rest >> state >> parent && parent == pid) {
      children.push_back(std::stoi(entry.path().filename().string()));
    }
  }
  return children;
}

class PythonRuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    python_ = TestPython();
    if (python_.empty()) return;
    // No spare: under ctest every test is a process of its own, and a spare started for the
    // next Load would only compete for the CPU with this one's.
    PythonRuntimeOptions options;
    options.python_executable = python_;
    options.spare_workers = 0;
    StatusOr<std::unique_ptr<PythonRuntime>> runtime = PythonRuntime::Create(options);
    ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
    runtime_ = std::move(*runtime).release();
    StatusOr<fs::path> models = TestModels(python_);
    ASSERT_TRUE(models.ok()) << models.status().ToString();
    models_ = new fs::path(*models);
  }
  static void TearDownTestSuite() {
    delete behave_;
    behave_ = nullptr;
    delete runtime_;
    runtime_ = nullptr;
    delete models_;
    models_ = nullptr;
  }

  void SetUp() override {
    if (python_.empty()) {
      GTEST_SKIP() << "no python for the test models: set CAIRN_TEST_PYTHON or make "
                   << CAIRN_SOURCE_DIR << "/.venv";
    }
    ASSERT_NE(runtime_, nullptr);
    ASSERT_NE(models_, nullptr);
  }

  static StatusOr<std::shared_ptr<LoadedModel>> Load(const std::string& name,
                                                     RuntimeOptions options = {}) {
    ModelSource source;
    source.dir = *models_ / name;
    ASSIGN_OR_RETURN(source.mlmodel, ReadMlModel(source.dir));
    return runtime_->Load(source, options);
  }

  // One instance of the behave model for the tests that leave its worker as it was.
  static StatusOr<std::shared_ptr<LoadedModel>> SharedBehave() {
    if (behave_ == nullptr) {
      ASSIGN_OR_RETURN(std::shared_ptr<LoadedModel> model, Load("behave"));
      behave_ = new std::shared_ptr<LoadedModel>(std::move(model));
    }
    return *behave_;
  }

  static pid_t WorkerPid(const std::shared_ptr<LoadedModel>& model) {
    return static_cast<PythonModel&>(*model).WorkerPidForTest();
  }

  static inline std::string python_;
  static inline PythonRuntime* runtime_ = nullptr;
  static inline fs::path* models_ = nullptr;
  static inline std::shared_ptr<LoadedModel>* behave_ = nullptr;
};

TEST_F(PythonRuntimeTest, SklearnModelAnswersAsSklearnDoes) {
  StatusOr<std::shared_ptr<LoadedModel>> model = Load("iris");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->Interface().platform, "mlflow_pyfunc");
  EXPECT_EQ((*model)->Interface().inputs.size(), 4u);

  boost::json::object expected =
      boost::json::parse(ReadFile(*models_ / "expected.json")).as_object().at("iris").as_object();
  const boost::json::array& columns = expected.at("columns").as_array();
  const boost::json::array& rows = expected.at("rows").as_array();
  PredictRequest request;
  request.columnar = true;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    std::vector<double> column;
    for (const boost::json::value& row : rows)
      column.push_back(row.as_array()[c].to_number<double>());
    request.inputs.push_back(
        Column<double>(std::string(columns[c].as_string()), DataType::kFp64, std::move(column)));
  }
  std::vector<int64_t> want;
  for (const boost::json::value& p : expected.at("predictions").as_array()) {
    want.push_back(p.as_int64());
  }

  StatusOr<PredictResponse> response = PredictNow(**model, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->outputs.size(), 1u);
  const Tensor& predictions = response->outputs[0];
  EXPECT_EQ(predictions.name, "predictions");
  EXPECT_EQ(predictions.type, DataType::kInt64);
  EXPECT_EQ(predictions.shape, (std::vector<int64_t>{static_cast<int64_t>(want.size())}));
  EXPECT_EQ(Values<int64_t>(predictions), want);
  EXPECT_FALSE(response->columnar);

  // The instance holds the worker's resident set, which has mlflow and sklearn in it.
  EXPECT_GT((*model)->MemoryBytes(), 50 << 20);
  EXPECT_TRUE((*model)->Healthy());

  // MLflow's schema enforcement rejecting the input is the caller's error, not the model's.
  PredictRequest missing_column;
  missing_column.columnar = true;
  missing_column.inputs.push_back(Column<double>("petal width (cm)", DataType::kFp64, {1.0}));
  StatusOr<PredictResponse> rejected = PredictNow(**model, std::move(missing_column));
  EXPECT_EQ(rejected.status().code(), StatusCode::kInvalidArgument) << rejected.status().ToString();

  // A request whose deadline has passed is refused without troubling the worker.
  PredictRequest late;
  late.deadline = std::chrono::steady_clock::now() - 1ms;
  EXPECT_EQ(PredictNow(**model, std::move(late)).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE((*model)->Healthy());
}

TEST_F(PythonRuntimeTest, DataFrameInDataFrameOutKeepsDtypes) {
  StatusOr<std::shared_ptr<LoadedModel>> model = SharedBehave();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  StatusOr<PredictResponse> response = PredictNow(**model, BehaveRequest({1.5, -2.0, 4.0}));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_TRUE(response->columnar);
  ASSERT_EQ(response->outputs.size(), 3u);
  EXPECT_EQ(response->outputs[0].name, "doubled");
  EXPECT_EQ(response->outputs[0].type, DataType::kFp64);
  EXPECT_EQ(Values<double>(response->outputs[0]), (std::vector<double>{3.0, -4.0, 8.0}));
  EXPECT_EQ(response->outputs[1].name, "count");
  EXPECT_EQ(response->outputs[1].type, DataType::kInt64);
  EXPECT_EQ(Values<int64_t>(response->outputs[1]), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(response->outputs[2].name, "label");
  EXPECT_EQ(response->outputs[2].type, DataType::kBytes);
  EXPECT_EQ(response->outputs[2].strings, (std::vector<std::string>{"row0", "row1", "row2"}));

  // Asking for some outputs keeps those, in the order asked.
  PredictRequest some = BehaveRequest({1.0});
  some.outputs = {"label", "count"};
  response = PredictNow(**model, std::move(some));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->outputs.size(), 2u);
  EXPECT_EQ(response->outputs[0].name, "label");
  EXPECT_EQ(response->outputs[1].name, "count");

  PredictRequest missing = BehaveRequest({1.0});
  missing.outputs = {"nope"};
  EXPECT_EQ(PredictNow(**model, std::move(missing)).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PythonRuntimeTest, SingleTensorArrivesAsAnArrayAndKeepsItsType) {
  StatusOr<std::shared_ptr<LoadedModel>> model = SharedBehave();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  PredictRequest request;
  Tensor input = Column<float>("input", DataType::kFp32, {1, 2, 3, 4, 5, 6});
  input.shape = {2, 3};
  request.inputs.push_back(std::move(input));
  StatusOr<PredictResponse> response = PredictNow(**model, std::move(request));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->outputs.size(), 1u);
  EXPECT_EQ(response->outputs[0].name, "predictions");
  EXPECT_EQ(response->outputs[0].type, DataType::kFp32);
  EXPECT_EQ(response->outputs[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(Values<float>(response->outputs[0]), (std::vector<float>{2, 4, 6, 8, 10, 12}));
}

TEST_F(PythonRuntimeTest, ExceptionInPredictIsInternalAndTheWorkerStays) {
  StatusOr<std::shared_ptr<LoadedModel>> model = SharedBehave();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  pid_t pid = WorkerPid(*model);
  StatusOr<PredictResponse> failed = PredictNow(**model, BehaveRequest({1.0}, "raise"));
  EXPECT_EQ(failed.status().code(), StatusCode::kInternal);
  EXPECT_NE(failed.status().message().find("ValueError: asked to fail"), std::string::npos)
      << failed.status().message();
  EXPECT_TRUE((*model)->Healthy());
  EXPECT_EQ(WorkerPid(*model), pid);
  EXPECT_TRUE(PredictNow(**model, BehaveRequest({1.0})).ok());
}

TEST_F(PythonRuntimeTest, WorkerDeathFailsThatRequestThenTheModelIsBack) {
  StatusOr<std::shared_ptr<LoadedModel>> model = Load("behave");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  pid_t pid = WorkerPid(*model);
  StatusOr<PredictResponse> died = PredictNow(**model, BehaveRequest({1.0}, "exit"));
  EXPECT_EQ(died.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(died.status().message().find("exit status 1"), std::string::npos)
      << died.status().message();
  // Marked before the failed request is answered; the reload takes far longer than this check.
  EXPECT_FALSE((*model)->Healthy());
  // Waits for the restart behind the scenes, then succeeds.
  StatusOr<PredictResponse> next = PredictNow(**model, BehaveRequest({2.0}));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(Values<double>(next->outputs[0]), (std::vector<double>{4.0}));
  EXPECT_TRUE((*model)->Healthy());
  EXPECT_NE(WorkerPid(*model), pid);
  EXPECT_TRUE(ProcessGone(pid));  // reaped, not a zombie
}

TEST_F(PythonRuntimeTest, HungPredictTimesOutAndTheWorkerIsReplaced) {
  RuntimeOptions options;
  options.predict_timeout = 1500ms;
  StatusOr<std::shared_ptr<LoadedModel>> model = Load("behave", options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  pid_t pid = WorkerPid(*model);
  auto started = std::chrono::steady_clock::now();
  StatusOr<PredictResponse> hung = PredictNow(**model, BehaveRequest({1.0}, "sleep"));
  EXPECT_EQ(hung.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(hung.status().message().find("predict timeout"), std::string::npos)
      << hung.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_TRUE(ProcessGone(pid));
  StatusOr<PredictResponse> next = PredictNow(**model, BehaveRequest({3.0}));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(Values<double>(next->outputs[0]), (std::vector<double>{6.0}));
}

TEST_F(PythonRuntimeTest, LoadFailureCarriesPythonsError) {
  StatusOr<std::shared_ptr<LoadedModel>> model = Load("broken");
  ASSERT_EQ(model.status().code(), StatusCode::kInternal);
  EXPECT_NE(model.status().message().find("No module named 'cairn_no_such_module'"),
            std::string::npos)
      << model.status().message();

  model = Load("badpickle");
  ASSERT_EQ(model.status().code(), StatusCode::kInternal);
  EXPECT_NE(model.status().message().find("UnpicklingError"), std::string::npos)
      << model.status().message();
}

TEST_F(PythonRuntimeTest, ModelWithoutPythonFunctionFlavorIsRefused) {
  ModelSource source;
  source.dir = *models_ / "iris";
  source.mlmodel.flavors["onnx"] = "model.onnx";
  EXPECT_FALSE(runtime_->CanServe(source.mlmodel));
  EXPECT_EQ(runtime_->Load(source, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PythonRuntimeTest, ConcurrentRequestsAreAllAnswered) {
  StatusOr<std::shared_ptr<LoadedModel>> model = SharedBehave();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  std::atomic<int> ok{0};
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        double x = t * 1000 + i;
        (*model)->Predict(BehaveRequest({x}), [&, x](StatusOr<PredictResponse> r) {
          if (r.ok() && Values<double>(r->outputs[0]) == std::vector<double>{2 * x}) ++ok;
          ++answered;
        });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  auto until = std::chrono::steady_clock::now() + 30s;
  while (answered < kThreads * kEach && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(ok.load(), kThreads * kEach);
}

TEST_F(PythonRuntimeTest, DestroyingTheInstanceReapsItsWorker) {
  StatusOr<std::shared_ptr<LoadedModel>> model = Load("behave");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  pid_t pid = WorkerPid(*model);
  ASSERT_FALSE(ProcessGone(pid));
  // A request still in flight or queued when the instance goes is answered, not dropped.
  auto answered = std::make_shared<std::promise<void>>();
  (*model)->Predict(BehaveRequest({1.0}),
                    [answered](StatusOr<PredictResponse>) { answered->set_value(); });
  model->reset();
  EXPECT_TRUE(ProcessGone(pid));
  EXPECT_EQ(answered->get_future().wait_for(1s), std::future_status::ready);
}

TEST_F(PythonRuntimeTest, LoadTakesASpareWorkerAndThePoolRefills) {
  PythonRuntimeOptions options;
  options.python_executable = python_;
  options.spare_workers = 1;
  StatusOr<std::unique_ptr<PythonRuntime>> runtime = PythonRuntime::Create(options);
  ASSERT_TRUE(runtime.ok());
  auto wait_for_spare = [&] {
    auto until = std::chrono::steady_clock::now() + 60s;
    while ((*runtime)->SpareWorkers() < 1 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(20ms);
    }
    return (*runtime)->SpareWorkers();
  };
  ASSERT_EQ(wait_for_spare(), 1);
  ModelSource source;
  source.dir = *models_ / "behave";
  ASSERT_TRUE(ReadMlModel(source.dir).ok());
  source.mlmodel = *ReadMlModel(source.dir);
  StatusOr<std::shared_ptr<LoadedModel>> model = (*runtime)->Load(source, {});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(wait_for_spare(), 1);
  EXPECT_TRUE(PredictNow(**model, BehaveRequest({1.0})).ok());
}

// Run by ServerDeathKillsItsWorkers in a copy of this binary: loads the behave model from the
// folder in CAIRN_TEST_HOLD_WORKER, keeps its worker busy in a prediction that sleeps (so the
// worker is not reading its socket and would not notice it closing), says "ready" on stdout
// and waits to be killed.
TEST(PythonRuntimeChildTest, KeepsAWorkerBusyUntilKilled) {
  const char* models = std::getenv("CAIRN_TEST_HOLD_WORKER");
  if (models == nullptr) GTEST_SKIP() << "a helper process";
  PythonRuntimeOptions options;
  options.python_executable = TestPython();
  options.spare_workers = 0;
  StatusOr<std::unique_ptr<PythonRuntime>> runtime = PythonRuntime::Create(options);
  ASSERT_TRUE(runtime.ok());
  ModelSource source;
  source.dir = fs::path(models) / "behave";
  source.mlmodel = *ReadMlModel(source.dir);
  StatusOr<std::shared_ptr<LoadedModel>> model = (*runtime)->Load(source, {});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  (*model)->Predict(BehaveRequest({1.0}, "sleep"), [](StatusOr<PredictResponse>) {});
  std::this_thread::sleep_for(500ms);
  std::printf("ready\n");
  std::fflush(stdout);
  std::this_thread::sleep_for(120s);
}

TEST_F(PythonRuntimeTest, ServerDeathKillsItsWorkers) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=PythonRuntimeChildTest.KeepsAWorkerBusyUntilKilled";
  std::vector<char*> argv = {exe.data(), filter.data(), nullptr};
  std::vector<std::string> env = {"CAIRN_TEST_HOLD_WORKER=" + models_->string(),
                                  "CAIRN_TEST_PYTHON=" + python_, "PATH=/usr/bin:/bin"};
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t server = 0;
  ASSERT_EQ(posix_spawn(&server, exe.c_str(), &actions, nullptr, argv.data(), envp.data()), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string said;
  char c;
  while (said.find("ready\n") == std::string::npos && read(out[0], &c, 1) == 1) said += c;
  close(out[0]);
  std::vector<pid_t> workers = ChildrenOf(server);
  kill(server, SIGKILL);
  waitpid(server, nullptr, 0);
  ASSERT_NE(said.find("ready"), std::string::npos) << said;
  ASSERT_EQ(workers.size(), 1u);
  auto until = std::chrono::steady_clock::now() + 5s;
  while (!ProcessGone(workers[0]) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(ProcessGone(workers[0]));
  if (!ProcessGone(workers[0])) kill(workers[0], SIGKILL);
}

TEST(PythonRuntimeStandaloneTest, MissingInterpreterFailsCreate) {
  PythonRuntimeOptions options;
  options.python_executable = "/nonexistent/bin/python";
  EXPECT_EQ(PythonRuntime::Create(options).status().code(), StatusCode::kFailedPrecondition);
}

TEST(PythonRuntimeStandaloneTest, WorkersThatCannotStartFailLoadWithTheReason) {
  PythonRuntimeOptions options;
  options.python_executable = "/bin/false";  // exits 1 at once, like a python without mlflow
  StatusOr<std::unique_ptr<PythonRuntime>> runtime = PythonRuntime::Create(options);
  ASSERT_TRUE(runtime.ok());
  ModelSource source;
  source.dir = "/nonexistent";
  source.mlmodel.flavors["python_function"] = "";
  StatusOr<std::shared_ptr<LoadedModel>> model = (*runtime)->Load(source, {});
  EXPECT_EQ(model.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(model.status().message().find("exit status 1"), std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace cairn::runtime::python
