#pragma once

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "filter/filter.h"
#include "metadata/sql_filter.h"
#include "metadata/types.h"
#include "sql/sql.h"

// Search plumbing shared by the SQL stores' translation units (tracking and registry):
// tenant scoping of child tables and paged execution of a compiled search. Internal to
// cairn_metadata_sql.
namespace cairn::metadata::sql_store {

using ::cairn::sql::Connection;
using ::cairn::sql::JsonArray;
using ::cairn::sql::Statement;

// The dialect the shared SQL compiler (sql_filter.h) writes for an engine: LIKE with the search
// grammar's rules (case-sensitive unless ILIKE, which folds ASCII letters only; no escape
// character). SQLite's own LIKE folds case, hence the cairn_like function there; PostgreSQL's
// LIKE does what the grammar wants once escaping is off and the comparison is byte-wise.
inline SqlDialect MakeSearchDialect(sql::Dialect engine) {
  SqlDialect dialect;
  if (engine == sql::Dialect::kSqlite) {
    dialect.like = [](std::string_view lhs, std::string_view pattern, bool case_insensitive) {
      std::string sql = "cairn_like(";
      sql += lhs;
      sql += ", ";
      sql += pattern;
      sql += case_insensitive ? ", 1)" : ", 0)";
      return sql;
    };
  } else {
    dialect.like = [](std::string_view lhs, std::string_view pattern, bool case_insensitive) {
      std::string sql = "(";
      sql += lhs;
      sql += case_insensitive ? " COLLATE \"C\" ILIKE " : " COLLATE \"C\" LIKE ";
      sql += pattern;
      sql += " ESCAPE '')";
      return sql;
    };
  }
  return dialect;
}

// Appends " AND <column> = ?" bound to `tenant`.
inline std::function<void(SqlParams&, std::string&)> TenantScope(std::string tenant,
                                                                 std::string column = "tenant_id") {
  return [tenant = std::move(tenant), column = std::move(column)](SqlParams& params,
                                                                  std::string& sql) {
    sql += " AND ";
    sql += column;
    sql += " = ";
    sql += params.Add(tenant);
  };
}

// A child table whose primary key is (id, key); `id_columns` may name several columns
// ("name, version") when the searched row's id is a row value.
inline ChildTable KeyValueTable(std::string table, std::string id_columns,
                                std::string_view tenant) {
  ChildTable child;
  child.table = std::move(table);
  child.id_columns = std::move(id_columns);
  child.one_row_per_key = true;
  child.scope = TenantScope(std::string(tenant));
  return child;
}

// Runs a compiled search and collects rows with `read`. Fetches one row more than asked for to
// tell whether another page exists.
template <typename T, typename ReadFn>
StatusOr<ResultPage<T>> RunPagedQuery(Connection& db, std::string sql, SqlParams& params,
                                      const Page& page, ReadFn read) {
  int64_t limit = std::max<int64_t>(page.max_results, 0);
  sql += " LIMIT ";
  sql += params.Add(limit + 1);
  sql += " OFFSET ";
  sql += params.Add(std::max<int64_t>(page.offset, 0));
  ASSIGN_OR_RETURN(Statement s, db.Prepare(sql));
  s.BindAll(params.values());
  ResultPage<T> result;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    if (static_cast<int64_t>(result.items.size()) == limit) {
      result.has_more = true;
      break;
    }
    result.items.push_back(read(s));
  }
  return result;
}

// Attaches child rows (tags, params, aliases, ...) to entities loaded in bulk, one query per
// child table. Each query takes the tenant (when given) and then the entities' ids as a JSON array,
// and returns the owning entity's id as its first column.
template <typename T>
class ChildRows {
 public:
  template <typename IdFn>
  ChildRows(Connection& db, std::vector<T>& items, IdFn id,
            std::optional<std::string_view> tenant = std::nullopt)
      : db_(db), items_(items), tenant_(tenant) {
    ids_.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      ids_.push_back(id(items[i]));
      index_.emplace(ids_.back(), i);
    }
    json_ = JsonArray(ids_);
  }

  const std::vector<std::string>& ids() const { return ids_; }

  // The entity with `id`, or null.
  T* Find(std::string_view id) {
    auto it = index_.find(std::string(id));
    return it == index_.end() ? nullptr : &items_[it->second];
  }

  // Runs `sql` and calls fn(entity, row) for each row whose owner is among the entities.
  template <typename Fn>
  Status Attach(std::string_view sql, Fn&& fn) {
    ASSIGN_OR_RETURN(Statement s, db_.Prepare(sql));
    if (tenant_) {
      s.Bind(*tenant_, json_);
    } else {
      s.Bind(json_);
    }
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return Status::Ok();
      if (T* item = Find(s.TextView(0))) fn(*item, s);
    }
  }

 private:
  Connection& db_;
  std::vector<T>& items_;
  std::optional<std::string_view> tenant_;
  std::vector<std::string> ids_;
  std::unordered_map<std::string, size_t> index_;
  std::string json_;
};

}  // namespace cairn::metadata::sql_store
