#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "redis/redis_uri.h"

struct redisContext;

namespace cairn::redis {

struct RedisOptions {
  // Bounds on how long a request may wait for Redis: connecting, and each command's round trip.
  std::chrono::milliseconds connect_timeout{250};
  std::chrono::milliseconds command_timeout{250};
  // After a failed connection, calls fail at once (UNAVAILABLE) for this long, doubled after
  // each further failure up to max_backoff, so an outage costs requests nothing but the check.
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  // Connections kept open between calls; calls beyond it open (and then close) their own.
  size_t max_idle = 16;
  // CLIENT SETNAME of every connection, so operators can tell Cairn's in CLIENT LIST; letters,
  // digits, '-', '_' and '.' only (others are replaced by '_'); empty: none.
  std::string client_name = "cairn";
};

// One reply, converted from hiredis's so no hiredis header leaks past this library. An error
// reply has type kError and its text in `str`.
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;
  int64_t integer = 0;
  std::vector<RedisReply> elements;
};

// A Lua script sent by digest (EVALSHA) and by text only when Redis does not know it yet
// (after a restart or SCRIPT FLUSH).
struct RedisScript {
  explicit RedisScript(std::string text);
  std::string text;
  std::string sha1;  // lower-case hex
};

// A small synchronous Redis client with a pool of connections (hiredis contexts, which are not
// thread-safe, so each call takes one for itself). Every call is bounded by the timeouts above;
// a broken connection is dropped and the next call opens a new one, after the backoff.
//
// Errors: UNAVAILABLE when Redis cannot be reached, times out or is in backoff; INTERNAL with
// Redis's text for an error reply. Thread-safe.
class RedisClient {
 public:
  // Opens no connection yet: Redis may come up after the server.
  RedisClient(RedisUri uri, RedisOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command, arguments binary-safe (e.g. {"SET", key, value}).
  StatusOr<RedisReply> Command(const std::vector<std::string_view>& args) EXCLUDES(mu_);
  // EVALSHA, then EVAL when Redis answers NOSCRIPT.
  StatusOr<RedisReply> Eval(const RedisScript& script, const std::vector<std::string_view>& keys,
                            const std::vector<std::string_view>& args) EXCLUDES(mu_);

  // Opens a connection now and runs PING: OK, or why Redis cannot be reached.
  Status Ping() EXCLUDES(mu_);

  const RedisUri& uri() const { return uri_; }
  const RedisOptions& options() const { return options_; }

  // Opens and prepares (AUTH, SELECT) a connection with these settings; null with `error` set
  // when it fails. For RedisSubscriber, which holds its own connection.
  struct ContextDeleter {
    void operator()(redisContext* context) const;
  };
  using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;
  static ContextPtr Connect(const RedisUri& uri, const RedisOptions& options, std::string& error);

 private:
  StatusOr<RedisReply> Run(const std::vector<std::string_view>& args) EXCLUDES(mu_);
  // An idle connection, or a new one; UNAVAILABLE while in backoff or when connecting fails.
  StatusOr<ContextPtr> Take(bool& reused) EXCLUDES(mu_);
  void Give(ContextPtr context) EXCLUDES(mu_);
  void MarkDown() EXCLUDES(mu_);

  const RedisUri uri_;
  const RedisOptions options_;
  Mutex mu_;
  std::vector<ContextPtr> idle_ GUARDED_BY(mu_);
  int64_t down_until_ns_ GUARDED_BY(mu_) = 0;
  std::chrono::milliseconds backoff_ GUARDED_BY(mu_);
};

// Closes every connection named `name` (CLIENT SETNAME) through `client`: what a Redis restart
// does to them, aimed at one test's connections. Returns how many it closed.
StatusOr<int> KillClientsNamedForTest(RedisClient& client, std::string_view name);

// Converts a hiredis reply (a `redisReply*`, passed as void* to keep hiredis out of this header).
RedisReply ConvertReply(const void* reply);

}  // namespace cairn::redis
