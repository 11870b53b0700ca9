#include "metadata/sql_filter.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cairn::metadata {
namespace {

using filter::Clause;
using filter::Comparator;
using filter::Entity;
using filter::EntityName;

// The SQL operator of a plain binary comparison, or empty for the others.
std::string_view BinaryOperator(Comparator op) {
  switch (op) {
    case Comparator::kEq:
    case Comparator::kNe:
    case Comparator::kLt:
    case Comparator::kLe:
    case Comparator::kGt:
    case Comparator::kGe:
      return filter::ComparatorSql(op);
    default:
      return {};
  }
}

Status UnsupportedComparator(const Clause& clause) {
  return InvalidArgument("Invalid comparator '" + std::string(filter::ComparatorSql(clause.op)) +
                         "' for " + std::string(EntityName(clause.entity)) + " '" + clause.key +
                         "'");
}

// Binds a number as an integer when it is one, so integer columns compare exactly.
SqlValue NumberValue(double v) {
  if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 9.0e15) {
    return static_cast<int64_t>(v);
  }
  return v;
}

// Appends "SELECT <id columns> FROM <table> WHERE <key> = ?<scope>".
void AppendChildSelect(const ChildTable& child, std::string_view key, SqlParams& params,
                       std::string& sql) {
  sql += "SELECT ";
  sql += child.id_columns;
  sql += " FROM ";
  sql += child.table;
  sql += " WHERE ";
  sql += child.key_column;
  sql += " = ";
  sql += params.Add(std::string(key));
  if (child.scope) child.scope(params, sql);
}

// "SELECT <id columns> FROM <table> WHERE <key> = ?<scope>[ AND <comparison>]": the children
// that satisfy the clause (IS NULL / IS NOT NULL: that have the key at all).
StatusOr<std::string> ChildSelect(const Clause& clause, const ChildTable& child,
                                  const SqlDialect& dialect, SqlParams& params) {
  std::string sql;
  AppendChildSelect(child, clause.key, params, sql);
  if (clause.op == Comparator::kIsNull || clause.op == Comparator::kIsNotNull) return sql;
  sql += " AND ";
  bool is_metric = clause.entity == Entity::kMetric;
  if (is_metric && !child.is_nan_column.empty()) {
    // NaN is unequal to everything and neither smaller nor larger than anything.
    const auto* number = std::get_if<double>(&clause.value);
    if (number == nullptr) {
      return InvalidArgument("Expected a numeric value for metric '" + clause.key + "'");
    }
    if (clause.op == Comparator::kNe) {
      sql += "(";
      sql += child.is_nan_column;
      sql += " = 1 OR ";
    } else {
      sql += child.is_nan_column;
      sql += " = 0 AND ";
    }
    ASSIGN_OR_RETURN(std::string cmp, CompileComparison(child.value_column, ValueKind::kNumber,
                                                        clause, dialect, params));
    sql += cmp;
    if (clause.op == Comparator::kNe) sql += ")";
  } else {
    ASSIGN_OR_RETURN(
        std::string cmp,
        CompileComparison(child.value_column, is_metric ? ValueKind::kNumber : ValueKind::kString,
                          clause, dialect, params));
    sql += cmp;
  }
  return sql;
}

// As an IN list of ids (`id IN (children)`), or, when the schema asks for it, as a correlated
// `EXISTS (children of this row)`. IS NULL is the negation of either.
StatusOr<std::string> CompileChildClause(const Clause& clause, const ChildTable& child,
                                         const SearchSchema& schema, const SqlDialect& dialect,
                                         SqlParams& params) {
  const bool negate = clause.op == Comparator::kIsNull;
  ASSIGN_OR_RETURN(std::string children, ChildSelect(clause, child, dialect, params));
  if (schema.correlate && schema.correlate(clause)) {
    // Bare column names in the subquery resolve to the child table first.
    std::string sql = negate ? "NOT EXISTS (" : "EXISTS (";
    sql += children;
    sql += " AND (";
    sql += child.id_columns;
    sql += ") = ";
    sql += schema.id_expr;
    sql += ")";
    return sql;
  }
  std::string sql = schema.id_expr;
  sql += negate ? " NOT IN (" : " IN (";
  sql += children;
  sql += ")";
  return sql;
}

const ChildTable* ChildTableOf(const SearchSchema& schema, Entity entity) {
  switch (entity) {
    case Entity::kMetric:
      return schema.metrics ? &*schema.metrics : nullptr;
    case Entity::kParam:
      return schema.params ? &*schema.params : nullptr;
    case Entity::kTag:
      return schema.tags ? &*schema.tags : nullptr;
    case Entity::kMetadata:
      return schema.metadata ? &*schema.metadata : nullptr;
    case Entity::kAttribute:
    case Entity::kDataset:
    case Entity::kSpan:
      break;
  }
  return nullptr;
}

StatusOr<std::string> CompileClause(const Clause& clause, const SearchSchema& schema,
                                    const SqlDialect& dialect, SqlParams& params) {
  const ChildTable* child = nullptr;
  switch (clause.entity) {
    case Entity::kAttribute: {
      auto it = schema.attributes.find(clause.key);
      if (it == schema.attributes.end()) {
        return InvalidArgument("Invalid attribute key '" + clause.key + "' specified.");
      }
      const AttributeColumn& column = it->second;
      if ((clause.op == Comparator::kIn || clause.op == Comparator::kNotIn) && !column.allow_in) {
        return UnsupportedComparator(clause);
      }
      return CompileComparison(column.expr, column.kind, clause, dialect, params, column.normalize);
    }
    case Entity::kDataset:
      if (!schema.datasets) {
        return InvalidArgument("Invalid entity type 'dataset' in filter");
      }
      return schema.datasets(clause, params);
    case Entity::kSpan:
      if (!schema.spans) return InvalidArgument("Invalid entity type 'span' in filter");
      return schema.spans(clause, params);
    case Entity::kMetric:
    case Entity::kParam:
    case Entity::kTag:
    case Entity::kMetadata:
      child = ChildTableOf(schema, clause.entity);
      break;
  }
  if (child == nullptr) {
    return InvalidArgument("Invalid entity type '" + std::string(EntityName(clause.entity)) +
                           "' in filter");
  }
  if (clause.op == Comparator::kIn || clause.op == Comparator::kNotIn) {
    return UnsupportedComparator(clause);
  }
  if (clause.entity == Entity::kTag && schema.prompt_exclusion_matches_untagged &&
      filter::IsPromptExclusionClause(clause)) {
    // `tag != 'true'` read as "no tag equal to 'true'".
    std::string sql = schema.id_expr;
    sql += " NOT IN (";
    AppendChildSelect(*child, clause.key, params, sql);
    sql += " AND ";
    sql += child->value_column;
    sql += " = ";
    sql += params.Add(std::get<std::string>(clause.value));
    sql += ")";
    return sql;
  }
  return CompileChildClause(clause, *child, schema, dialect, params);
}

std::string ChildSortExpr(const ChildTable& child, std::string_view id_expr,
                          std::string_view value_expr, std::string_view key, SqlParams& params) {
  std::string sql = "(SELECT ";
  if (child.one_row_per_key) {
    sql += value_expr;
  } else {
    sql += "MAX(";
    sql += value_expr;
    sql += ")";
  }
  sql += " FROM ";
  sql += child.table;
  sql += " WHERE (";
  sql += child.id_columns;
  sql += ") = ";
  sql += id_expr;
  sql += " AND ";
  sql += child.key_column;
  sql += " = ";
  sql += params.Add(std::string(key));
  if (child.scope) child.scope(params, sql);
  sql += ")";
  return sql;
}

}  // namespace

StatusOr<std::string> CompileChildMatches(const Clause& clause, const SearchSchema& schema,
                                          const SqlDialect& dialect, SqlParams& params) {
  const ChildTable* child = ChildTableOf(schema, clause.entity);
  if (child == nullptr || clause.op == Comparator::kIn || clause.op == Comparator::kNotIn) {
    return InvalidArgument("Not a key/value child clause: '" + clause.key + "'");
  }
  return ChildSelect(clause, *child, dialect, params);
}

std::string SqlParams::Add(SqlValue value) {
  values_.push_back(std::move(value));
  if (style_ == PlaceholderStyle::kQuestion) return "?";
  return "$" + std::to_string(values_.size());
}

StatusOr<std::string> CompileComparison(
    std::string_view lhs, ValueKind kind, const Clause& clause, const SqlDialect& dialect,
    SqlParams& params, const std::function<std::string(std::string_view)>& normalize) {
  auto string_value = [&](std::string_view v) -> SqlValue {
    return normalize ? normalize(v) : std::string(v);
  };
  std::string sql(lhs);
  switch (clause.op) {
    case Comparator::kIsNull:
      sql += " IS NULL";
      return sql;
    case Comparator::kIsNotNull:
      sql += " IS NOT NULL";
      return sql;
    case Comparator::kIn:
    case Comparator::kNotIn: {
      const auto* list = std::get_if<std::vector<std::string>>(&clause.value);
      if (list == nullptr || kind != ValueKind::kString) return UnsupportedComparator(clause);
      bool negate = clause.op == Comparator::kNotIn;
      if (list->empty()) return std::string(negate ? "1 = 1" : "1 = 0");
      sql += negate ? " NOT IN (" : " IN (";
      for (size_t i = 0; i < list->size(); ++i) {
        if (i > 0) sql += ", ";
        sql += params.Add(string_value((*list)[i]));
      }
      sql += ")";
      return sql;
    }
    case Comparator::kLike:
    case Comparator::kILike: {
      const auto* pattern = std::get_if<std::string>(&clause.value);
      if (pattern == nullptr || kind != ValueKind::kString) return UnsupportedComparator(clause);
      std::string placeholder = params.Add(*pattern);
      return dialect.like(lhs, placeholder, clause.op == Comparator::kILike);
    }
    default:
      break;
  }
  std::string_view op = BinaryOperator(clause.op);
  if (op.empty()) return UnsupportedComparator(clause);
  sql += " ";
  sql += op;
  sql += " ";
  if (kind == ValueKind::kNumber) {
    const auto* number = std::get_if<double>(&clause.value);
    if (number == nullptr) {
      return InvalidArgument("Expected a numeric value for " +
                             std::string(EntityName(clause.entity)) + " '" + clause.key + "'");
    }
    sql += params.Add(NumberValue(*number));
  } else {
    const auto* text = std::get_if<std::string>(&clause.value);
    if (text == nullptr) {
      return InvalidArgument("Expected a quoted string value for " +
                             std::string(EntityName(clause.entity)) + " '" + clause.key + "'");
    }
    sql += params.Add(string_value(*text));
  }
  return sql;
}

StatusOr<std::string> CompileFilter(const filter::Filter& filter, const SearchSchema& schema,
                                    const SqlDialect& dialect, SqlParams& params) {
  std::string sql;
  for (const Clause& clause : filter.clauses) {
    ASSIGN_OR_RETURN(std::string part, CompileClause(clause, schema, dialect, params));
    if (!sql.empty()) sql += " AND ";
    sql += part;
  }
  return sql;
}

std::string OrderTerm(std::string_view expr, bool ascending) {
  std::string sql(expr);
  sql += ascending ? " ASC NULLS LAST" : " DESC NULLS LAST";
  return sql;
}

std::string MetricSortExpr(const ChildTable& metrics, std::string_view id_expr,
                           std::string_view key, SqlParams& params) {
  std::string value_expr;
  if (metrics.is_nan_column.empty()) {
    value_expr = metrics.value_column;
  } else {
    value_expr = "CASE WHEN " + metrics.is_nan_column + " = 1 THEN NULL ELSE " +
                 metrics.value_column + " END";
  }
  return ChildSortExpr(metrics, id_expr, value_expr, key, params);
}

StatusOr<std::string> CompileOrderBy(const std::vector<filter::OrderBy>& order_by,
                                     const SearchSchema& schema, SqlParams& params) {
  std::string sql;
  for (const filter::OrderBy& order : order_by) {
    std::string expr;
    switch (order.entity) {
      case Entity::kAttribute: {
        auto it = schema.attributes.find(order.key);
        if (it == schema.attributes.end() || !it->second.sortable) {
          return InvalidArgument("Invalid order_by attribute key '" + order.key + "'");
        }
        expr = it->second.expr;
        break;
      }
      case Entity::kMetric:
        if (!schema.metrics) return InvalidArgument("Invalid order_by entity 'metric'");
        expr = MetricSortExpr(*schema.metrics, schema.id_expr, order.key, params);
        break;
      case Entity::kParam:
        if (!schema.params) return InvalidArgument("Invalid order_by entity 'parameter'");
        expr = ChildSortExpr(*schema.params, schema.id_expr, schema.params->value_column, order.key,
                             params);
        break;
      case Entity::kTag:
        if (!schema.tags) return InvalidArgument("Invalid order_by entity 'tag'");
        expr = ChildSortExpr(*schema.tags, schema.id_expr, schema.tags->value_column, order.key,
                             params);
        break;
      case Entity::kMetadata:
        if (!schema.metadata) return InvalidArgument("Invalid order_by entity 'metadata'");
        expr = ChildSortExpr(*schema.metadata, schema.id_expr, schema.metadata->value_column,
                             order.key, params);
        break;
      case Entity::kDataset:
        return InvalidArgument("Invalid order_by entity 'dataset'");
      case Entity::kSpan:
        return InvalidArgument("Invalid order_by entity 'span'");
    }
    if (!sql.empty()) sql += ", ";
    sql += OrderTerm(expr, order.ascending);
  }
  return sql;
}

bool OrdersBy(const std::vector<filter::OrderBy>& order_by, std::string_view attribute) {
  return std::any_of(order_by.begin(), order_by.end(), [&](const filter::OrderBy& o) {
    return o.entity == filter::Entity::kAttribute && o.key == attribute;
  });
}

Status AppendFilterAndOrder(std::string& sql, const filter::Filter& filter,
                            const std::vector<filter::OrderBy>& order_by,
                            const SearchSchema& schema, const SqlDialect& dialect,
                            SqlParams& params, std::string_view default_order,
                            std::initializer_list<TieBreaker> tie_breakers) {
  ASSIGN_OR_RETURN(std::string where, CompileFilter(filter, schema, dialect, params));
  if (!where.empty()) sql += " AND " + where;
  ASSIGN_OR_RETURN(std::string order, CompileOrderBy(order_by, schema, params));
  sql += " ORDER BY ";
  if (order.empty()) {
    sql += default_order;
    return Status::Ok();
  }
  sql += order;
  for (const TieBreaker& tie : tie_breakers) {
    if (OrdersBy(order_by, tie.attribute)) continue;
    sql += ", ";
    sql += tie.sql;
  }
  return Status::Ok();
}

}  // namespace cairn::metadata
