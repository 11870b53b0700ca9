#pragma once

#include <memory>
#include <utility>

#include "http/message.h"

namespace cairn::http {

// Completes one request later, from any thread: what an asynchronous handler gets instead of
// returning its response (a prediction waits on a batcher, a webhook on a remote server), so no
// thread is held while it waits.
//
// Copyable; all copies complete the same request. The first Send wins and later ones are
// ignored. When the last copy goes away without a Send, the request is answered 500, so a lost
// responder never hangs a client. Once the server has stopped, Send does nothing.
class Responder {
 public:
  // What the server implements behind a Responder.
  class Completion {
   public:
    virtual ~Completion() = default;
    // Delivers the response; called at most once per request by Responder.
    virtual void Complete(Response response) = 0;
  };

  explicit Responder(std::shared_ptr<Completion> completion) : completion_(std::move(completion)) {}

  void Send(Response response) const {
    if (completion_) completion_->Complete(std::move(response));
  }

 private:
  std::shared_ptr<Completion> completion_;
};

}  // namespace cairn::http
