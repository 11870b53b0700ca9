#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"

namespace cairn::filter {

// Which search a filter or order_by belongs to; decides the allowed keys and comparators
// (the per-entity table in MLflow's search grammar).
enum class SearchKind {
  kRuns,
  kExperiments,
  kRegisteredModels,
  kModelVersions,
  kLoggedModels,
  kTraces,
  kEvaluationDatasets,  // MLflow 3 GenAI evaluation datasets
};

// kMetadata: a trace's request metadata (`metadata.<key>`, `request_metadata.<key>`).
// kSpan: a trace's spans (`span.name`, `span.type`, `span.status`, `span.content`,
// `span.attributes.<name>`; `trace.text` is `span.content`): a clause holds when one span of the
// trace matches it.
enum class Entity { kAttribute, kMetric, kParam, kTag, kDataset, kMetadata, kSpan };

enum class Comparator {
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kLike,
  kILike,
  kIn,
  kNotIn,
  kIsNull,
  kIsNotNull,
};

std::string_view ComparatorSql(Comparator c);
// "attribute", "metric", "param", "tag" or "dataset", for messages.
std::string_view EntityName(Entity entity);  // "=", "!=", "LIKE", ... for messages

// The right-hand side: none (IS NULL), a number, a string, or a list of strings (IN).
using Value = std::variant<std::monostate, double, std::string, std::vector<std::string>>;

// One `identifier comparator value` clause.
// Attribute keys are canonical: runs use run_id, run_name, status, user_id, artifact_uri,
// start_time, end_time; experiments use name, creation_time, last_update_time; registered models
// use name, creation_timestamp, last_updated_timestamp; model versions use name, run_id,
// source_path, version_number, ...; logged models use name, model_id, model_type, status,
// source_run_id, creation_timestamp, last_updated_timestamp; traces use request_id,
// timestamp_ms, execution_time_ms, end_time_ms, status, client_request_id, experiment_id (order
// only); evaluation datasets use name, created_time, last_update_time, created_by,
// last_updated_by. Dataset keys are name, digest, context. The trace attributes that MLflow keeps
// elsewhere are parsed as what they are: `name` is the tag mlflow.traceName, `prompt` the tag
// mlflow.linkedPrompts and `run_id` the metadata mlflow.sourceRun. Aliases (created, `run name`,
// run_uuid, creation_time for logged models, ...) are mapped to these by the parser. The value's
// shape follows the comparator: a double for numeric keys (metrics, timestamps, version_number), a
// std::string for the other comparisons, a non-empty vector for IN / NOT IN, and std::monostate for
// IS NULL / IS NOT NULL. Values are data only: bind them, never splice.
struct Clause {
  Entity entity = Entity::kAttribute;
  std::string key;
  Comparator op = Comparator::kEq;
  Value value;
};

// A conjunction of clauses (MLflow filters have no OR, NOT or grouping).
struct Filter {
  std::vector<Clause> clauses;
  bool empty() const { return clauses.empty(); }
};

struct OrderBy {
  Entity entity = Entity::kAttribute;
  std::string key;  // canonical, as in Clause
  bool ascending = true;
};

// Parses a filter string. An empty or all-blank string gives an empty Filter. Errors are
// INVALID_ARGUMENT with a message naming the offending token, as MLflow's are.
StatusOr<Filter> ParseFilter(std::string_view text, SearchKind kind);

// Parses one order_by entry: `<identifier> [ASC|DESC]`.
StatusOr<OrderBy> ParseOrderBy(std::string_view text, SearchKind kind);

// Limits on what ParseFilter accepts; anything larger is INVALID_ARGUMENT. They bound the work and
// the number of bound SQL parameters a single filter can cause.
inline constexpr std::size_t kMaxFilterLength = std::size_t{256} * 1024;  // bytes of filter text
inline constexpr std::size_t kMaxClauses = 100;                           // clauses joined by AND
inline constexpr std::size_t kMaxInListValues = 10000;  // strings in one IN (...) list
inline constexpr std::size_t kMaxOrderByLength = 1024;  // bytes of one order_by entry

// True for the attribute keys (canonical, as in Clause) whose values are numbers in `kind`:
// timestamps and version_number. Ids and names are strings, even when they look numeric.
bool IsNumericAttribute(SearchKind kind, std::string_view canonical_key);

// True when `clause` is the prompt-exclusion clause the registry client appends to every
// registered-model search (tag `mlflow.prompt.is_prompt` != 'true'). Stores must let it match
// models that lack the tag; a plain tag `!=` needs the tag to be present.
bool IsPromptExclusionClause(const Clause& clause);

// SQL LIKE matching for stores that cannot delegate to their database: `%` matches any run of
// characters (including none), `_` exactly one UTF-8 character; there is no escape character.
// `case_insensitive` folds ASCII letters only, as SQLite does. Runs in O(value * pattern) time
// whatever the pattern, so hostile patterns cannot cause exponential backtracking.
bool LikeMatch(std::string_view value, std::string_view pattern, bool case_insensitive);

}  // namespace cairn::filter
