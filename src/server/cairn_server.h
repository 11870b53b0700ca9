#pragma once

#include <memory>

#include "base/status.h"
#include "http/router.h"
#include "metadata/metadata_stores.h"
#include "server/config.h"

namespace cairn::server {

// The composition root: turns a ServerConfig into stores, services, handlers and a listening
// HTTP server, and tears them down in reverse order.
class CairnServer {
 public:
  // Opens the stores (running migrations), registers routes and binds the port.
  static StatusOr<std::unique_ptr<CairnServer>> Start(const ServerConfig& config);
  ~CairnServer();

  uint16_t port() const;
  // The metadata store the server opened, to check in tests that configuration reached it.
  const metadata::MetadataStores& MetadataStoresForTest();
  // The routes the server answers, to check every one against the roles in tests.
  const http::Router& RouterForTest();
  // Serves until SIGINT/SIGTERM, then drains in-flight requests and returns.
  void WaitForSignal();
  void Stop();

  // Everything the server owns; defined in cairn_server.cc.
  struct State;

 private:
  explicit CairnServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// INTERNAL naming the first route that declares no permission: the server refuses to start
// with one, so no endpoint is ever added without deciding who may call it.
Status CheckRoutePermissions(const http::Router& router);

// `cairn server ...`: parses arguments, starts, serves until a signal. Returns the exit code.
int ServerMain(const std::vector<std::string>& args);

}  // namespace cairn::server
