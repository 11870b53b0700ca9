#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "redis/redis_client.h"

namespace cairn::redis {

// A Redis of a test's own (Debian's redis-server, run as scripts/services/redis.sh runs it), so
// the test may stop and restart it: on one free loopback port for its lifetime, with the
// password "s3cret", database 1 in Uri(). Test-only.
class TestRedisServer {
 public:
  TestRedisServer() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-redis-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
      port_ = ntohs(addr.sin_port);
    }
    ::close(fd);
  }
  ~TestRedisServer() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Starts it as a child of this process; false when it does not answer within 2 s.
  bool Start() {
    const std::string log = (dir_ / "redis.log").string();
    std::vector<std::string> args = {
        "redis-server", "--bind",        "127.0.0.1", "--port",    std::to_string(port_),
        "--dir",        dir_.string(),   "--save",    "",          "--appendonly",
        "no",           "--requirepass", "s3cret",    "--logfile", log};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execvp("redis-server", argv.data());
      ::_exit(127);
    }
    if (pid_ < 0) return false;
    RedisClient probe(Uri(), RedisOptions{.min_backoff = std::chrono::milliseconds(1),
                                          .max_backoff = std::chrono::milliseconds(1)});
    for (int i = 0; i < 200; ++i) {
      if (probe.Ping().ok()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // Kills it (SIGKILL: a crash, quicker than a shutdown and harder on the clients) and reaps it.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  RedisUri Uri() const {
    RedisUri uri;
    uri.host = "127.0.0.1";
    uri.port = port_;
    uri.password = "s3cret";
    uri.db = 1;
    return uri;
  }

 private:
  std::filesystem::path dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace cairn::redis
