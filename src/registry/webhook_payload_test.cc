#include "registry/webhook_payload.h"

#include <gtest/gtest.h>

#include <regex>

#include "base/civil_time.h"
#include "base/status_testing.h"

namespace cairn::registry {
namespace {

namespace bj = boost::json;

// The vectors below were produced by MLflow 3.17's own code:
// mlflow.webhooks.delivery._generate_hmac_signature and json.dumps of the same payload.
constexpr std::string_view kBody =
    R"({"entity": "model_version", "action": "created", "timestamp": )"
    R"("2025-01-02T03:04:05.123000+00:00", "data": {"name": "m\u00e9\"\n", "version": "1", )"
    R"("source": "runs:/abc/model", "run_id": null, "tags": {"k": "v", "\ud83d\ude00": "x\ty"}, )"
    R"("description": null}})";

TEST(WebhookPayloadTest, BodyIsWhatPythonJsonDumpsWrites) {
  bj::object data{{"name", "m\xc3\xa9\"\n"},
                  {"version", "1"},
                  {"source", "runs:/abc/model"},
                  {"run_id", nullptr},
                  {"tags", bj::object{{"k", "v"}, {"\xf0\x9f\x98\x80", "x\ty"}}},
                  {"description", nullptr}};
  EXPECT_EQ(WebhookBody("model_version.created", data, int64_t{1735787045123} * 1000), kBody);
}

TEST(WebhookPayloadTest, SignatureMatchesMlflowsGenerateHmacSignature) {
  EXPECT_EQ(SignWebhookBody("s3cret", "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "1735787045", kBody),
            "v1,4iEQlzxTcwF3i5cQ3CjP6JW7SslPDPxpKinTR53oUzw=");
  EXPECT_EQ(SignWebhookBody("", "id", "1", "{}"),
            "v1,N4fbcxeXySTqgU5jBARZYZ9FtZCU8v2kuXqbrIx+RWg=");
}

TEST(WebhookPayloadTest, TimestampIsPythonIsoformat) {
  EXPECT_EQ(PythonIsoFormatUtc(int64_t{1735787045123} * 1000), "2025-01-02T03:04:05.123000+00:00");
  EXPECT_EQ(PythonIsoFormatUtc(int64_t{1735787045} * 1000000), "2025-01-02T03:04:05+00:00");
}

TEST(WebhookPayloadTest, FloatsAreWrittenAsPythonRepr) {
  EXPECT_EQ(PythonJsonDumps(ExampleWebhookPayload("budget_policy.exceeded")),
            R"({"budget_policy_id": "bp-abc123", "budget_unit": "USD", "budget_amount": 100.0, )"
            R"("current_spend": 105.5, "duration_unit": "MONTHS", "duration_value": 1, )"
            R"("target_scope": "ENDPOINT", "workspace": "default", "target_value": "ep-abc123", )"
            R"("window_start": 1704067200000})");
}

TEST(WebhookPayloadTest, DeliveryIdIsAUuid4) {
  std::regex uuid4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(std::regex_match(NewDeliveryId(), uuid4));
}

TEST(WebhookPayloadTest, EventsParseFromProtoJson) {
  auto event = WebhookEventFromJson(bj::parse(R"({"entity":"MODEL_VERSION_TAG","action":"SET"})"));
  ASSERT_OK(event);
  EXPECT_EQ(*event, "model_version_tag.set");
  event = WebhookEventFromJson(bj::parse(R"({"entity":4,"action":3})"));
  ASSERT_OK(event);
  EXPECT_EQ(*event, "model_version_alias.deleted");
  EXPECT_EQ(bj::serialize(WebhookEventToJson("prompt_version_tag.deleted")),
            R"({"entity":"PROMPT_VERSION_TAG","action":"DELETED"})");

  auto bad =
      WebhookEventFromJson(bj::parse(R"({"entity":"MODEL_VERSION_TAG","action":"CREATED"})"));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "Invalid action 'created' for entity 'model_version_tag'. Valid actions are: "
            "['deleted', 'set']");
  for (const char* json : {R"({"entity":"FOO","action":"CREATED"})", R"({"entity":"PROMPT"})",
                           R"({"entity":"ENTITY_UNSPECIFIED","action":"CREATED"})", R"("x")"}) {
    EXPECT_EQ(WebhookEventFromJson(bj::parse(json)).status().code(), StatusCode::kInvalidArgument)
        << json;
  }
}

TEST(WebhookPayloadTest, ModelEventsCarryMlflowsPayloads) {
  RegistryEvent created{.kind = RegistryEvent::Kind::kRegisteredModelCreated,
                        .name = "m",
                        .tags = {{"a", "1"}, {"b", "2"}, {"a", "3"}}};
  auto message = WebhookMessageFor(created, false);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->event, "registered_model.created");
  EXPECT_EQ(PythonJsonDumps(message->data),
            R"({"name": "m", "tags": {"a": "3", "b": "2"}, "description": ""})");

  RegistryEvent version{.kind = RegistryEvent::Kind::kModelVersionCreated,
                        .name = "m",
                        .version = "2",
                        .source = "runs:/r/model",
                        .run_id = "r"};
  message = WebhookMessageFor(version, false);
  ASSERT_TRUE(message);
  EXPECT_EQ(PythonJsonDumps(message->data),
            R"({"name": "m", "version": "2", "source": "runs:/r/model", "run_id": "r", )"
            R"("tags": {}, "description": null})");

  RegistryEvent model_tag{
      .kind = RegistryEvent::Kind::kRegisteredModelTagSet, .name = "m", .key = "k", .value = "v"};
  EXPECT_FALSE(WebhookMessageFor(model_tag, false));

  RegistryEvent alias{
      .kind = RegistryEvent::Kind::kAliasSet, .name = "m", .version = "2", .alias = "champion"};
  message = WebhookMessageFor(alias, false);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->event, "model_version_alias.created");
  EXPECT_EQ(PythonJsonDumps(message->data),
            R"({"name": "m", "alias": "champion", "version": "2"})");
}

TEST(WebhookPayloadTest, PromptEventsLeaveOutThePromptMarkers) {
  RegistryEvent created{
      .kind = RegistryEvent::Kind::kRegisteredModelCreated,
      .name = "p",
      .description = "d",
      .tags = {
          {"mlflow.prompt.is_prompt", "True"}, {"_mlflow_prompt_type", "text"}, {"team", "x"}}};
  auto message = WebhookMessageFor(created, false);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->event, "prompt.created");
  EXPECT_EQ(PythonJsonDumps(message->data),
            R"({"name": "p", "tags": {"team": "x"}, "description": "d"})");

  RegistryEvent version{
      .kind = RegistryEvent::Kind::kModelVersionCreated,
      .name = "p",
      .version = "1",
      .tags = {
          {"mlflow.prompt.is_prompt", "true"}, {"mlflow.prompt.text", "Hi {{x}}"}, {"t", "1"}}};
  message = WebhookMessageFor(version, false);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->event, "prompt_version.created");
  EXPECT_EQ(PythonJsonDumps(message->data),
            R"({"name": "p", "version": "1", "template": "Hi {{x}}", "tags": {"t": "1"}, )"
            R"("description": null})");

  RegistryEvent tag{
      .kind = RegistryEvent::Kind::kRegisteredModelTagDeleted, .name = "p", .key = "k"};
  message = WebhookMessageFor(tag, true);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->event, "prompt_tag.deleted");
  RegistryEvent version_tag{
      .kind = RegistryEvent::Kind::kModelVersionTagSet, .name = "p", .version = "1", .key = "k"};
  EXPECT_EQ(WebhookMessageFor(version_tag, true)->event, "prompt_version_tag.set");
  EXPECT_TRUE(NeedsPromptLookup(version_tag));
  EXPECT_FALSE(NeedsPromptLookup(version));
}

}  // namespace
}  // namespace cairn::registry
