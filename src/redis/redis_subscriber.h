#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"
#include "redis/redis_client.h"
#include "redis/redis_uri.h"

namespace cairn::redis {

// Listens on Redis pub/sub channels on a thread of its own, over a connection of its own, and
// hands each message to `on_message` (on that thread: handlers that may take long queue the
// work elsewhere). When the connection breaks (Redis restarted, network), it reconnects with
// the client's backoff and subscribes again; messages published meanwhile are lost, so
// `on_subscribed` runs after every successful (re)subscription for callers to catch up (for
// example, by reloading from their store).
//
// Thread-safe; the destructor stops and joins the thread (within a few milliseconds).
class RedisSubscriber {
 public:
  using MessageHandler = std::function<void(std::string_view channel, std::string_view payload)>;
  using SubscribedHandler = std::function<void()>;

  // Starts the thread; it keeps trying until Redis answers, so this never fails on an outage.
  // INVALID_ARGUMENT when there is no channel; INTERNAL when the thread cannot be set up.
  static StatusOr<std::unique_ptr<RedisSubscriber>> Start(RedisUri uri, RedisOptions options,
                                                          std::vector<std::string> channels,
                                                          MessageHandler on_message,
                                                          SubscribedHandler on_subscribed);
  ~RedisSubscriber();
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  // Whether it is subscribed now.
  bool subscribed() const { return subscribed_.load(); }
  // Successful subscriptions so far (1 after the first, +1 per reconnection).
  int64_t subscriptions() const { return subscriptions_.load(); }

 private:
  RedisSubscriber(RedisUri uri, RedisOptions options, std::vector<std::string> channels,
                  MessageHandler on_message, SubscribedHandler on_subscribed, int wake_read,
                  int wake_write);
  void Run();
  // Waits up to `ms` unless woken for stopping; false when stopping.
  bool Sleep(int64_t ms);
  // Reads messages until the connection breaks or stopping.
  void Listen(redisContext* context);

  const RedisUri uri_;
  const RedisOptions options_;
  const std::vector<std::string> channels_;
  const MessageHandler on_message_;
  const SubscribedHandler on_subscribed_;
  const int wake_read_;
  const int wake_write_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> subscribed_{false};
  std::atomic<int64_t> subscriptions_{0};
  std::thread thread_;
};

}  // namespace cairn::redis
