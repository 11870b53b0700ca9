#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "filter/filter.h"

// The reference MLflow server's wording of search-filter errors, which clients and users match
// on. Each function returns the message for one kind of mistake, or "" where MLflow has no
// settled wording and the parser keeps its own (traces, some logged-model cases). Where MLflow
// prints a Python set, its element order varies between MLflow processes; these print the
// elements in the order given.
namespace cairn::filter::mlflow_messages {

// An unknown entity prefix ("foo" in "foo.a = 1").
std::string InvalidEntityType(SearchKind kind, std::string_view prefix);
// An unknown attribute key; `valid_keys` are the filterable attribute names.
std::string InvalidAttributeKey(SearchKind kind, std::string_view key,
                                const std::vector<std::string>& valid_keys);
// A comparator (as written, e.g. ">" or "~") that the key `key` of `entity` does not take;
// `allowed` are the comparators it takes, `numeric` whether it compares numbers.
std::string InvalidComparator(SearchKind kind, Entity entity, bool numeric, std::string_view key,
                              std::string_view op, const std::vector<std::string>& allowed);
// A value that is not a number where the key needs one; `written` is the value as written
// (quotes included).
std::string ExpectedNumber(SearchKind kind, Entity entity, std::string_view key,
                           std::string_view written);
// A value that is not a quoted string where the key needs one. `is_number` tells whether the
// value was a number; `numeric_attributes` are the kind's numeric attribute names.
std::string ExpectedString(SearchKind kind, Entity entity, std::string_view written, bool is_number,
                           const std::vector<std::string>& numeric_attributes);

}  // namespace cairn::filter::mlflow_messages
