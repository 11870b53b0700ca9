#include "redis/redis_subscriber.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace cairn::redis {

StatusOr<std::unique_ptr<RedisSubscriber>> RedisSubscriber::Start(RedisUri uri,
                                                                  RedisOptions options,
                                                                  std::vector<std::string> channels,
                                                                  MessageHandler on_message,
                                                                  SubscribedHandler on_subscribed) {
  if (channels.empty()) return InvalidArgument("a subscriber needs at least one channel");
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    return Internal("cannot create the subscriber's wake-up pipe");
  }
  std::unique_ptr<RedisSubscriber> subscriber(
      new RedisSubscriber(std::move(uri), options, std::move(channels), std::move(on_message),
                          std::move(on_subscribed), fds[0], fds[1]));
  RedisSubscriber* self = subscriber.get();
  // spdlog's registry is created on first use; create it here, before the thread that logs
  // exists, rather than racing the caller's thread for it (ThreadSanitizer reports that race:
  // the creation happens inside libspdlog, where it cannot see the guard).
  spdlog::default_logger_raw();
  subscriber->thread_ = std::thread([self] { self->Run(); });
  return subscriber;
}

RedisSubscriber::RedisSubscriber(RedisUri uri, RedisOptions options,
                                 std::vector<std::string> channels, MessageHandler on_message,
                                 SubscribedHandler on_subscribed, int wake_read, int wake_write)
    : uri_(std::move(uri)),
      options_(options),
      channels_(std::move(channels)),
      on_message_(std::move(on_message)),
      on_subscribed_(std::move(on_subscribed)),
      wake_read_(wake_read),
      wake_write_(wake_write) {}

RedisSubscriber::~RedisSubscriber() {
  stopping_ = true;
  char byte = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_write_, &byte, 1);
  if (thread_.joinable()) thread_.join();
  ::close(wake_read_);
  ::close(wake_write_);
}

bool RedisSubscriber::Sleep(int64_t ms) {
  pollfd fd{.fd = wake_read_, .events = POLLIN, .revents = 0};
  ::poll(&fd, 1, static_cast<int>(ms));
  return !stopping_.load();
}

void RedisSubscriber::Run() {
  std::chrono::milliseconds backoff = options_.min_backoff;
  bool reported = false;
  while (!stopping_.load()) {
    std::string error;
    RedisClient::ContextPtr context = RedisClient::Connect(uri_, options_, error);
    if (context != nullptr) {
      std::vector<const char*> argv = {"SUBSCRIBE"};
      std::vector<size_t> lengths = {9};
      for (const std::string& channel : channels_) {
        argv.push_back(channel.data());
        lengths.push_back(channel.size());
      }
      // SUBSCRIBE answers one confirmation per channel.
      bool ok = redisAppendCommandArgv(context.get(), static_cast<int>(argv.size()), argv.data(),
                                       lengths.data()) == REDIS_OK;
      for (size_t i = 0; ok && i < channels_.size(); ++i) {
        void* reply = nullptr;
        ok = redisGetReply(context.get(), &reply) == REDIS_OK && reply != nullptr &&
             static_cast<redisReply*>(reply)->type == REDIS_REPLY_ARRAY;
        if (reply != nullptr) freeReplyObject(reply);
      }
      if (ok) {
        if (reported) spdlog::info("Redis subscriber: subscribed again to {}", uri_.Redacted());
        reported = false;
        backoff = options_.min_backoff;
        subscribed_ = true;
        subscriptions_.fetch_add(1);
        if (on_subscribed_) on_subscribed_();
        Listen(context.get());
        subscribed_ = false;
        if (stopping_.load()) break;
        error = context->err != 0 ? context->errstr : "connection closed";
      } else {
        error = context->err != 0 ? context->errstr : "SUBSCRIBE refused";
      }
    }
    if (!reported) {
      spdlog::warn("Redis subscriber: {}; retrying with backoff", error);
      reported = true;
    }
    if (!Sleep(backoff.count())) break;
    backoff = std::min(options_.max_backoff, backoff * 2);
  }
}

void RedisSubscriber::Listen(redisContext* context) {
  while (!stopping_.load()) {
    // First whatever is already buffered, then wait for the socket or a stop.
    while (true) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(context, &raw) != REDIS_OK) return;
      if (raw == nullptr) break;
      RedisReply reply = ConvertReply(raw);
      freeReplyObject(raw);
      if (reply.type == RedisReply::Type::kArray && reply.elements.size() == 3 &&
          reply.elements[0].str == "message") {
        on_message_(reply.elements[1].str, reply.elements[2].str);
      }
    }
    pollfd fds[2] = {{.fd = context->fd, .events = POLLIN, .revents = 0},
                     {.fd = wake_read_, .events = POLLIN, .revents = 0}};
    int ready = ::poll(fds, 2, 1000);
    if (ready < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if (fds[0].revents != 0 && redisBufferRead(context) != REDIS_OK) return;
  }
}

}  // namespace cairn::redis
