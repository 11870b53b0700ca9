#include "registry/webhook_payload.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "base/civil_time.h"
#include "base/ids.h"

namespace cairn::registry {
namespace {

namespace bj = boost::json;

constexpr std::string_view kIsPromptTag = "mlflow.prompt.is_prompt";
constexpr std::string_view kPromptTypeTag = "_mlflow_prompt_type";
constexpr std::string_view kPromptTextTag = "mlflow.prompt.text";

// Proto enum names, by number (index).
constexpr std::array<std::string_view, 11> kEntities = {
    "ENTITY_UNSPECIFIED",  "REGISTERED_MODEL", "MODEL_VERSION",  "MODEL_VERSION_TAG",
    "MODEL_VERSION_ALIAS", "PROMPT",           "PROMPT_VERSION", "PROMPT_TAG",
    "PROMPT_VERSION_TAG",  "PROMPT_ALIAS",     "BUDGET_POLICY"};
constexpr std::array<std::string_view, 6> kActions = {
    "ACTION_UNSPECIFIED", "CREATED", "UPDATED", "DELETED", "SET", "EXCEEDED"};

// MLflow's VALID_ENTITY_ACTIONS, flattened.
constexpr std::array<std::string_view, 15> kEvents = {"registered_model.created",
                                                      "model_version.created",
                                                      "model_version_tag.set",
                                                      "model_version_tag.deleted",
                                                      "model_version_alias.created",
                                                      "model_version_alias.deleted",
                                                      "prompt.created",
                                                      "prompt_version.created",
                                                      "prompt_tag.set",
                                                      "prompt_tag.deleted",
                                                      "prompt_version_tag.set",
                                                      "prompt_version_tag.deleted",
                                                      "prompt_alias.created",
                                                      "prompt_alias.deleted",
                                                      "budget_policy.exceeded"};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// An enum field given by name or number; "" when unknown.
template <size_t N>
std::string EnumName(const bj::value& v, const std::array<std::string_view, N>& names) {
  if (v.is_string()) {
    for (std::string_view n : names) {
      if (n == v.get_string()) return std::string(n);
    }
  } else if (v.is_int64() && v.get_int64() >= 0 && static_cast<size_t>(v.get_int64()) < N) {
    return std::string(names[static_cast<size_t>(v.get_int64())]);
  }
  return "";
}

// {key: value} of the tags, the last value of a repeated key winning in the first one's place
// (a Python dict comprehension), without `skip`.
bj::object TagsDict(const std::vector<metadata::Tag>& tags,
                    std::initializer_list<std::string_view> skip = {}) {
  bj::object out;
  for (const metadata::Tag& t : tags) {
    bool skipped = false;
    for (std::string_view s : skip) skipped = skipped || t.key == s;
    if (!skipped) out[t.key] = t.value;
  }
  return out;
}

bool IsPromptRequest(const std::vector<metadata::Tag>& tags) {
  std::string value = "false";
  for (const metadata::Tag& t : tags) {
    if (t.key == kIsPromptTag) value = t.value;
  }
  return Lower(value) == "true";
}

bj::value StringOrNull(const std::string& s) {
  return s.empty() ? bj::value(nullptr) : bj::value(s);
}

}  // namespace

bool IsWebhookEvent(std::string_view event) {
  for (std::string_view e : kEvents) {
    if (e == event) return true;
  }
  return false;
}

StatusOr<std::string> WebhookEventFromJson(const bj::value& value) {
  if (!value.is_object()) return InvalidArgument("Webhook events must be objects");
  const bj::object& obj = value.get_object();
  const bj::value* entity_value = obj.if_contains("entity");
  const bj::value* action_value = obj.if_contains("action");
  std::string entity = entity_value ? EnumName(*entity_value, kEntities) : "";
  std::string action = action_value ? EnumName(*action_value, kActions) : "";
  if (entity.empty() || entity == kEntities[0]) {
    return InvalidArgument("Invalid webhook event entity: " +
                           (entity_value ? bj::serialize(*entity_value) : "missing"));
  }
  if (action.empty() || action == kActions[0]) {
    return InvalidArgument("Invalid webhook event action: " +
                           (action_value ? bj::serialize(*action_value) : "missing"));
  }
  std::string event = Lower(entity) + "." + Lower(action);
  if (!IsWebhookEvent(event)) {
    std::string prefix = Lower(entity) + ".";
    std::vector<std::string> actions;
    for (std::string_view e : kEvents) {
      if (e.starts_with(prefix)) actions.emplace_back(e.substr(prefix.size()));
    }
    // Listed as Python prints sorted() of the action names.
    std::sort(actions.begin(), actions.end());
    std::string valid;
    for (const std::string& a : actions) valid += (valid.empty() ? "'" : ", '") + a + "'";
    return InvalidArgument("Invalid action '" + Lower(action) + "' for entity '" + Lower(entity) +
                           "'. Valid actions are: [" + valid + "]");
  }
  return event;
}

bj::object WebhookEventToJson(std::string_view event) {
  size_t dot = event.find('.');
  return bj::object{{"entity", Upper(event.substr(0, dot))},
                    {"action", Upper(event.substr(dot + 1))}};
}

std::string WebhookBody(std::string_view event, const bj::object& data, int64_t unix_micros) {
  size_t dot = event.find('.');
  bj::object body{{"entity", std::string(event.substr(0, dot))},
                  {"action", std::string(event.substr(dot + 1))},
                  {"timestamp", PythonIsoFormatUtc(unix_micros)},
                  {"data", data}};
  return PythonJsonDumps(body);
}

std::string SignWebhookBody(std::string_view secret, std::string_view delivery_id,
                            std::string_view timestamp, std::string_view body) {
  std::string content;
  content.reserve(delivery_id.size() + timestamp.size() + body.size() + 2);
  content.append(delivery_id).append(".").append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  static const unsigned char kNoKey = 0;
  const void* key = secret.empty() ? &kNoKey : static_cast<const void*>(secret.data());
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key, secret.size(),
                reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac,
                sizeof(mac), &mac_len) == nullptr) {
    return "";
  }
  std::string b64(4 * ((mac_len + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), mac, static_cast<int>(mac_len));
  b64.resize(static_cast<size_t>(n));
  return "v1," + b64;
}

std::string NewDeliveryId() {
  std::string hex = IdGenerator::Default().Hex32();
  hex[12] = '4';
  hex[16] = "89ab"[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

bj::object ExampleWebhookPayload(std::string_view event) {
  bj::object tags{{"example_key", "example_value"}};
  if (event == "registered_model.created") {
    return {
        {"name", "example_model"}, {"tags", tags}, {"description", "An example registered model"}};
  }
  if (event == "model_version.created") {
    return {{"name", "example_model"},
            {"version", "1"},
            {"source", "models:/123"},
            {"run_id", "abcd1234abcd5678"},
            {"tags", tags},
            {"description", "An example model version"}};
  }
  if (event == "model_version_tag.set") {
    return {{"name", "example_model"},
            {"version", "1"},
            {"key", "example_key"},
            {"value", "example_value"}};
  }
  if (event == "model_version_tag.deleted") {
    return {{"name", "example_model"}, {"version", "1"}, {"key", "example_key"}};
  }
  if (event == "model_version_alias.created") {
    return {{"name", "example_model"}, {"alias", "example_alias"}, {"version", "1"}};
  }
  if (event == "model_version_alias.deleted") {
    return {{"name", "example_model"}, {"alias", "example_alias"}};
  }
  if (event == "prompt.created") {
    return {{"name", "example_prompt"}, {"tags", tags}, {"description", "An example prompt"}};
  }
  if (event == "prompt_version.created") {
    return {{"name", "example_prompt"},
            {"version", "1"},
            {"template", "Hello {{name}}!"},
            {"tags", tags},
            {"description", "An example prompt version"}};
  }
  if (event == "prompt_tag.set") {
    return {{"name", "example_prompt"}, {"key", "example_key"}, {"value", "example_value"}};
  }
  if (event == "prompt_tag.deleted") {
    return {{"name", "example_prompt"}, {"key", "example_key"}};
  }
  if (event == "prompt_version_tag.set") {
    return {{"name", "example_prompt"},
            {"version", "1"},
            {"key", "example_key"},
            {"value", "example_value"}};
  }
  if (event == "prompt_version_tag.deleted") {
    return {{"name", "example_prompt"}, {"version", "1"}, {"key", "example_key"}};
  }
  if (event == "prompt_alias.created") {
    return {{"name", "example_prompt"}, {"alias", "example_alias"}, {"version", "1"}};
  }
  if (event == "prompt_alias.deleted") {
    return {{"name", "example_prompt"}, {"alias", "example_alias"}};
  }
  if (event == "budget_policy.exceeded") {
    return {{"budget_policy_id", "bp-abc123"}, {"budget_unit", "USD"},
            {"budget_amount", 100.0},          {"current_spend", 105.50},
            {"duration_unit", "MONTHS"},       {"duration_value", 1},
            {"target_scope", "ENDPOINT"},      {"workspace", "default"},
            {"target_value", "ep-abc123"},     {"window_start", int64_t{1704067200000}}};
  }
  return {};
}

bool NeedsPromptLookup(const RegistryEvent& event) {
  return event.kind != RegistryEvent::Kind::kRegisteredModelCreated &&
         event.kind != RegistryEvent::Kind::kModelVersionCreated;
}

std::optional<WebhookMessage> WebhookMessageFor(const RegistryEvent& e, bool prompt) {
  using Kind = RegistryEvent::Kind;
  switch (e.kind) {
    case Kind::kRegisteredModelCreated:
      if (IsPromptRequest(e.tags)) {
        return WebhookMessage{"prompt.created",
                              {{"name", e.name},
                               {"tags", TagsDict(e.tags, {kIsPromptTag, kPromptTypeTag})},
                               {"description", e.description}}};
      }
      return WebhookMessage{
          "registered_model.created",
          {{"name", e.name}, {"tags", TagsDict(e.tags)}, {"description", e.description}}};
    case Kind::kModelVersionCreated:
      if (IsPromptRequest(e.tags)) {
        bj::value template_text = nullptr;
        for (const metadata::Tag& t : e.tags) {
          if (t.key == kPromptTextTag) template_text = t.value;
        }
        return WebhookMessage{
            "prompt_version.created",
            {{"name", e.name},
             {"version", e.version},
             {"template", template_text},
             {"tags", TagsDict(e.tags, {kPromptTextTag, kIsPromptTag, kPromptTypeTag})},
             {"description", StringOrNull(e.description)}}};
      }
      return WebhookMessage{"model_version.created",
                            {{"name", e.name},
                             {"version", e.version},
                             {"source", e.source},
                             {"run_id", StringOrNull(e.run_id)},
                             {"tags", TagsDict(e.tags)},
                             {"description", StringOrNull(e.description)}}};
    case Kind::kModelVersionTagSet:
      return WebhookMessage{
          prompt ? "prompt_version_tag.set" : "model_version_tag.set",
          {{"name", e.name}, {"version", e.version}, {"key", e.key}, {"value", e.value}}};
    case Kind::kModelVersionTagDeleted:
      return WebhookMessage{prompt ? "prompt_version_tag.deleted" : "model_version_tag.deleted",
                            {{"name", e.name}, {"version", e.version}, {"key", e.key}}};
    case Kind::kRegisteredModelTagSet:
      if (!prompt) return std::nullopt;
      return WebhookMessage{"prompt_tag.set",
                            {{"name", e.name}, {"key", e.key}, {"value", e.value}}};
    case Kind::kRegisteredModelTagDeleted:
      if (!prompt) return std::nullopt;
      return WebhookMessage{"prompt_tag.deleted", {{"name", e.name}, {"key", e.key}}};
    case Kind::kAliasSet:
      return WebhookMessage{prompt ? "prompt_alias.created" : "model_version_alias.created",
                            {{"name", e.name}, {"alias", e.alias}, {"version", e.version}}};
    case Kind::kAliasDeleted:
      return WebhookMessage{prompt ? "prompt_alias.deleted" : "model_version_alias.deleted",
                            {{"name", e.name}, {"alias", e.alias}}};
  }
  return std::nullopt;
}

}  // namespace cairn::registry
