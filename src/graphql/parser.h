#pragma once

#include <string_view>

#include "base/status.h"
#include "graphql/document.h"

namespace cairn::graphql {

struct ParseLimits {
  // Deepest nesting of selection sets, lists and input objects; deeper documents are refused
  // before they can exhaust the stack.
  int max_depth = 64;
  // Most tokens in one document.
  size_t max_tokens = 100000;
};

// Parses an executable document (GraphQL, October 2021 edition): operations (with the query
// shorthand), variables with defaults, fragments, inline fragments, aliases, arguments,
// directives, every literal kind including block strings and \u escapes, comments and commas.
// INVALID_ARGUMENT with graphql-js's wording ("Syntax Error: Expected Name, found <EOF>.") and the
// location as " (line:column)" for malformed input, for type system definitions, and for
// documents over `limits`.
StatusOr<Document> Parse(std::string_view source, ParseLimits limits = {});

}  // namespace cairn::graphql
