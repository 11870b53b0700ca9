#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "registry/registry_observer.h"
#include "registry/registry_rules.h"  // PythonJsonDumps: the bytes signatures cover

namespace cairn::registry {

// MLflow's webhook wire format (mlflow/webhooks/delivery.py, types.py, entities/webhook.py).

// Headers every delivery carries.
inline constexpr std::string_view kWebhookSignatureHeader = "X-MLflow-Signature";
inline constexpr std::string_view kWebhookTimestampHeader = "X-MLflow-Timestamp";
inline constexpr std::string_view kWebhookDeliveryIdHeader = "X-MLflow-Delivery-Id";

// Whether `event` ("entity.action", lower case) is one MLflow defines, e.g.
// "model_version_alias.created".
bool IsWebhookEvent(std::string_view event);

// The event of a proto-JSON WebhookEvent, {"entity": "MODEL_VERSION", "action": "CREATED"} (enum
// names or numbers). INVALID_ARGUMENT with MLflow's wording for an action the entity does not
// have; INVALID_ARGUMENT for an unknown entity or action (MLflow fails with a 500 there).
StatusOr<std::string> WebhookEventFromJson(const boost::json::value& value);
// {"entity": "MODEL_VERSION", "action": "CREATED"} for "model_version.created".
boost::json::object WebhookEventToJson(std::string_view event);

// The delivered body: {"entity", "action", "timestamp", "data"} serialised as MLflow does.
std::string WebhookBody(std::string_view event, const boost::json::object& data,
                        int64_t unix_micros);

// The X-MLflow-Signature value: "v1," + base64(HMAC-SHA256(secret,
// "<delivery_id>.<timestamp>.<body>")).
std::string SignWebhookBody(std::string_view secret, std::string_view delivery_id,
                            std::string_view timestamp, std::string_view body);

// A random UUID4 in its canonical text form: the delivery id.
std::string NewDeliveryId();

// MLflow's example payload for `event` (what "test webhook" sends); empty for an unknown event.
boost::json::object ExampleWebhookPayload(std::string_view event);

// The event and payload MLflow sends for `event`, where `prompt` says whether the registered
// model involved is a prompt (for creations it is read from the request's tags instead).
// nullopt when MLflow sends nothing (a tag change on a registered model that is not a prompt).
struct WebhookMessage {
  std::string event;
  boost::json::object data;
};
std::optional<WebhookMessage> WebhookMessageFor(const RegistryEvent& event, bool prompt);

// Whether `event` needs to know if its registered model is a prompt (it is not a creation).
bool NeedsPromptLookup(const RegistryEvent& event);

}  // namespace cairn::registry
