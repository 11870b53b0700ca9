#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "filter/filter.h"
#include "metadata/sql_filter.h"
#include "metadata/types.h"
#include "sqlite/connection.h"

// Search plumbing shared by the SQLite store's translation units (tracking and registry):
// tenant scoping of child tables and paged execution of a compiled search. Internal to
// cairn_metadata_sqlite.
namespace cairn::metadata::sqlite_store {

using ::cairn::sqlite::Connection;
using ::cairn::sqlite::Statement;

// The dialect the shared SQL compiler (sql_filter.h) writes for SQLite: LIKE through
// cairn_like, the search grammar's case rules.
inline SqlDialect MakeSqliteDialect() {
  SqlDialect dialect;
  dialect.like = [](std::string_view lhs, std::string_view pattern, bool case_insensitive) {
    std::string sql = "cairn_like(";
    sql += lhs;
    sql += ", ";
    sql += pattern;
    sql += case_insensitive ? ", 1)" : ", 0)";
    return sql;
  };
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

}  // namespace cairn::metadata::sqlite_store
