#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "filter/filter.h"

// Compiles search filters and order_by lists (filter::Filter, filter::OrderBy) into SQL fragments
// with bound parameters, for any SQL store. Values and keys are never spliced into SQL text: each
// becomes a placeholder whose value is collected in SqlParams in text order. The dialect decides
// the placeholder style (`?` or `$n`) and how LIKE is spelled; the schema decides which columns
// and tables the filter's identifiers map to.
namespace cairn::metadata {

// A value bound to a placeholder.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

enum class PlaceholderStyle {
  kQuestion,  // `?` (SQLite)
  kDollar,    // `$1`, `$2`, ... (PostgreSQL)
};

// Collects bound values in the order their placeholders appear in the SQL text. Callers must
// append text in the same order as they call Add (never `a + p.Add(x) + p.Add(y)`, whose
// evaluation order is unspecified).
class SqlParams {
 public:
  explicit SqlParams(PlaceholderStyle style) : style_(style) {}

  // Records `value` and returns the placeholder that refers to it.
  std::string Add(SqlValue value);

  const std::vector<SqlValue>& values() const { return values_; }
  PlaceholderStyle style() const { return style_; }

 private:
  PlaceholderStyle style_;
  std::vector<SqlValue> values_;
};

struct SqlDialect {
  // Returns a boolean SQL expression that is true when `lhs` matches the LIKE pattern held by the
  // placeholder `pattern`: case-sensitively unless `case_insensitive` (ILIKE).
  std::function<std::string(std::string_view lhs, std::string_view pattern, bool case_insensitive)>
      like;
};

enum class ValueKind { kString, kNumber };

// How one attribute key maps to SQL.
struct AttributeColumn {
  std::string expr;  // SQL expression on the searched row, e.g. "r.start_time"
  ValueKind kind = ValueKind::kString;
  bool allow_in = false;  // accepts IN / NOT IN lists
  bool sortable = true;
  // Rewrites a string value before it is bound (e.g. short status names); may be empty.
  std::function<std::string(std::string_view)> normalize;
};

// A key/value child table (params, tags, latest metrics) joined to the searched row by id.
struct ChildTable {
  std::string table;       // table name, or a parenthesised derived table with an alias
  std::string id_columns;  // child columns matching SearchSchema::id_expr, e.g. "run_uuid"
  std::string key_column = "key";
  std::string value_column = "value";
  std::string is_nan_column;  // metrics only: NaN rows have it set to 1
  // At most one row per (id, key): sort keys need no aggregate.
  bool one_row_per_key = false;
  // Appends " AND ..." conditions (e.g. the tenant) that restrict the child rows; may be empty.
  std::function<void(SqlParams&, std::string&)> scope;
};

// The mapping of one search (runs, experiments, ...) onto tables.
struct SearchSchema {
  std::string id_expr;  // the searched row's id, e.g. "r.run_uuid" or "(m.name, m.version)"
  std::map<std::string, AttributeColumn, std::less<>> attributes;
  std::optional<ChildTable> metrics;
  std::optional<ChildTable> params;
  std::optional<ChildTable> tags;
  std::optional<ChildTable> metadata;  // traces' request metadata
  // Compiles a `datasets.<key>` clause; absent when the search has no datasets.
  std::function<StatusOr<std::string>(const filter::Clause&, SqlParams&)> datasets;
  // Compiles a `span.<key>` clause (traces); absent when the search has no spans.
  std::function<StatusOr<std::string>(const filter::Clause&, SqlParams&)> spans;
  // Registered-model searches: the prompt-exclusion clause (filter::IsPromptExclusionClause)
  // also matches rows without the tag, as "not a prompt". Any other tag `!=` needs the tag.
  bool prompt_exclusion_matches_untagged = false;
  // Child clauses (metrics, params, tags, metadata) compile to `id IN (matching children)` by
  // default, which lets the database drive the search from the matching children: best when
  // they are few. When `correlate` returns true for a clause, it compiles to a correlated
  // `EXISTS (matching children of this row)` instead, which lets the database walk the searched
  // rows in ORDER BY order and stop at the page's end: best when most rows match.
  std::function<bool(const filter::Clause&)> correlate;
};

// Returns the conjunction of the compiled clauses ("" for an empty filter). INVALID_ARGUMENT for
// a key or comparator the schema does not support.
StatusOr<std::string> CompileFilter(const filter::Filter& filter, const SearchSchema& schema,
                                    const SqlDialect& dialect, SqlParams& params);

// The SELECT of the child rows (their id columns) that satisfy a metric, param, tag or metadata
// clause (for IS NULL / IS NOT NULL: that have the key), e.g. to count them before choosing how
// to compile the clause. INVALID_ARGUMENT for other clauses.
StatusOr<std::string> CompileChildMatches(const filter::Clause& clause, const SearchSchema& schema,
                                          const SqlDialect& dialect, SqlParams& params);

// Returns comma-separated ORDER BY terms ("" for none). NULLs, and NaN metrics, sort last in both
// directions.
StatusOr<std::string> CompileOrderBy(const std::vector<filter::OrderBy>& order_by,
                                     const SearchSchema& schema, SqlParams& params);

// True when `order_by` sorts by the attribute `attribute`.
bool OrdersBy(const std::vector<filter::OrderBy>& order_by, std::string_view attribute);

// A term every search order ends with, so pages are stable, unless the query already orders by
// `attribute`.
struct TieBreaker {
  std::string_view attribute;
  std::string_view sql;  // e.g. "rm.name ASC"
};

// Completes a search statement the way every Search* method does: appends " AND <filter>" when
// the filter has clauses, then " ORDER BY " with the query's order followed by each tie-breaker
// it does not already name, or `default_order` (which ends with its own tie-breakers) when the
// query names no order. `sql` holds the SELECT with its scope conditions.
Status AppendFilterAndOrder(std::string& sql, const filter::Filter& filter,
                            const std::vector<filter::OrderBy>& order_by,
                            const SearchSchema& schema, const SqlDialect& dialect,
                            SqlParams& params, std::string_view default_order,
                            std::initializer_list<TieBreaker> tie_breakers);

// Compiles `lhs <op> value` for one clause whose left side is the SQL expression `lhs` of kind
// `kind`. Exposed for schema callbacks (datasets) that need the same comparisons.
StatusOr<std::string> CompileComparison(
    std::string_view lhs, ValueKind kind, const filter::Clause& clause, const SqlDialect& dialect,
    SqlParams& params, const std::function<std::string(std::string_view)>& normalize = nullptr);

// "expr ASC NULLS LAST" / "expr DESC NULLS LAST".
std::string OrderTerm(std::string_view expr, bool ascending);

// A subquery giving the metric value (NULL for NaN) of `key` for the searched row; the value to
// sort by. Several rows per id (e.g. one per dataset) sort by their largest value.
std::string MetricSortExpr(const ChildTable& metrics, std::string_view id_expr,
                           std::string_view key, SqlParams& params);

}  // namespace cairn::metadata
