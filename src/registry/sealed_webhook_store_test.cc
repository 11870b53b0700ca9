#include "registry/sealed_webhook_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/status_testing.h"
#include "metadata/sqlite/sqlite_metadata_backend.h"

namespace cairn::registry {
namespace {

namespace fs = std::filesystem;
using metadata::WebhookRecord;
using metadata::WebhookUpdate;

artifact::MasterKey Key(char fill, std::string id) {
  auto key =
      artifact::MasterKey::FromBytes(std::string(artifact::MasterKey::kSize, fill), std::move(id));
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return *key;
}

artifact::SecretBox Box(std::vector<artifact::MasterKey> ring) {
  auto box = artifact::SecretBox::Create(std::move(ring));
  EXPECT_TRUE(box.ok()) << box.status().ToString();
  return std::move(box).value();
}

WebhookRecord Hook(std::string id, std::string secret) {
  return WebhookRecord{.id = std::move(id),
                       .name = "hook",
                       .url = "https://example.com/hook",
                       .events = {"model_version.created"},
                       .secret = std::move(secret),
                       .created_at_ms = 1,
                       .updated_at_ms = 1};
}

class SealedWebhookStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-sealed-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto stores = metadata::OpenSqliteMetadataStores((dir_ / "meta.db").string());
    ASSERT_TRUE(stores.ok()) << stores.status().ToString();
    stores_ = std::move(stores).value();
  }
  void TearDown() override {
    stores_ = {};
    fs::remove_all(dir_);
  }
  metadata::WebhookStore& inner() { return *stores_.webhooks; }

  fs::path dir_;
  metadata::MetadataStores stores_;
};

TEST_F(SealedWebhookStoreTest, SecretsAreSealedAtRestAndClearOnTheWayOut) {
  SealedWebhookStore sealed(inner(), Box({Key('a', "k1")}));
  ASSERT_OK(sealed.CreateWebhook("t1", Hook("w1", "whsec-plain")));
  ASSERT_OK(sealed.CreateWebhook("t1", Hook("w2", "")));

  ASSERT_OK_AND_ASSIGN(WebhookRecord raw, inner().GetWebhook("t1", "w1"));
  EXPECT_TRUE(raw.secret.starts_with("cairn-sealed:v1:k1:")) << raw.secret;
  EXPECT_EQ(raw.secret.find("whsec"), std::string::npos);
  ASSERT_OK_AND_ASSIGN(WebhookRecord no_secret, inner().GetWebhook("t1", "w2"));
  EXPECT_EQ(no_secret.secret, "");

  ASSERT_OK_AND_ASSIGN(WebhookRecord got, sealed.GetWebhook("t1", "w1"));
  EXPECT_EQ(got.secret, "whsec-plain");
  ASSERT_OK_AND_ASSIGN(auto active,
                       sealed.ListActiveWebhooksForEvent("t1", "model_version.created"));
  ASSERT_EQ(active.size(), 2u);
  for (const WebhookRecord& w : active) EXPECT_EQ(w.secret, w.id == "w1" ? "whsec-plain" : "");
  ASSERT_OK_AND_ASSIGN(auto page, sealed.ListWebhooks("t1", 10, 0));
  ASSERT_EQ(page.items.size(), 2u);

  ASSERT_OK_AND_ASSIGN(WebhookRecord updated,
                       sealed.UpdateWebhook("t1", "w1", WebhookUpdate{.secret = "whsec-new"}));
  EXPECT_EQ(updated.secret, "whsec-new");
  ASSERT_OK_AND_ASSIGN(raw, inner().GetWebhook("t1", "w1"));
  EXPECT_EQ(raw.secret.find("whsec"), std::string::npos);
}

TEST_F(SealedWebhookStoreTest, PlaintextFromBeforeIsReadAndSealedAtTheNextUpdate) {
  ASSERT_OK(inner().CreateWebhook("t1", Hook("old", "legacy-secret")));
  SealedWebhookStore sealed(inner(), Box({Key('a', "k1")}));
  ASSERT_OK_AND_ASSIGN(WebhookRecord got, sealed.GetWebhook("t1", "old"));
  EXPECT_EQ(got.secret, "legacy-secret");
  ASSERT_OK_AND_ASSIGN(WebhookRecord renamed,
                       sealed.UpdateWebhook("t1", "old", WebhookUpdate{.name = "renamed"}));
  EXPECT_EQ(renamed.name, "renamed");
  EXPECT_EQ(renamed.secret, "legacy-secret");
  ASSERT_OK_AND_ASSIGN(WebhookRecord raw, inner().GetWebhook("t1", "old"));
  EXPECT_TRUE(artifact::SecretBox::IsSealed(raw.secret)) << raw.secret;
}

TEST_F(SealedWebhookStoreTest, ASecretThatDoesNotOpenIsNeverUsed) {
  SealedWebhookStore sealed(inner(), Box({Key('a', "k1")}));
  ASSERT_OK(sealed.CreateWebhook("t1", Hook("w1", "one")));
  ASSERT_OK(sealed.CreateWebhook("t1", Hook("w2", "two")));
  // w1's sealed secret copied onto w2's row: sealed for another record, it does not open.
  ASSERT_OK_AND_ASSIGN(WebhookRecord raw1, inner().GetWebhook("t1", "w1"));
  ASSERT_OK(inner().UpdateWebhook("t1", "w2", WebhookUpdate{.secret = raw1.secret}).status());

  EXPECT_EQ(sealed.GetWebhook("t1", "w2").status().code(), StatusCode::kInternal);
  ASSERT_OK_AND_ASSIGN(auto active,
                       sealed.ListActiveWebhooksForEvent("t1", "model_version.created"));
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].id, "w1");
  EXPECT_EQ(active[0].secret, "one");
  ASSERT_OK_AND_ASSIGN(auto page, sealed.ListWebhooks("t1", 10, 0));
  ASSERT_EQ(page.items.size(), 2u);

  // A ring without the sealing key opens nothing; one that kept it after a rotation does.
  SealedWebhookStore rotated_away(inner(), Box({Key('b', "k2")}));
  EXPECT_EQ(rotated_away.GetWebhook("t1", "w1").status().code(), StatusCode::kInternal);
  SealedWebhookStore rotated(inner(), Box({Key('b', "k2"), Key('a', "k1")}));
  ASSERT_OK_AND_ASSIGN(WebhookRecord got, rotated.GetWebhook("t1", "w1"));
  EXPECT_EQ(got.secret, "one");
}

}  // namespace
}  // namespace cairn::registry
