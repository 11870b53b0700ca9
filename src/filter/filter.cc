#include "filter/filter.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "filter/lexer.h"
#include "filter/mlflow_messages.h"

namespace cairn::filter {
namespace {

// ---------------------------------------------------------------------------------------------
// Per-kind key and comparator rules (MLflow's search grammar, per entity).

using OpSet = std::uint32_t;

constexpr OpSet Op(Comparator c) { return OpSet{1} << static_cast<unsigned>(c); }

constexpr OpSet kNumericOps = Op(Comparator::kEq) | Op(Comparator::kNe) | Op(Comparator::kLt) |
                              Op(Comparator::kLe) | Op(Comparator::kGt) | Op(Comparator::kGe);
constexpr OpSet kStringOps =
    Op(Comparator::kEq) | Op(Comparator::kNe) | Op(Comparator::kLike) | Op(Comparator::kILike);
constexpr OpSet kListOps = Op(Comparator::kIn) | Op(Comparator::kNotIn);
constexpr OpSet kNullOps = Op(Comparator::kIsNull) | Op(Comparator::kIsNotNull);

constexpr std::array<Comparator, 12> kAllComparators = {
    Comparator::kEq, Comparator::kNe,    Comparator::kLt,     Comparator::kLe,
    Comparator::kGt, Comparator::kGe,    Comparator::kLike,   Comparator::kILike,
    Comparator::kIn, Comparator::kNotIn, Comparator::kIsNull, Comparator::kIsNotNull,
};

// One attribute spelling accepted for a search kind. Aliases share their canonical name.
struct AttributeRule {
  std::string_view name;       // as written in the filter
  std::string_view canonical;  // as stored in Clause::key / OrderBy::key
  bool numeric;
  OpSet filter_ops;  // 0: known but not filterable
  bool orderable;
};

constexpr AttributeRule kRunAttributes[] = {
    {"run_id", "run_id", false, kStringOps | kListOps, true},
    {"run_uuid", "run_id", false, kStringOps | kListOps, true},
    {"run_name", "run_name", false, kStringOps, true},
    {"run name", "run_name", false, kStringOps, true},
    {"Run name", "run_name", false, kStringOps, true},
    {"Run Name", "run_name", false, kStringOps, true},
    {"status", "status", false, kStringOps, true},
    {"user_id", "user_id", false, kStringOps, true},
    {"artifact_uri", "artifact_uri", false, kStringOps, true},
    {"start_time", "start_time", true, kNumericOps, true},
    {"created", "start_time", true, kNumericOps, true},
    {"Created", "start_time", true, kNumericOps, true},
    {"end_time", "end_time", true, kNumericOps, true},
    {"experiment_id", "experiment_id", false, 0, false},
    {"lifecycle_stage", "lifecycle_stage", false, 0, false},
};

constexpr AttributeRule kExperimentAttributes[] = {
    {"name", "name", false, kStringOps, true},
    {"creation_time", "creation_time", true, kNumericOps, true},
    {"last_update_time", "last_update_time", true, kNumericOps, true},
    {"experiment_id", "experiment_id", false, 0, true},
};

constexpr AttributeRule kRegisteredModelAttributes[] = {
    {"name", "name", false, kStringOps, true},
    {"creation_timestamp", "creation_timestamp", true, 0, true},
    {"last_updated_timestamp", "last_updated_timestamp", true, 0, true},
    {"timestamp", "last_updated_timestamp", true, 0, true},
};

constexpr AttributeRule kModelVersionAttributes[] = {
    {"name", "name", false, kStringOps, true},
    {"run_id", "run_id", false, Op(Comparator::kEq) | Op(Comparator::kNe) | Op(Comparator::kIn),
     false},
    {"source_path", "source_path", false, kStringOps, false},
    {"version_number", "version_number", true, kNumericOps, true},
    {"creation_timestamp", "creation_timestamp", true, 0, true},
    {"last_updated_timestamp", "last_updated_timestamp", true, 0, true},
};

constexpr AttributeRule kLoggedModelAttributes[] = {
    {"name", "name", false, kStringOps | kListOps, true},
    {"model_id", "model_id", false, kStringOps | kListOps, true},
    {"model_type", "model_type", false, kStringOps | kListOps, true},
    {"status", "status", false, kStringOps | kListOps, true},
    {"source_run_id", "source_run_id", false, kStringOps | kListOps, true},
    {"creation_timestamp", "creation_timestamp", true, kNumericOps, true},
    {"creation_time", "creation_timestamp", true, kNumericOps, true},
    {"last_updated_timestamp", "last_updated_timestamp", true, kNumericOps, true},
    {"last_updated_time", "last_updated_timestamp", true, kNumericOps, true},
};

constexpr AttributeRule kTraceAttributes[] = {
    {"request_id", "request_id", false, kStringOps | kListOps, true},
    {"timestamp_ms", "timestamp_ms", true, kNumericOps, true},
    {"timestamp", "timestamp_ms", true, kNumericOps, true},
    {"execution_time_ms", "execution_time_ms", true, kNumericOps, true},
    {"execution_time", "execution_time_ms", true, kNumericOps, true},
    {"end_time_ms", "end_time_ms", true, kNumericOps, true},
    {"end_time", "end_time_ms", true, kNumericOps, true},
    {"status", "status", false, kStringOps | kListOps, true},
    {"client_request_id", "client_request_id", false, kStringOps | kListOps, false},
    // Kept as a tag or metadata entry; see TraceRemaps.
    {"name", "name", false, kStringOps | kNullOps, true},
    {"run_id", "run_id", false, kStringOps | kNullOps, true},
    {"prompt", "prompt", false, kStringOps | kNullOps, false},
    {"text", "text", false, Op(Comparator::kLike) | Op(Comparator::kILike), false},
    {"experiment_id", "experiment_id", false, 0, true},
};

// Trace attributes that MLflow stores as a tag or a metadata entry: a clause or order on them is
// one on that entry.
struct TraceRemap {
  std::string_view attribute;
  Entity entity;
  std::string_view key;
};
constexpr TraceRemap kTraceRemaps[] = {
    {"name", Entity::kTag, "mlflow.traceName"},
    {"prompt", Entity::kTag, "mlflow.linkedPrompts"},
    {"run_id", Entity::kMetadata, "mlflow.sourceRun"},
    {"text", Entity::kSpan, "content"},
};

// MLflow compares the dataset's string attributes with <, <=, > and >= too.
constexpr AttributeRule kEvaluationDatasetAttributes[] = {
    {"name", "name", false, kStringOps | kNumericOps | Op(Comparator::kIn), true},
    {"created_time", "created_time", true, kNumericOps, true},
    {"last_update_time", "last_update_time", true, kNumericOps, true},
    {"created_by", "created_by", false, kStringOps | kNumericOps, false},
    {"last_updated_by", "last_updated_by", false, kStringOps | kNumericOps, false},
};

constexpr AttributeRule kDatasetKeys[] = {
    {"name", "name", false, kStringOps | kListOps, false},
    {"digest", "digest", false, kStringOps | kListOps, false},
    {"context", "context", false, kStringOps | kListOps, false},
};

std::span<const AttributeRule> AttributesOf(SearchKind kind) {
  switch (kind) {
    case SearchKind::kRuns:
      return kRunAttributes;
    case SearchKind::kExperiments:
      return kExperimentAttributes;
    case SearchKind::kRegisteredModels:
      return kRegisteredModelAttributes;
    case SearchKind::kModelVersions:
      return kModelVersionAttributes;
    case SearchKind::kLoggedModels:
      return kLoggedModelAttributes;
    case SearchKind::kTraces:
      return kTraceAttributes;
    case SearchKind::kEvaluationDatasets:
      return kEvaluationDatasetAttributes;
  }
  return {};
}

// Rules for metrics, params and tags (any key) in one search kind.
struct EntityRule {
  bool allowed = false;
  bool numeric = false;
  OpSet filter_ops = 0;
  bool orderable = false;
};

EntityRule RuleFor(SearchKind kind, Entity entity) {
  switch (kind) {
    case SearchKind::kRuns:
      switch (entity) {
        case Entity::kMetric:
          return {true, true, kNumericOps, true};
        case Entity::kParam:
        case Entity::kTag:
          return {true, false, kStringOps | kNullOps, true};
        case Entity::kDataset:
        case Entity::kAttribute:
          return {true, false, 0, false};  // per-key rules
        case Entity::kMetadata:
        case Entity::kSpan:
          break;
      }
      break;
    case SearchKind::kExperiments:
      if (entity == Entity::kTag) return {true, false, kStringOps | kNullOps, false};
      if (entity == Entity::kAttribute) return {true, false, 0, false};
      break;
    case SearchKind::kRegisteredModels:
    case SearchKind::kModelVersions:
      if (entity == Entity::kTag) return {true, false, kStringOps, false};
      if (entity == Entity::kAttribute) return {true, false, 0, false};
      break;
    case SearchKind::kLoggedModels:
      switch (entity) {
        case Entity::kMetric:
          return {true, true, kNumericOps, true};
        case Entity::kParam:
        case Entity::kTag:
          return {true, false, kStringOps, false};
        case Entity::kAttribute:
          return {true, false, 0, false};
        case Entity::kDataset:
        case Entity::kMetadata:
        case Entity::kSpan:
          break;
      }
      break;
    case SearchKind::kTraces:
      if (entity == Entity::kTag || entity == Entity::kMetadata) {
        return {true, false, kStringOps | kNullOps, true};
      }
      if (entity == Entity::kAttribute) return {true, false, 0, false};
      if (entity == Entity::kSpan) return {true, false, 0, false};  // per-key rules
      break;
    case SearchKind::kEvaluationDatasets:
      if (entity == Entity::kTag) return {true, false, kStringOps, false};
      if (entity == Entity::kAttribute) return {true, false, 0, false};
      break;
  }
  return {};
}

std::string_view KindName(SearchKind kind) {
  switch (kind) {
    case SearchKind::kRuns:
      return "runs";
    case SearchKind::kExperiments:
      return "experiments";
    case SearchKind::kRegisteredModels:
      return "registered models";
    case SearchKind::kModelVersions:
      return "model versions";
    case SearchKind::kLoggedModels:
      return "logged models";
    case SearchKind::kTraces:
      return "traces";
    case SearchKind::kEvaluationDatasets:
      return "evaluation datasets";
  }
  return "?";
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

std::optional<Entity> EntityFromPrefix(std::string_view prefix) {
  struct Synonym {
    std::string_view name;
    Entity entity;
  };
  static constexpr Synonym kSynonyms[] = {
      {"metric", Entity::kMetric},
      {"metrics", Entity::kMetric},
      {"parameter", Entity::kParam},
      {"parameters", Entity::kParam},
      {"param", Entity::kParam},
      {"params", Entity::kParam},
      {"tag", Entity::kTag},
      {"tags", Entity::kTag},
      {"attribute", Entity::kAttribute},
      {"attributes", Entity::kAttribute},
      {"attr", Entity::kAttribute},
      {"run", Entity::kAttribute},
      {"dataset", Entity::kDataset},
      {"datasets", Entity::kDataset},
      {"trace", Entity::kAttribute},
      {"metadata", Entity::kMetadata},
      {"request_metadata", Entity::kMetadata},
      {"span", Entity::kSpan},
  };
  for (const Synonym& s : kSynonyms) {
    if (EqualsIgnoreCase(prefix, s.name)) return s.entity;
  }
  return std::nullopt;
}

// Experiment and registry searches accept only the `attribute`, `tag` and `tags` spellings.
bool UsesShortPrefixList(SearchKind kind) {
  return kind == SearchKind::kExperiments || kind == SearchKind::kRegisteredModels ||
         kind == SearchKind::kModelVersions;
}

constexpr std::string_view kTracePrefixes[] = {
    "attribute", "attributes", "trace", "tag", "tags", "metadata", "request_metadata", "span"};

bool PrefixSpellingAllowed(SearchKind kind, std::string_view prefix) {
  if (kind == SearchKind::kTraces) {
    return std::any_of(std::begin(kTracePrefixes), std::end(kTracePrefixes),
                       [&](std::string_view p) { return EqualsIgnoreCase(prefix, p); });
  }
  // MLflow's dataset search knows only the exact prefix "tags".
  if (kind == SearchKind::kEvaluationDatasets) return prefix == "tags";
  if (EqualsIgnoreCase(prefix, "trace")) return false;
  if (!UsesShortPrefixList(kind)) return true;
  return EqualsIgnoreCase(prefix, "attribute") || EqualsIgnoreCase(prefix, "tag") ||
         EqualsIgnoreCase(prefix, "tags");
}

std::string ValidPrefixes(SearchKind kind) {
  if (UsesShortPrefixList(kind)) return "attribute, tag, tags";
  if (kind == SearchKind::kEvaluationDatasets) return "tags";
  if (kind == SearchKind::kTraces) {
    return "attribute(s), trace, tag(s), metadata, request_metadata, span, feedback, expectation "
           "(issue filters are not supported by this server)";
  }
  std::string out;
  for (Entity e :
       {Entity::kAttribute, Entity::kMetric, Entity::kParam, Entity::kTag, Entity::kDataset}) {
    if (!RuleFor(kind, e).allowed) continue;
    if (!out.empty()) out += ", ";
    switch (e) {
      case Entity::kAttribute:
        out += "attribute(s), attr, run";
        break;
      case Entity::kMetric:
        out += "metric(s)";
        break;
      case Entity::kParam:
        out += "param(s), parameter(s)";
        break;
      case Entity::kTag:
        out += "tag(s)";
        break;
      case Entity::kDataset:
        out += "dataset(s)";
        break;
      case Entity::kMetadata:
        out += "metadata";
        break;
      case Entity::kSpan:
        out += "span";
        break;
    }
  }
  return out;
}

std::vector<std::string> OpNames(OpSet ops) {
  std::vector<std::string> out;
  for (Comparator c : kAllComparators) {
    if ((ops & Op(c)) != 0) out.emplace_back(ComparatorSql(c));
  }
  return out;
}

// A value token as it was written, quotes included, as MLflow quotes it in messages.
std::string WrittenValue(const Token& t) {
  if (t.kind == TokenKind::kSingleQuoted) return "'" + Excerpt(t.text) + "'";
  if (t.kind == TokenKind::kDoubleQuoted) return "\"" + Excerpt(t.text) + "\"";
  return Excerpt(t.text);
}

std::string OpList(OpSet ops) {
  std::string out;
  for (Comparator c : kAllComparators) {
    if ((ops & Op(c)) == 0) continue;
    if (!out.empty()) out += ", ";
    out += ComparatorSql(c);
  }
  return out;
}

// The identifier on the left of a clause or in an order_by entry, before validation.
struct RawIdentifier {
  Entity entity = Entity::kAttribute;
  std::string key;
  std::string written;  // for messages
};

// What a validated identifier allows.
struct ResolvedKey {
  Entity entity;
  std::string key;  // canonical
  bool numeric;
  OpSet filter_ops;
  bool orderable;
};

// Accepts the identifier forms: bare `key`, `prefix.key` (split at the first dot, so
// `tags.mlflow.user` is the tag "mlflow.user"), `prefix.`quoted``, and a lone `quoted` key.
StatusOr<RawIdentifier> ToIdentifier(const Token& token, SearchKind kind) {
  RawIdentifier id;
  std::string prefix;
  bool has_prefix = false;
  switch (token.kind) {
    case TokenKind::kWord: {
      id.written = token.text;
      const std::size_t dot = token.text.find('.');
      if (dot == std::string::npos) {
        id.key = token.text;
      } else {
        has_prefix = true;
        prefix = token.text.substr(0, dot);
        id.key = token.text.substr(dot + 1);
      }
      break;
    }
    case TokenKind::kQualified:
      has_prefix = true;
      prefix = token.prefix;
      id.key = token.text;
      id.written = token.prefix + ".`" + token.text + "`";
      break;
    case TokenKind::kBacktick:
    case TokenKind::kDoubleQuoted:
      id.key = token.text;
      id.written = "`" + token.text + "`";
      break;
    default:
      return InvalidArgument(fmt::format("Expected an identifier at position {}, got '{}'",
                                         token.pos, Excerpt(token.text)));
  }
  if (has_prefix) {
    const std::optional<Entity> entity = EntityFromPrefix(prefix);
    if (!entity || !RuleFor(kind, *entity).allowed || !PrefixSpellingAllowed(kind, prefix)) {
      std::string message = mlflow_messages::InvalidEntityType(kind, Excerpt(prefix));
      if (!message.empty()) return InvalidArgument(std::move(message));
      return InvalidArgument(
          fmt::format("Invalid entity type '{}' in {} search. Valid values are: {}",
                      Excerpt(prefix), KindName(kind), ValidPrefixes(kind)));
    }
    id.entity = *entity;
  }
  if (id.key.empty()) {
    return InvalidArgument(fmt::format("Missing key in identifier '{}' at position {}",
                                       Excerpt(id.written), token.pos));
  }
  return id;
}

std::string ValidAttributeKeys(std::span<const AttributeRule> rules, bool for_order_by) {
  std::string out;
  for (const AttributeRule& r : rules) {
    if (for_order_by ? !r.orderable : r.filter_ops == 0) continue;
    if (!out.empty()) out += ", ";
    out += r.name;
  }
  return out;
}

StatusOr<ResolvedKey> Resolve(const RawIdentifier& id, SearchKind kind, bool for_order_by) {
  if (for_order_by && id.entity != Entity::kAttribute && !RuleFor(kind, id.entity).orderable) {
    return InvalidArgument(fmt::format("Invalid order_by key '{}': {} search cannot order by {}s",
                                       Excerpt(id.written), KindName(kind), EntityName(id.entity)));
  }
  if (id.entity == Entity::kAttribute || id.entity == Entity::kDataset) {
    const std::span<const AttributeRule> rules = id.entity == Entity::kDataset
                                                     ? std::span<const AttributeRule>(kDatasetKeys)
                                                     : AttributesOf(kind);
    const std::string_view what = id.entity == Entity::kDataset ? "dataset" : "attribute";
    for (const AttributeRule& r : rules) {
      if (r.name != id.key) continue;
      if (for_order_by ? !r.orderable : r.filter_ops == 0) break;
      if (kind == SearchKind::kTraces && id.entity == Entity::kAttribute) {
        for (const TraceRemap& remap : kTraceRemaps) {
          if (remap.attribute == r.canonical) {
            return ResolvedKey{remap.entity, std::string(remap.key), false, r.filter_ops,
                               r.orderable};
          }
        }
      }
      return ResolvedKey{id.entity, std::string(r.canonical), r.numeric, r.filter_ops, r.orderable};
    }
    if (for_order_by) {
      return InvalidArgument(
          fmt::format("Invalid order_by key '{}' for {} search: {} '{}' is not orderable. Valid {} "
                      "keys are: {}",
                      Excerpt(id.written), KindName(kind), what, Excerpt(id.key), what,
                      ValidAttributeKeys(rules, true)));
    }
    if (id.entity == Entity::kAttribute) {
      std::vector<std::string> keys;
      for (const AttributeRule& r : rules) {
        if (r.filter_ops != 0) keys.emplace_back(r.name);
      }
      std::string message = mlflow_messages::InvalidAttributeKey(kind, Excerpt(id.key), keys);
      if (!message.empty()) return InvalidArgument(std::move(message));
    }
    return InvalidArgument(
        fmt::format("Invalid {} key '{}' specified in {} search filter. Valid keys are: {}", what,
                    Excerpt(id.key), KindName(kind), ValidAttributeKeys(rules, false)));
  }
  if (id.entity == Entity::kSpan) {
    // MLflow's SQL store: name, type and status columns, the content JSON (LIKE only), and an
    // attribute as a pattern over the content. No ordering by spans.
    if (for_order_by) {
      return InvalidArgument(
          fmt::format("Invalid order_by key '{}': traces cannot be ordered "
                      "by span fields",
                      Excerpt(id.written)));
    }
    constexpr OpSet kSpanOps = kStringOps | kListOps;
    if (id.key == "name" || id.key == "type" || id.key == "status") {
      return ResolvedKey{Entity::kSpan, id.key, false, kSpanOps, false};
    }
    if (id.key == "content") {
      return ResolvedKey{Entity::kSpan, id.key, false,
                         Op(Comparator::kLike) | Op(Comparator::kILike), false};
    }
    if (id.key.rfind("attributes.", 0) == 0) {
      if (id.key.size() == std::string_view("attributes.").size()) {
        return InvalidArgument("Span attribute name cannot be empty after 'attributes.'");
      }
      return ResolvedKey{Entity::kSpan, id.key, false, kSpanOps, false};
    }
    return InvalidArgument(
        fmt::format("Invalid span attribute '{}'. Supported attributes: name, status, type, "
                    "attributes.<attribute_name>.",
                    Excerpt(id.key)));
  }
  const EntityRule rule = RuleFor(kind, id.entity);
  return ResolvedKey{id.entity, id.key, rule.numeric, rule.filter_ops, rule.orderable};
}

// ---------------------------------------------------------------------------------------------
// Filter parser: clause (AND clause)*.

class FilterParser {
 public:
  FilterParser(std::vector<Token> tokens, SearchKind kind)
      : tokens_(std::move(tokens)), kind_(kind) {}

  StatusOr<Filter> Run() {
    Filter filter;
    if (tokens_.empty()) return filter;
    while (true) {
      if (filter.clauses.size() >= kMaxClauses) {
        return InvalidArgument(fmt::format("Search filter has more than {} clauses", kMaxClauses));
      }
      ASSIGN_OR_RETURN(Clause clause, ParseClause());
      filter.clauses.push_back(std::move(clause));
      if (AtEnd()) break;
      const Token& t = tokens_[pos_];
      if (t.kind == TokenKind::kOperator && kind_ == SearchKind::kRuns) return StrayOperator(t);
      if (!IsKeyword(t, "AND")) {
        if (IsKeyword(t, "OR")) {
          return InvalidArgument(fmt::format(
              "Invalid clause(s) in filter string: 'OR' at position {}. Search filters support "
              "only AND between clauses",
              t.pos));
        }
        return InvalidArgument(fmt::format(
            "Invalid clause(s) in filter string: expected AND or the end of the filter at "
            "position {}, got '{}'",
            t.pos, Excerpt(t.text)));
      }
      ++pos_;
      if (AtEnd()) {
        return InvalidArgument("Invalid clause(s) in filter string: the filter ends with AND");
      }
    }
    return filter;
  }

 private:
  bool AtEnd() const { return pos_ >= tokens_.size(); }

  // An operator where a clause or AND belongs ("~", "metrics.a = 1 ~"), worded as MLflow's run
  // search words a token that is no clause.
  static Status StrayOperator(const Token& t) {
    return InvalidArgument(
        fmt::format("Invalid clause(s) in filter string: '{}'", Excerpt(t.text)));
  }

  static bool IsKeyword(const Token& t, std::string_view word) {
    return t.kind == TokenKind::kWord && EqualsIgnoreCase(t.text, word);
  }

  static bool IsReserved(const Token& t) {
    static constexpr std::string_view kReserved[] = {"AND", "OR",   "NOT",  "IN",
                                                     "IS",  "NULL", "LIKE", "ILIKE"};
    return std::any_of(std::begin(kReserved), std::end(kReserved),
                       [&](std::string_view w) { return IsKeyword(t, w); });
  }

  Status UnexpectedEnd(std::string_view expected) const {
    return InvalidArgument(fmt::format(
        "Invalid clause(s) in filter string: expected {} at the end of the filter", expected));
  }

  StatusOr<Clause> ParseClause() {
    const Token& first = tokens_[pos_];
    if (IsReserved(first)) {
      return InvalidArgument(fmt::format(
          "Invalid clause(s) in filter string: expected an identifier at position {}, got '{}'",
          first.pos, Excerpt(first.text)));
    }
    if (first.kind == TokenKind::kOperator && kind_ == SearchKind::kRuns) {
      return StrayOperator(first);
    }
    ASSIGN_OR_RETURN(RawIdentifier id, ToIdentifier(first, kind_));
    ++pos_;
    ASSIGN_OR_RETURN(ResolvedKey key, Resolve(id, kind_, /*for_order_by=*/false));

    if (AtEnd()) return UnexpectedEnd(fmt::format("a comparator after '{}'", Excerpt(id.written)));
    const Token& op_token = tokens_[pos_];
    StatusOr<Comparator> parsed_op = ParseComparator();
    // Run, experiment and dataset searches read the value before they judge the comparator, so a
    // refused comparator with a value of the wrong type ("metrics.a LIKE 'x'") is reported as
    // the value, as MLflow reports it.
    const bool refused = parsed_op.ok() ? (key.filter_ops & Op(*parsed_op)) == 0
                                        : op_token.kind == TokenKind::kOperator;
    const bool single_value =
        !parsed_op.ok() ||
        (*parsed_op != Comparator::kIn && *parsed_op != Comparator::kNotIn &&
         *parsed_op != Comparator::kIsNull && *parsed_op != Comparator::kIsNotNull);
    if (refused && single_value && !AtEnd() &&
        (kind_ == SearchKind::kRuns || kind_ == SearchKind::kExperiments ||
         kind_ == SearchKind::kEvaluationDatasets)) {
      RETURN_IF_ERROR(CheckValueType(key, id, tokens_[pos_]));
    }
    if (!parsed_op.ok()) {
      // An operator no search takes ("~"): MLflow words it as for any refused comparator.
      if (op_token.kind != TokenKind::kOperator) return parsed_op.status();
      std::string message =
          mlflow_messages::InvalidComparator(kind_, key.entity, key.numeric, Excerpt(id.key),
                                             Excerpt(op_token.text), OpNames(key.filter_ops));
      if (message.empty()) return parsed_op.status();
      return InvalidArgument(std::move(message));
    }
    const Comparator op = *parsed_op;

    if ((key.filter_ops & Op(op)) == 0) {
      if (std::string mlflow_message =
              mlflow_messages::InvalidComparator(kind_, key.entity, key.numeric, Excerpt(id.key),
                                                 ComparatorSql(op), OpNames(key.filter_ops));
          !mlflow_message.empty()) {
        return InvalidArgument(std::move(mlflow_message));
      }
      return InvalidArgument(
          fmt::format("Invalid comparator '{}' for {} '{}' in {} search; allowed comparators: {}",
                      ComparatorSql(op), EntityName(key.entity), Excerpt(id.key), KindName(kind_),
                      OpList(key.filter_ops)));
    }

    Clause clause;
    clause.entity = key.entity;
    clause.key = std::move(key.key);
    clause.op = op;
    switch (op) {
      case Comparator::kIsNull:
      case Comparator::kIsNotNull:
        break;
      case Comparator::kIn:
      case Comparator::kNotIn: {
        ASSIGN_OR_RETURN(std::vector<std::string> list, ParseList(id));
        clause.value = std::move(list);
        break;
      }
      default: {
        if (AtEnd()) {
          return UnexpectedEnd(
              fmt::format("a value after '{} {}'", Excerpt(id.written), ComparatorSql(op)));
        }
        const Token& v = tokens_[pos_];
        RETURN_IF_ERROR(CheckValueType(key, id, v));
        if (key.numeric) {
          clause.value = v.number;
        } else {
          clause.value = v.text;
        }
        ++pos_;
        break;
      }
    }
    return clause;
  }

  // The value token of a single-value comparison must be a number for numeric keys and a
  // quoted string for the others.
  Status CheckValueType(const ResolvedKey& key, const RawIdentifier& id, const Token& v) const {
    if (key.numeric) {
      if (v.kind == TokenKind::kNumber) return Status::Ok();
      std::string message =
          mlflow_messages::ExpectedNumber(kind_, key.entity, Excerpt(id.key), WrittenValue(v));
      if (!message.empty()) return InvalidArgument(std::move(message));
      return InvalidArgument(fmt::format(
          "Expected numeric value type for {} '{}'. Found '{}' at position {}",
          key.entity == Entity::kAttribute ? "numeric attribute" : EntityName(key.entity),
          Excerpt(id.key), Excerpt(v.text), v.pos));
    }
    if (v.kind == TokenKind::kSingleQuoted || v.kind == TokenKind::kDoubleQuoted) {
      return Status::Ok();
    }
    std::vector<std::string> numeric;
    for (const AttributeRule& r : AttributesOf(kind_)) {
      if (r.numeric && r.filter_ops != 0) numeric.emplace_back(r.name);
    }
    std::string message = mlflow_messages::ExpectedString(kind_, key.entity, WrittenValue(v),
                                                          v.kind == TokenKind::kNumber, numeric);
    if (!message.empty()) return InvalidArgument(std::move(message));
    return InvalidArgument(fmt::format(
        "Expected a quoted string value for {} '{}' (e.g. 'my-value'). Got value '{}' at "
        "position {}",
        EntityName(key.entity), Excerpt(id.key), Excerpt(v.text), v.pos));
  }

  StatusOr<Comparator> ParseComparator() {
    const Token& t = tokens_[pos_];
    if (t.kind == TokenKind::kOperator) {
      ++pos_;
      if (t.text == "=") return Comparator::kEq;
      if (t.text == "!=") return Comparator::kNe;
      if (t.text == "<") return Comparator::kLt;
      if (t.text == "<=") return Comparator::kLe;
      if (t.text == ">") return Comparator::kGt;
      if (t.text == ">=") return Comparator::kGe;
      return InvalidArgument(fmt::format(
          "Invalid comparator '{}' at position {}; use one of =, !=, <, <=, >, >=, LIKE, ILIKE, "
          "IN, NOT IN, IS NULL, IS NOT NULL",
          Excerpt(t.text), t.pos));
    }
    if (IsKeyword(t, "LIKE")) {
      ++pos_;
      return Comparator::kLike;
    }
    if (IsKeyword(t, "ILIKE")) {
      ++pos_;
      return Comparator::kILike;
    }
    if (IsKeyword(t, "IN")) {
      ++pos_;
      return Comparator::kIn;
    }
    if (IsKeyword(t, "NOT")) {
      ++pos_;
      if (!AtEnd() && IsKeyword(tokens_[pos_], "IN")) {
        ++pos_;
        return Comparator::kNotIn;
      }
      return InvalidArgument(fmt::format(
          "Invalid comparator 'NOT' at position {}: NOT is only allowed in NOT IN", t.pos));
    }
    if (IsKeyword(t, "IS")) {
      ++pos_;
      bool negated = false;
      if (!AtEnd() && IsKeyword(tokens_[pos_], "NOT")) {
        negated = true;
        ++pos_;
      }
      if (AtEnd() || !IsKeyword(tokens_[pos_], "NULL")) {
        return InvalidArgument(fmt::format(
            "Invalid comparator at position {}: IS must be followed by NULL or NOT NULL", t.pos));
      }
      ++pos_;
      return negated ? Comparator::kIsNotNull : Comparator::kIsNull;
    }
    return InvalidArgument(fmt::format(
        "Invalid clause(s) in filter string: expected a comparator at position {}, got '{}'", t.pos,
        Excerpt(t.text)));
  }

  StatusOr<std::vector<std::string>> ParseList(const RawIdentifier& id) {
    if (AtEnd() || tokens_[pos_].kind != TokenKind::kLeftParen) {
      return InvalidArgument(fmt::format(
          "Expected a parenthesised list of quoted strings after IN for '{}', e.g. ('a', 'b')",
          Excerpt(id.written)));
    }
    ++pos_;
    std::vector<std::string> values;
    while (true) {
      if (AtEnd()) return UnexpectedEnd("a quoted string or ')' in the IN list");
      const Token& v = tokens_[pos_];
      if (v.kind != TokenKind::kSingleQuoted && v.kind != TokenKind::kDoubleQuoted) {
        return InvalidArgument(fmt::format(
            "While parsing a list in the query, expected a quoted string value at position {}, "
            "got '{}'",
            v.pos, Excerpt(v.text)));
      }
      if (values.size() >= kMaxInListValues) {
        return InvalidArgument(
            fmt::format("An IN list may hold at most {} values", kMaxInListValues));
      }
      values.push_back(v.text);
      ++pos_;
      if (AtEnd()) return UnexpectedEnd("',' or ')' in the IN list");
      const Token& sep = tokens_[pos_];
      ++pos_;
      if (sep.kind == TokenKind::kRightParen) break;
      if (sep.kind != TokenKind::kComma) {
        return InvalidArgument(fmt::format(
            "While parsing a list in the query, expected ',' or ')' at position {}, got '{}'",
            sep.pos, Excerpt(sep.text)));
      }
    }
    return values;
  }

  std::vector<Token> tokens_;
  SearchKind kind_;
  std::size_t pos_ = 0;
};

bool IsBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

// Advances `i` past one UTF-8 character of `s` (a lone continuation or truncated sequence counts
// as one byte).
std::size_t NextChar(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t len = 1;
  if (lead >= 0xf0) {
    len = 4;
  } else if (lead >= 0xe0) {
    len = 3;
  } else if (lead >= 0xc0) {
    len = 2;
  }
  std::size_t j = i + 1;
  while (j < s.size() && j < i + len && (static_cast<unsigned char>(s[j]) & 0xc0) == 0x80) ++j;
  return j;
}

char FoldAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::string_view EntityName(Entity entity) {
  switch (entity) {
    case Entity::kAttribute:
      return "attribute";
    case Entity::kMetric:
      return "metric";
    case Entity::kParam:
      return "param";
    case Entity::kTag:
      return "tag";
    case Entity::kDataset:
      return "dataset";
    case Entity::kMetadata:
      return "metadata";
    case Entity::kSpan:
      return "span";
  }
  return "?";
}

std::string_view ComparatorSql(Comparator c) {
  switch (c) {
    case Comparator::kEq:
      return "=";
    case Comparator::kNe:
      return "!=";
    case Comparator::kLt:
      return "<";
    case Comparator::kLe:
      return "<=";
    case Comparator::kGt:
      return ">";
    case Comparator::kGe:
      return ">=";
    case Comparator::kLike:
      return "LIKE";
    case Comparator::kILike:
      return "ILIKE";
    case Comparator::kIn:
      return "IN";
    case Comparator::kNotIn:
      return "NOT IN";
    case Comparator::kIsNull:
      return "IS NULL";
    case Comparator::kIsNotNull:
      return "IS NOT NULL";
  }
  return "?";
}

StatusOr<Filter> ParseFilter(std::string_view text, SearchKind kind) {
  if (text.size() > kMaxFilterLength) {
    return InvalidArgument(fmt::format("Search filter is {} bytes long; the limit is {} bytes",
                                       text.size(), kMaxFilterLength));
  }
  if (IsBlank(text)) return Filter{};
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(text));
  return FilterParser(std::move(tokens), kind).Run();
}

StatusOr<OrderBy> ParseOrderBy(std::string_view text, SearchKind kind) {
  if (text.size() > kMaxOrderByLength) {
    return InvalidArgument(fmt::format("order_by clause is {} bytes long; the limit is {} bytes",
                                       text.size(), kMaxOrderByLength));
  }
  auto invalid = [&](std::string_view why) {
    return InvalidArgument(fmt::format("Invalid order_by clause '{}': {}", Excerpt(text), why));
  };
  StatusOr<std::vector<Token>> lexed = Lex(text);
  if (!lexed.ok()) return invalid(lexed.status().message());
  const std::vector<Token>& tokens = *lexed;
  if (tokens.empty()) return invalid("expected '<identifier> [ASC|DESC]'");
  ASSIGN_OR_RETURN(RawIdentifier id, ToIdentifier(tokens[0], kind));
  ASSIGN_OR_RETURN(ResolvedKey key, Resolve(id, kind, /*for_order_by=*/true));
  OrderBy order;
  order.entity = key.entity;
  order.key = std::move(key.key);
  if (tokens.size() >= 2) {
    const Token& dir = tokens[1];
    if (dir.kind == TokenKind::kWord && EqualsIgnoreCase(dir.text, "ASC")) {
      order.ascending = true;
    } else if (dir.kind == TokenKind::kWord && EqualsIgnoreCase(dir.text, "DESC")) {
      order.ascending = false;
    } else {
      return invalid(
          fmt::format("expected ASC or DESC after the key, got '{}'", Excerpt(dir.text)));
    }
  }
  if (tokens.size() > 2) {
    return invalid(fmt::format("unexpected '{}' after the direction", Excerpt(tokens[2].text)));
  }
  return order;
}

bool IsNumericAttribute(SearchKind kind, std::string_view canonical_key) {
  for (const AttributeRule& r : AttributesOf(kind)) {
    if (r.canonical == canonical_key) return r.numeric;
  }
  return false;
}

bool IsPromptExclusionClause(const Clause& clause) {
  const auto* value = std::get_if<std::string>(&clause.value);
  return clause.entity == Entity::kTag && clause.key == "mlflow.prompt.is_prompt" &&
         clause.op == Comparator::kNe && value != nullptr && *value == "true";
}

bool LikeMatch(std::string_view value, std::string_view pattern, bool case_insensitive) {
  auto same = [&](char a, char b) {
    return case_insensitive ? FoldAscii(a) == FoldAscii(b) : a == b;
  };
  // Greedy matching with one resume point: on a mismatch after the latest `%`, let that `%`
  // absorb one more character and retry. Earlier `%`s never need revisiting, so the work is
  // bounded by value.size() * pattern.size().
  std::size_t v = 0;
  std::size_t p = 0;
  std::size_t star_p = std::string_view::npos;
  std::size_t star_v = 0;
  while (v < value.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = p++;
      star_v = v;
    } else if (p < pattern.size() && pattern[p] == '_') {
      v = NextChar(value, v);
      ++p;
    } else if (p < pattern.size() && same(value[v], pattern[p])) {
      ++v;
      ++p;
    } else if (star_p != std::string_view::npos) {
      p = star_p + 1;
      star_v = NextChar(value, star_v);
      v = star_v;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

}  // namespace cairn::filter
