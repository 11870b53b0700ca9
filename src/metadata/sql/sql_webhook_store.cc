#include "metadata/sql/sql_webhook_store.h"

#include <algorithm>
#include <string>
#include <utility>

namespace cairn::metadata {
namespace {

using sql::Connection;
using sql::Statement;

constexpr std::string_view kColumns =
    "webhook_id, name, description, url, status, secret, created_at, updated_at";

WebhookRecord ReadRecord(const Statement& s) {
  WebhookRecord r;
  r.id = s.Text(0);
  r.name = s.Text(1);
  r.description = s.Text(2);
  r.url = s.Text(3);
  r.status = s.Text(4);
  r.secret = s.Text(5);
  r.created_at_ms = s.Int(6);
  r.updated_at_ms = s.Int(7);
  return r;
}

Status NoSuchWebhook(std::string_view id) {
  return NotFound("Webhook with ID " + std::string(id) + " not found.");
}

Status InsertEvents(Connection& db, std::string_view tenant, std::string_view id,
                    const std::vector<std::string>& events) {
  ASSIGN_OR_RETURN(Statement s,
                   db.Prepare("INSERT INTO webhook_events (webhook_id, "
                              "tenant_id, event) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"));
  for (const std::string& event : events) {
    RETURN_IF_ERROR(s.Bind(id, tenant, event).Run());
    s.Reset();
  }
  return Status::Ok();
}

// Fills each record's events, sorted.
Status ReadEvents(Connection& db, std::vector<WebhookRecord>& records) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT event FROM webhook_events WHERE webhook_id = "
                                           "? ORDER BY event"));
  for (WebhookRecord& r : records) {
    s.Bind(r.id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      r.events.push_back(s.Text(0));
    }
    s.Reset();
  }
  return Status::Ok();
}

StatusOr<WebhookRecord> ReadOne(Connection& db, std::string_view tenant, std::string_view id) {
  ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kColumns) +
                                           " FROM webhooks WHERE tenant_id = ? AND "
                                           "webhook_id = ?"));
  ASSIGN_OR_RETURN(bool row, s.Bind(tenant, id).Step());
  if (!row) return NoSuchWebhook(id);
  std::vector<WebhookRecord> one{ReadRecord(s)};
  RETURN_IF_ERROR(ReadEvents(db, one));
  return std::move(one.front());
}

StatusOr<std::vector<WebhookRecord>> ReadAll(Connection& db, Statement& s) {
  std::vector<WebhookRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadRecord(s));
  }
  RETURN_IF_ERROR(ReadEvents(db, out));
  return out;
}

}  // namespace

Status SqlWebhookStore::CreateWebhook(std::string_view tenant, const WebhookRecord& r) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement taken, db.Prepare("SELECT 1 FROM webhooks WHERE webhook_id = ?"));
    ASSIGN_OR_RETURN(bool exists, taken.Bind(r.id).Step());
    if (exists) return AlreadyExists("Webhook with ID " + r.id + " already exists.");
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("INSERT INTO webhooks (tenant_id, " + std::string(kColumns) +
                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    RETURN_IF_ERROR(s.Bind(tenant, r.id, r.name, r.description, r.url, r.status, r.secret,
                           r.created_at_ms, r.updated_at_ms)
                        .Run());
    return InsertEvents(db, tenant, r.id, r.events);
  });
}

StatusOr<WebhookRecord> SqlWebhookStore::GetWebhook(std::string_view tenant, std::string_view id) {
  return db_->ReadValue(
      [&](Connection& db) -> StatusOr<WebhookRecord> { return ReadOne(db, tenant, id); });
}

StatusOr<ResultPage<WebhookRecord>> SqlWebhookStore::ListWebhooks(std::string_view tenant,
                                                                  int64_t max_results,
                                                                  int64_t offset) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<ResultPage<WebhookRecord>> {
    ASSIGN_OR_RETURN(Statement s, db.Prepare("SELECT " + std::string(kColumns) +
                                             " FROM webhooks WHERE tenant_id = ? ORDER BY "
                                             "created_at DESC, webhook_id LIMIT ? OFFSET ?"));
    s.Bind(tenant, max_results + 1, offset);
    ResultPage<WebhookRecord> page;
    ASSIGN_OR_RETURN(page.items, ReadAll(db, s));
    if (static_cast<int64_t>(page.items.size()) > max_results) {
      page.items.resize(static_cast<size_t>(max_results));
      page.has_more = true;
    }
    return page;
  });
}

StatusOr<std::vector<WebhookRecord>> SqlWebhookStore::ListActiveWebhooksForEvent(
    std::string_view tenant, std::string_view event) {
  return db_->ReadValue([&](Connection& db) -> StatusOr<std::vector<WebhookRecord>> {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("SELECT w.webhook_id, w.name, w.description, w.url, w.status, "
                                "w.secret, w.created_at, w.updated_at FROM webhook_events e "
                                "JOIN webhooks w ON w.webhook_id = e.webhook_id WHERE "
                                "e.tenant_id = ? AND e.event = ? AND w.status = 'ACTIVE' "
                                "ORDER BY w.created_at DESC, w.webhook_id"));
    s.Bind(tenant, event);
    return ReadAll(db, s);
  });
}

StatusOr<WebhookRecord> SqlWebhookStore::UpdateWebhook(std::string_view tenant, std::string_view id,
                                                       const WebhookUpdate& u) {
  StatusOr<WebhookRecord> result = NoSuchWebhook(id);
  RETURN_IF_ERROR(db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(WebhookRecord r, ReadOne(db, tenant, id));
    if (u.name) r.name = *u.name;
    if (u.description) r.description = *u.description;
    if (u.url) r.url = *u.url;
    if (u.status) r.status = *u.status;
    if (u.secret) r.secret = *u.secret;
    r.updated_at_ms = u.updated_at_ms;
    ASSIGN_OR_RETURN(Statement s, db.Prepare("UPDATE webhooks SET name = ?, description = ?, "
                                             "url = ?, status = ?, secret = ?, updated_at = ? "
                                             "WHERE tenant_id = ? AND webhook_id = ?"));
    RETURN_IF_ERROR(
        s.Bind(r.name, r.description, r.url, r.status, r.secret, r.updated_at_ms, tenant, id)
            .Run());
    if (u.events) {
      ASSIGN_OR_RETURN(Statement del,
                       db.Prepare("DELETE FROM webhook_events WHERE webhook_id = ?"));
      RETURN_IF_ERROR(del.Bind(id).Run());
      RETURN_IF_ERROR(InsertEvents(db, tenant, id, *u.events));
      r.events = *u.events;
      std::sort(r.events.begin(), r.events.end());
      r.events.erase(std::unique(r.events.begin(), r.events.end()), r.events.end());
    }
    result = std::move(r);
    return Status::Ok();
  }));
  return result;
}

Status SqlWebhookStore::DeleteWebhook(std::string_view tenant, std::string_view id) {
  return db_->Write([&](Connection& db) -> Status {
    ASSIGN_OR_RETURN(Statement s,
                     db.Prepare("DELETE FROM webhooks WHERE tenant_id = ? AND webhook_id = ?"));
    RETURN_IF_ERROR(s.Bind(tenant, id).Run());
    return db.Changes() == 0 ? NoSuchWebhook(id) : Status::Ok();
  });
}

}  // namespace cairn::metadata
