#pragma once

// Internal to the HTTP server: a coroutine suspended until another thread resumes it.

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "http/responder.h"

namespace cairn::http::internal {

// Holds the completion handler of a suspended coroutine (signature void()). ResumeWith runs
// `fill` (which stores the result where the coroutine will read it) and posts the handler to
// the coroutine's executor; Drop destroys the handler instead (the server is stopping). Both
// under one mutex, so a result is never written into a coroutine frame that Drop is tearing
// down, and each happens at most once.
template <typename Handler>
class Suspension {
 public:
  explicit Suspension(Handler handler) : handler_(std::move(handler)) {}

  // Returns false when already resumed or dropped (`fill` is not run then).
  template <typename Fill>
  bool ResumeWith(Fill&& fill) {
    std::lock_guard lock(mu_);
    if (!handler_) return false;
    std::forward<Fill>(fill)();
    Handler handler = std::move(*handler_);
    handler_.reset();
    auto executor = boost::asio::get_associated_executor(handler);
    boost::asio::post(executor, [handler = std::move(handler)]() mutable { std::move(handler)(); });
    return true;
  }

  void Drop() {
    std::lock_guard lock(mu_);
    handler_.reset();
  }

 private:
  std::mutex mu_;
  std::optional<Handler> handler_;  // guarded by mu_
};

// What the server can tell a pending asynchronous answer when it stops.
class PendingAnswer {
 public:
  virtual ~PendingAnswer() = default;
  virtual void Drop() = 0;
};

// The Completion behind the Responders of one asynchronous request: the first Complete stores
// the response in the coroutine's `slot` and resumes it. When the last Responder goes away
// without an answer, the request gets a 500.
template <typename Handler>
class AsyncAnswer final : public Responder::Completion, public PendingAnswer {
 public:
  AsyncAnswer(Handler handler, std::optional<Response>* slot, Response (*unanswered)())
      : suspension_(std::move(handler)), slot_(slot), unanswered_(unanswered) {}
  ~AsyncAnswer() override {
    suspension_.ResumeWith([&] { *slot_ = unanswered_(); });
  }

  void Complete(Response response) override {
    suspension_.ResumeWith([&] { *slot_ = std::move(response); });
  }
  void Drop() override { suspension_.Drop(); }

 private:
  Suspension<Handler> suspension_;
  std::optional<Response>* slot_;  // in the suspended coroutine's frame
  Response (*unanswered_)();
};

}  // namespace cairn::http::internal
