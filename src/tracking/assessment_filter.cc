#include "tracking/assessment_filter.h"

#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <utility>

#include "tracking/assessment_metrics.h"

namespace cairn::tracking {
namespace {

using filter::Comparator;

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// The clauses of a conjunction: split at AND (any case, between spaces) outside quotes.
std::vector<std::string_view> Clauses(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') {
      quote = c;
      continue;
    }
    if (IsSpace(c) && i + 4 < text.size() && StartsWithIgnoreCase(text.substr(i + 1), "and") &&
        IsSpace(text[i + 4])) {
      out.push_back(text.substr(start, i - start));
      start = i + 5;
      i += 4;
    }
  }
  out.push_back(text.substr(start));
  return out;
}

StatusOr<AssessmentFilter> ParseClause(std::string_view clause, metadata::AssessmentKind kind,
                                       std::string_view type) {
  AssessmentFilter f;
  f.kind = kind;
  size_t pos = type.size() + 1;  // past "feedback."
  if (pos < clause.size() && clause[pos] == '`') {
    size_t close = clause.find('`', pos + 1);
    if (close == std::string_view::npos) {
      return InvalidArgument("Invalid filter: unterminated backtick in '" +
                             std::string(clause.substr(0, 200)) + "'");
    }
    f.name = std::string(clause.substr(pos + 1, close - pos - 1));
    pos = close + 1;
  } else {
    size_t start = pos;
    while (pos < clause.size() && !IsSpace(clause[pos]) && clause[pos] != '=' &&
           clause[pos] != '!' && clause[pos] != '<' && clause[pos] != '>') {
      ++pos;
    }
    f.name = std::string(clause.substr(start, pos - start));
  }
  if (f.name.empty()) return InvalidArgument("Assessment field name cannot be empty");
  std::string_view rest = Trim(clause.substr(pos));
  auto upper = [](std::string_view s) {
    std::string u(s);
    for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u;
  };
  std::string rest_upper = upper(rest);
  if (rest_upper == "IS NULL" || rest_upper == "IS NOT NULL") {
    f.op = rest_upper == "IS NULL" ? Comparator::kIsNull : Comparator::kIsNotNull;
    return f;
  }
  struct Op {
    std::string_view text;
    Comparator op;
  };
  static constexpr Op kOps[] = {{"!=", Comparator::kNe}, {"<>", Comparator::kNe},
                                {">=", Comparator::kGe}, {"<=", Comparator::kLe},
                                {"=", Comparator::kEq},  {">", Comparator::kGt},
                                {"<", Comparator::kLt}};
  std::optional<Op> found;
  for (const Op& op : kOps) {
    if (rest.starts_with(op.text)) {
      found = op;
      break;
    }
  }
  if (!found) {
    for (std::string_view word : {"LIKE", "ILIKE", "RLIKE"}) {
      if (rest_upper.starts_with(word)) {
        return InvalidArgument(std::string(type) + "." + f.name + " comparator '" +
                               std::string(word) +
                               "' is not supported by this server for assessment values");
      }
    }
    return InvalidArgument("Invalid comparator in '" + std::string(clause.substr(0, 200)) +
                           "': expected one of =, !=, <, <=, >, >=, IS NULL, IS NOT NULL");
  }
  f.op = found->op;
  std::string_view value = Trim(rest.substr(found->text.size()));
  bool numeric_op = f.op != Comparator::kEq && f.op != Comparator::kNe;
  bool quoted = value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
                value.back() == value.front();
  if (numeric_op) {
    double number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
      return InvalidArgument("Expected a numeric value for " + std::string(type) +
                             " when using comparator '" + std::string(found->text) +
                             "'. Got value " + std::string(value.substr(0, 100)));
    }
    f.number = number;
    return f;
  }
  if (!quoted) {
    return InvalidArgument("Expected a quoted string value for " + std::string(type) +
                           " (e.g. 'my-value'). Got value " + std::string(value.substr(0, 100)));
  }
  f.text = std::string(value.substr(1, value.size() - 2));
  return f;
}

}  // namespace

StatusOr<SplitTraceFilter> SplitAssessmentFilters(std::string_view text) {
  SplitTraceFilter out;
  if (Trim(text).empty()) return out;
  for (std::string_view raw : Clauses(text)) {
    std::string_view clause = Trim(raw);
    std::optional<std::pair<metadata::AssessmentKind, std::string_view>> kind;
    if (StartsWithIgnoreCase(clause, "feedback.")) {
      kind = {metadata::AssessmentKind::kFeedback, "feedback"};
    } else if (StartsWithIgnoreCase(clause, "expectation.")) {
      kind = {metadata::AssessmentKind::kExpectation, "expectation"};
    }
    if (!kind) {
      if (!out.rest.empty()) out.rest += " AND ";
      out.rest += std::string(clause);
      continue;
    }
    ASSIGN_OR_RETURN(AssessmentFilter f, ParseClause(clause, kind->first, kind->second));
    out.assessments.push_back(std::move(f));
  }
  return out;
}

bool AssessmentMatches(const AssessmentFilter& f, const metadata::Assessment& a) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(a.value_json, ec);
  if (ec) value = nullptr;
  switch (f.op) {
    case Comparator::kEq:
    case Comparator::kNe: {
      // MLflow compares the stored JSON text with the value and with the value as a JSON string.
      std::string stored = AssessmentValueText(value);
      bool equal = stored == f.text || stored == AssessmentValueText(boost::json::value(f.text));
      return f.op == Comparator::kEq ? equal : !equal;
    }
    case Comparator::kLt:
    case Comparator::kLe:
    case Comparator::kGt:
    case Comparator::kGe: {
      if (!value.is_number()) return false;
      std::optional<double> n = AssessmentAggregateValue(value);
      if (!n) return false;
      if (f.op == Comparator::kLt) return *n < f.number;
      if (f.op == Comparator::kLe) return *n <= f.number;
      if (f.op == Comparator::kGt) return *n > f.number;
      return *n >= f.number;
    }
    default:
      return false;
  }
}

}  // namespace cairn::tracking
