#include "monitor/actions/command_launcher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/status_testing.h"

namespace cairn::monitor {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Collects on_exit results.
class Exits {
 public:
  CommandLauncher::ExitCallback Callback() {
    return [this](const LaunchResult& result) {
      std::lock_guard lock(mu_);
      results_.push_back(result);
      cv_.notify_all();
    };
  }
  std::vector<LaunchResult> Wait(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, timeout, [&] { return results_.size() >= n; }))
        << "got " << results_.size() << " of " << n << " exits";
    return results_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<LaunchResult> results_;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Whether `pid` no longer runs (gone, or a zombie waiting for its new parent to reap it).
bool ProcessGone(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

class CommandLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/cairn-launcher-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    launcher_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  CommandLauncher& MakeLauncher(CommandLauncherOptions options = {}) {
    if (options.kill_grace == CommandLauncherOptions{}.kill_grace) options.kill_grace = 300ms;
    auto launcher = CommandLauncher::Create(options);
    EXPECT_TRUE(launcher.ok()) << launcher.status().ToString();
    launcher_ = std::move(launcher).value();
    return *launcher_;
  }

  LaunchRequest Shell(const std::string& script) {
    LaunchRequest request;
    request.argv = {"/bin/sh", "-c", script};
    request.log_path = (dir_ / "log.txt").string();
    return request;
  }

  fs::path dir_;
  std::unique_ptr<CommandLauncher> launcher_;
  Exits exits_;
};

TEST_F(CommandLauncherTest, ReportsExitCodeAndAppendsOutputToTheLog) {
  CommandLauncher& launcher = MakeLauncher();
  std::ofstream(dir_ / "log.txt") << "earlier\n";
  ASSERT_OK_AND_ASSIGN(int pid,
                       launcher.Launch(Shell("echo out; echo err >&2; exit 7"), exits_.Callback()));
  LaunchResult result = exits_.Wait(1).at(0);
  EXPECT_EQ(result.pid, pid);
  EXPECT_EQ(result.exit_code, 7);
  EXPECT_EQ(result.signal, 0);
  EXPECT_FALSE(result.timed_out);
  EXPECT_GE(result.duration_ms, 0);
  EXPECT_EQ(ReadFile(dir_ / "log.txt"), "earlier\nout\nerr\n");
  EXPECT_EQ(launcher.running(), 0);
}

TEST_F(CommandLauncherTest, PassesRequestedAndMinimalInheritedEnvironmentOnly) {
  ASSERT_EQ(::setenv("CAIRN_TEST_SECRET", "do-not-leak", 1), 0);
  ASSERT_EQ(::setenv("MLFLOW_TRACKING_URI", "http://tracking:5000", 1), 0);
  CommandLauncher& launcher = MakeLauncher();
  LaunchRequest request = Shell(
      "echo \"model=$MODEL_NAME secret=${CAIRN_TEST_SECRET:-unset} "
      "tracking=$MLFLOW_TRACKING_URI path=${PATH:+set}\"");
  request.env = {{"MODEL_NAME", "churn"}};
  ASSERT_OK(launcher.Launch(request, exits_.Callback()));
  EXPECT_EQ(exits_.Wait(1).at(0).exit_code, 0);
  EXPECT_EQ(ReadFile(dir_ / "log.txt"),
            "model=churn secret=unset tracking=http://tracking:5000 path=set\n");
  ::unsetenv("CAIRN_TEST_SECRET");
  ::unsetenv("MLFLOW_TRACKING_URI");
}

TEST_F(CommandLauncherTest, RunsInTheWorkingDirectoryWithoutTheServersDescriptors) {
  // A descriptor opened without O_CLOEXEC, as a careless library might.
  int leaky = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 3);
  CommandLauncher& launcher = MakeLauncher();
  LaunchRequest request = Shell("pwd; if [ -e /proc/self/fd/" + std::to_string(leaky) +
                                " ]; then echo leaked; else echo closed; fi");
  fs::create_directory(dir_ / "work");
  request.working_dir = (dir_ / "work").string();
  ASSERT_OK(launcher.Launch(request, exits_.Callback()));
  EXPECT_EQ(exits_.Wait(1).at(0).exit_code, 0);
  ::close(leaky);
  EXPECT_EQ(ReadFile(dir_ / "log.txt"), (dir_ / "work").string() + "\nclosed\n");
}

TEST_F(CommandLauncherTest, ReportsTheSignalThatEndedTheCommand) {
  CommandLauncher& launcher = MakeLauncher();
  ASSERT_OK(launcher.Launch(Shell("kill -USR1 $$"), exits_.Callback()));
  LaunchResult result = exits_.Wait(1).at(0);
  EXPECT_EQ(result.signal, SIGUSR1);
  EXPECT_EQ(result.exit_code, -1);
  EXPECT_FALSE(result.timed_out);
}

TEST_F(CommandLauncherTest, TimeoutKillsTheWholeProcessGroup) {
  CommandLauncher& launcher = MakeLauncher();
  LaunchRequest request =
      Shell("sleep 100 & echo $! > " + (dir_ / "bg.pid").string() + "; sleep 100");
  request.timeout = 1s;
  auto start = std::chrono::steady_clock::now();
  ASSERT_OK(launcher.Launch(request, exits_.Callback()));
  LaunchResult result = exits_.Wait(1).at(0);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.signal, SIGTERM);
  EXPECT_GE(result.duration_ms, 900);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);

  int background = std::stoi(ReadFile(dir_ / "bg.pid"));
  auto give_up = std::chrono::steady_clock::now() + 3s;
  while (!ProcessGone(background) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(ProcessGone(background)) << "the background sleep " << background << " survived";
}

TEST_F(CommandLauncherTest, EscalatesToSigkillWhenSigtermIsIgnored) {
  CommandLauncher& launcher = MakeLauncher({.kill_grace = 200ms});
  LaunchRequest request = Shell("trap '' TERM; sleep 100");
  request.timeout = 1s;
  ASSERT_OK(launcher.Launch(request, exits_.Callback()));
  LaunchResult result = exits_.Wait(1).at(0);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.signal, SIGKILL);
  EXPECT_GE(result.duration_ms, 1100);
}

TEST_F(CommandLauncherTest, MissingExecutableFailsTheLaunch) {
  CommandLauncher& launcher = MakeLauncher();
  LaunchRequest request;
  request.argv = {"/nonexistent/train.py"};
  EXPECT_EQ(launcher.Launch(request, exits_.Callback()).status().code(), StatusCode::kNotFound);
  request.argv = {"cairn-no-such-program"};
  EXPECT_EQ(launcher.Launch(request, exits_.Callback()).status().code(), StatusCode::kNotFound);

  std::ofstream(dir_ / "script.sh") << "#!/bin/sh\necho hi\n";
  request.argv = {(dir_ / "script.sh").string()};  // not executable
  EXPECT_EQ(launcher.Launch(request, exits_.Callback()).status().code(),
            StatusCode::kInvalidArgument);
  request.argv = {};
  EXPECT_EQ(launcher.Launch(request, exits_.Callback()).status().code(),
            StatusCode::kInvalidArgument);
  request = Shell("true");
  request.working_dir = (dir_ / "missing").string();
  EXPECT_EQ(launcher.Launch(request, exits_.Callback()).status().code(),
            StatusCode::kInvalidArgument);
  request = Shell("true");
  request.log_path = (dir_ / "missing" / "log.txt").string();
  EXPECT_EQ(launcher.Launch(request, exits_.Callback()).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(launcher.running(), 0);
}

TEST_F(CommandLauncherTest, LimitsConcurrentCommandsAndShutdownStopsThem) {
  CommandLauncher& launcher = MakeLauncher({.max_running = 2});
  ASSERT_OK(launcher.Launch(Shell("sleep 100"), exits_.Callback()));
  ASSERT_OK(launcher.Launch(Shell("sleep 100"), exits_.Callback()));
  EXPECT_EQ(launcher.running(), 2);
  EXPECT_EQ(launcher.Launch(Shell("sleep 100"), exits_.Callback()).status().code(),
            StatusCode::kResourceExhausted);

  auto start = std::chrono::steady_clock::now();
  launcher.Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  std::vector<LaunchResult> results = exits_.Wait(2, 0ms);
  ASSERT_EQ(results.size(), 2u);
  for (const LaunchResult& result : results) {
    EXPECT_EQ(result.signal, SIGTERM);
    EXPECT_FALSE(result.timed_out);
  }
  EXPECT_EQ(launcher.running(), 0);
  EXPECT_EQ(launcher.Launch(Shell("true"), exits_.Callback()).status().code(),
            StatusCode::kUnavailable);
}

TEST_F(CommandLauncherTest, FreedSlotCanBeUsedFromTheExitCallback) {
  CommandLauncher& launcher = MakeLauncher({.max_running = 1});
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> codes;
  std::function<void(const LaunchResult&)> on_exit = [&](const LaunchResult& result) {
    std::lock_guard lock(mu);
    codes.push_back(result.exit_code);
    if (codes.size() == 1) {
      EXPECT_OK(launcher.Launch(Shell("exit 2"), on_exit));
    }
    cv.notify_all();
  };
  ASSERT_OK(launcher.Launch(Shell("exit 1"), on_exit));
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return codes.size() == 2; }));
  EXPECT_EQ(codes, (std::vector<int>{1, 2}));
}

TEST(CommandLauncherCreateTest, RejectsBadOptions) {
  EXPECT_EQ(CommandLauncher::Create({.max_running = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::monitor
