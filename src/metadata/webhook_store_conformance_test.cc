// The WebhookStore conformance suite: every backend must pass it (backends in
// metadata_store_test_backends.h).

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "metadata/metadata_store_test_backends.h"
#include "metadata/webhook_store.h"

namespace cairn::metadata {
namespace {

using testing_util::BackendName;

auto Fields(const WebhookRecord& w) {
  return std::tie(w.id, w.name, w.description, w.url, w.events, w.status, w.secret, w.created_at_ms,
                  w.updated_at_ms);
}

WebhookRecord Hook(std::string id, int64_t at,
                   std::vector<std::string> events = {"registered_model.created"}) {
  return WebhookRecord{.id = std::move(id),
                       .name = "hook",
                       .description = "d",
                       .url = "https://example.com/hook",
                       .events = std::move(events),
                       .status = "ACTIVE",
                       .secret = "s3cret",
                       .created_at_ms = at,
                       .updated_at_ms = at};
}

std::vector<std::string> Ids(const std::vector<WebhookRecord>& hooks) {
  std::vector<std::string> out;
  for (const WebhookRecord& w : hooks) out.push_back(w.id);
  return out;
}

#define EXPECT_STATUS(expr, expected) \
  EXPECT_EQ(::cairn::testing_status::ToStatus(expr).code(), expected) << #expr

class WebhookStoreConformanceTest : public testing_util::StoreConformanceTest {};

TEST_P(WebhookStoreConformanceTest, CreateThenGetReturnsEveryFieldAndSurvivesReopen) {
  WebhookRecord hook = Hook("w1", 100, {"registered_model.created", "model_version_tag.set"});
  ASSERT_OK(webhooks().CreateWebhook("t1", hook));
  hook.events = {"model_version_tag.set", "registered_model.created"};  // read back sorted
  auto got = webhooks().GetWebhook("t1", "w1");
  ASSERT_OK(got);
  EXPECT_EQ(Fields(*got), Fields(hook));
  Reopen();
  got = webhooks().GetWebhook("t1", "w1");
  ASSERT_OK(got);
  EXPECT_EQ(Fields(*got), Fields(hook));
}

TEST_P(WebhookStoreConformanceTest, IdsAreUniqueAcrossTenants) {
  ASSERT_OK(webhooks().CreateWebhook("t1", Hook("w1", 100)));
  EXPECT_STATUS(webhooks().CreateWebhook("t2", Hook("w1", 100)), StatusCode::kAlreadyExists);
}

TEST_P(WebhookStoreConformanceTest, OtherTenantsWebhooksAreInvisible) {
  ASSERT_OK(webhooks().CreateWebhook("t1", Hook("w1", 100)));
  auto missing = webhooks().GetWebhook("t2", "w1");
  EXPECT_STATUS(missing, StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Webhook with ID w1 not found.");
  EXPECT_STATUS(webhooks().UpdateWebhook("t2", "w1", WebhookUpdate{.name = "x"}),
                StatusCode::kNotFound);
  EXPECT_STATUS(webhooks().DeleteWebhook("t2", "w1"), StatusCode::kNotFound);
  auto listed = webhooks().ListWebhooks("t2", 10, 0);
  ASSERT_OK(listed);
  EXPECT_TRUE(listed->items.empty());
  auto active = webhooks().ListActiveWebhooksForEvent("t2", "registered_model.created");
  ASSERT_OK(active);
  EXPECT_TRUE(active->empty());
  EXPECT_OK(webhooks().GetWebhook("t1", "w1"));
}

TEST_P(WebhookStoreConformanceTest, ListIsNewestFirstAndPaged) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK(webhooks().CreateWebhook("t1", Hook("w" + std::to_string(i), 100 + i)));
  }
  auto first = webhooks().ListWebhooks("t1", 2, 0);
  ASSERT_OK(first);
  EXPECT_EQ(Ids(first->items), (std::vector<std::string>{"w4", "w3"}));
  EXPECT_TRUE(first->has_more);
  EXPECT_EQ(first->items[0].events, (std::vector<std::string>{"registered_model.created"}));
  auto last = webhooks().ListWebhooks("t1", 2, 4);
  ASSERT_OK(last);
  EXPECT_EQ(Ids(last->items), (std::vector<std::string>{"w0"}));
  EXPECT_FALSE(last->has_more);
}

TEST_P(WebhookStoreConformanceTest, ActiveWebhooksForEventAreTheActiveSubscribers) {
  ASSERT_OK(webhooks().CreateWebhook("t1", Hook("a", 100, {"model_version.created"})));
  ASSERT_OK(webhooks().CreateWebhook(
      "t1", Hook("b", 200, {"registered_model.created", "model_version.created"})));
  WebhookRecord disabled = Hook("c", 300, {"model_version.created"});
  disabled.status = "DISABLED";
  ASSERT_OK(webhooks().CreateWebhook("t1", disabled));
  ASSERT_OK(webhooks().CreateWebhook("t2", Hook("d", 400, {"model_version.created"})));

  auto hooks = webhooks().ListActiveWebhooksForEvent("t1", "model_version.created");
  ASSERT_OK(hooks);
  EXPECT_EQ(Ids(*hooks), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ((*hooks)[0].secret, "s3cret");
  EXPECT_EQ((*hooks)[0].events,
            (std::vector<std::string>{"model_version.created", "registered_model.created"}));
  hooks = webhooks().ListActiveWebhooksForEvent("t1", "model_version_tag.set");
  ASSERT_OK(hooks);
  EXPECT_TRUE(hooks->empty());
}

TEST_P(WebhookStoreConformanceTest, UpdateReplacesOnlyTheGivenFields) {
  ASSERT_OK(webhooks().CreateWebhook("t1", Hook("w1", 100)));
  auto updated = webhooks().UpdateWebhook(
      "t1", "w1",
      WebhookUpdate{.events = std::vector<std::string>{"model_version_alias.deleted"},
                    .status = "DISABLED",
                    .updated_at_ms = 500});
  ASSERT_OK(updated);
  WebhookRecord expected = Hook("w1", 100, {"model_version_alias.deleted"});
  expected.status = "DISABLED";
  expected.updated_at_ms = 500;
  EXPECT_EQ(Fields(*updated), Fields(expected));
  auto got = webhooks().GetWebhook("t1", "w1");
  ASSERT_OK(got);
  EXPECT_EQ(Fields(*got), Fields(expected));
  auto old_event = webhooks().ListActiveWebhooksForEvent("t1", "registered_model.created");
  ASSERT_OK(old_event);
  EXPECT_TRUE(old_event->empty());

  updated = webhooks().UpdateWebhook("t1", "w1",
                                     WebhookUpdate{.name = "renamed",
                                                   .description = "",
                                                   .url = "https://example.org/x",
                                                   .status = "ACTIVE",
                                                   .secret = "new",
                                                   .updated_at_ms = 600});
  ASSERT_OK(updated);
  EXPECT_EQ(updated->name, "renamed");
  EXPECT_EQ(updated->description, "");
  EXPECT_EQ(updated->url, "https://example.org/x");
  EXPECT_EQ(updated->secret, "new");
  EXPECT_EQ(updated->events, (std::vector<std::string>{"model_version_alias.deleted"}));
  auto active = webhooks().ListActiveWebhooksForEvent("t1", "model_version_alias.deleted");
  ASSERT_OK(active);
  EXPECT_EQ(Ids(*active), (std::vector<std::string>{"w1"}));
}

TEST_P(WebhookStoreConformanceTest, DeleteRemovesTheWebhookAndItsSubscriptions) {
  ASSERT_OK(webhooks().CreateWebhook("t1", Hook("w1", 100)));
  ASSERT_OK(webhooks().DeleteWebhook("t1", "w1"));
  EXPECT_STATUS(webhooks().GetWebhook("t1", "w1"), StatusCode::kNotFound);
  EXPECT_STATUS(webhooks().DeleteWebhook("t1", "w1"), StatusCode::kNotFound);
  auto active = webhooks().ListActiveWebhooksForEvent("t1", "registered_model.created");
  ASSERT_OK(active);
  EXPECT_TRUE(active->empty());
  // The id may be used again once deleted.
  EXPECT_OK(webhooks().CreateWebhook("t1", Hook("w1", 200)));
}

INSTANTIATE_TEST_SUITE_P(Backends, WebhookStoreConformanceTest,
                         testing::ValuesIn(testing_util::kConformanceBackends), BackendName);

}  // namespace
}  // namespace cairn::metadata
