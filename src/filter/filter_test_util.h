#pragma once

// Shared by filter_test.cc and filter_order_test.cc: helpers and the fixture.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "filter/filter.h"
#include "filter/lexer.h"

namespace cairn::filter {

using Strings = std::vector<std::string>;

inline Filter MustParse(std::string_view text, SearchKind kind) {
  StatusOr<Filter> f = ParseFilter(text, kind);
  EXPECT_TRUE(f.ok()) << "filter: " << text << "\nerror: " << f.status().ToString();
  return f.ok() ? *f : Filter{};
}

inline Clause One(std::string_view text, SearchKind kind) {
  Filter f = MustParse(text, kind);
  EXPECT_EQ(f.clauses.size(), 1u) << text;
  return f.clauses.empty() ? Clause{} : f.clauses[0];
}

// Expects INVALID_ARGUMENT whose message contains every one of `needles`.
inline void ExpectInvalid(std::string_view text, SearchKind kind, const Strings& needles = {}) {
  StatusOr<Filter> f = ParseFilter(text, kind);
  ASSERT_FALSE(f.ok()) << "accepted: " << text;
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << text;
  for (const std::string& n : needles) {
    EXPECT_NE(f.status().message().find(n), std::string::npos)
        << "filter: " << text << "\nmessage: " << f.status().message() << "\nmissing: " << n;
  }
}

inline OrderBy MustOrder(std::string_view text, SearchKind kind) {
  StatusOr<OrderBy> o = ParseOrderBy(text, kind);
  EXPECT_TRUE(o.ok()) << "order_by: " << text << "\nerror: " << o.status().ToString();
  return o.ok() ? *o : OrderBy{};
}

inline void ExpectOrderInvalid(std::string_view text, SearchKind kind,
                               const Strings& needles = {}) {
  StatusOr<OrderBy> o = ParseOrderBy(text, kind);
  ASSERT_FALSE(o.ok()) << "accepted: " << text;
  EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument) << text;
  for (const std::string& n : needles) {
    EXPECT_NE(o.status().message().find(n), std::string::npos)
        << "order_by: " << text << "\nmessage: " << o.status().message() << "\nmissing: " << n;
  }
}

inline double Number(const Clause& c) {
  const double* d = std::get_if<double>(&c.value);
  EXPECT_NE(d, nullptr);
  return d != nullptr ? *d : -12345;
}

inline std::string Str(const Clause& c) {
  const std::string* s = std::get_if<std::string>(&c.value);
  EXPECT_NE(s, nullptr);
  return s != nullptr ? *s : "<not a string>";
}

inline Strings List(const Clause& c) {
  const Strings* l = std::get_if<Strings>(&c.value);
  EXPECT_NE(l, nullptr);
  return l != nullptr ? *l : Strings{};
}

struct OpCase {
  std::string text;
  Comparator op;
};

const std::vector<OpCase> kNumericOpCases = {
    {"=", Comparator::kEq},  {"!=", Comparator::kNe}, {"<", Comparator::kLt},
    {"<=", Comparator::kLe}, {">", Comparator::kGt},  {">=", Comparator::kGe},
};
const std::vector<OpCase> kStringOpCases = {
    {"=", Comparator::kEq},
    {"!=", Comparator::kNe},
    {"LIKE", Comparator::kLike},
    {"ILIKE", Comparator::kILike},
};
const Strings kOrderingOps = {"<", "<=", ">", ">="};
const Strings kPatternOps = {"LIKE", "ILIKE"};

constexpr SearchKind kAllKinds[] = {SearchKind::kRuns, SearchKind::kExperiments,
                                    SearchKind::kRegisteredModels, SearchKind::kModelVersions,
                                    SearchKind::kLoggedModels};

// What a refused comparator's message says, in MLflow's words for the kind (see
// mlflow_messages.h).
inline std::string ComparatorNeedle(SearchKind kind, Entity entity, const std::string& op,
                                    bool numeric = false) {
  switch (kind) {
    case SearchKind::kRuns:
      if (entity == Entity::kAttribute && !numeric && (op == "IN" || op == "NOT IN")) {
        return "Only ['run_id'] attributes support comparison with a list";
      }
      break;
    case SearchKind::kExperiments:
      if (entity == Entity::kTag) return "Invalid comparator for tag: " + op;
      break;
    case SearchKind::kRegisteredModels:
    case SearchKind::kModelVersions:
      return std::string("Invalid comparator for ") +
             (entity == Entity::kTag ? "tag: " : "attribute: ") + op;
    case SearchKind::kLoggedModels:
      return ": '" + op + "'. Expected one of";
    default:
      break;
  }
  return "Invalid comparator '" + op + "'";
}

// What the message for a value that is not a quoted string says about it.
inline Strings StringValueNeedles(SearchKind kind, Entity entity, const std::string& value,
                                  bool is_number) {
  if (kind == SearchKind::kLoggedModels || kind == SearchKind::kTraces) {
    return {"Expected a quoted string value", "'" + value + "'"};
  }
  if (kind == SearchKind::kModelVersions && entity == Entity::kAttribute && is_number) {
    return {"attributes support comparison with numeric values"};
  }
  return {"Expected a quoted string value", "Got value " + value};
}

// Checks `<ident> <op> <value>` for every op in `ok` and rejection of every op in `bad`.
inline void CheckNumericKey(SearchKind kind, const std::string& ident, Entity entity,
                            const std::string& key) {
  for (const OpCase& oc : kNumericOpCases) {
    Clause c = One(ident + " " + oc.text + " 42", kind);
    EXPECT_EQ(c.entity, entity) << ident;
    EXPECT_EQ(c.key, key) << ident;
    EXPECT_EQ(c.op, oc.op) << ident;
    EXPECT_DOUBLE_EQ(Number(c), 42);
  }
  for (const std::string& op : kPatternOps) {
    ExpectInvalid(ident + " " + op + " 4", kind, {ComparatorNeedle(kind, entity, op, true)});
    // Run and experiment searches judge the value first, as MLflow's do.
    const bool value_first = kind == SearchKind::kRuns || kind == SearchKind::kExperiments;
    ExpectInvalid(
        ident + " " + op + " '4%'", kind,
        {value_first ? "Expected numeric value type" : ComparatorNeedle(kind, entity, op, true)});
  }
  ExpectInvalid(ident + " IN ('1')", kind, {ComparatorNeedle(kind, entity, "IN", true)});
  ExpectInvalid(ident + " NOT IN ('1')", kind, {ComparatorNeedle(kind, entity, "NOT IN", true)});
  ExpectInvalid(ident + " IS NULL", kind, {ComparatorNeedle(kind, entity, "IS NULL", true)});
  if (kind == SearchKind::kModelVersions) {
    ExpectInvalid(ident + " = '42'", kind, {"Invalid value for numeric attribute", "'42'"});
    return;
  }
  ExpectInvalid(ident + " = '42'", kind, {"Expected numeric value type", "'42'"});
  ExpectInvalid(ident + " = \"42\"", kind, {"Expected numeric value type"});
}

inline void CheckStringKey(SearchKind kind, const std::string& ident, Entity entity,
                           const std::string& key, bool in_lists, bool null_checks) {
  for (const OpCase& oc : kStringOpCases) {
    Clause c = One(ident + " " + oc.text + " 'v%'", kind);
    EXPECT_EQ(c.entity, entity) << ident;
    EXPECT_EQ(c.key, key) << ident;
    EXPECT_EQ(c.op, oc.op) << ident;
    EXPECT_EQ(Str(c), "v%");
  }
  for (const std::string& op : kOrderingOps) {
    ExpectInvalid(ident + " " + op + " 'v'", kind, {ComparatorNeedle(kind, entity, op)});
  }
  if (in_lists) {
    Clause in = One(ident + " IN ('a', 'b')", kind);
    EXPECT_EQ(in.op, Comparator::kIn);
    EXPECT_EQ(List(in), (Strings{"a", "b"}));
    Clause not_in = One(ident + " NOT IN ('c')", kind);
    EXPECT_EQ(not_in.op, Comparator::kNotIn);
    EXPECT_EQ(List(not_in), (Strings{"c"}));
  } else {
    ExpectInvalid(ident + " IN ('a')", kind, {ComparatorNeedle(kind, entity, "IN")});
    ExpectInvalid(ident + " NOT IN ('a')", kind, {ComparatorNeedle(kind, entity, "NOT IN")});
  }
  if (null_checks) {
    Clause is_null = One(ident + " IS NULL", kind);
    EXPECT_EQ(is_null.op, Comparator::kIsNull);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(is_null.value));
    Clause not_null = One(ident + " IS NOT NULL", kind);
    EXPECT_EQ(not_null.op, Comparator::kIsNotNull);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(not_null.value));
  } else {
    ExpectInvalid(ident + " IS NULL", kind, {ComparatorNeedle(kind, entity, "IS NULL")});
    ExpectInvalid(ident + " IS NOT NULL", kind, {ComparatorNeedle(kind, entity, "IS NOT NULL")});
  }
  ExpectInvalid(ident + " = 1", kind, StringValueNeedles(kind, entity, "1", true));
  ExpectInvalid(ident + " = bare", kind, StringValueNeedles(kind, entity, "bare", false));
}

}  // namespace cairn::filter
