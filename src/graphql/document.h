#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cairn::graphql {

// Where a token starts in the source, 1-based as GraphQL's error locations are.
struct Location {
  int line = 1;
  int column = 1;
};

struct ObjectField;

// A literal or variable in an argument, a default value or an input object field.
struct Value {
  enum class Kind { kVariable, kInt, kFloat, kString, kBoolean, kNull, kEnum, kList, kObject };
  Kind kind = Kind::kNull;
  // kVariable: the name without '$'; kInt/kFloat: the literal's text; kString: the decoded
  // value; kEnum: the name.
  std::string text;
  bool boolean = false;
  std::vector<Value> list;
  std::vector<ObjectField> fields;  // kObject, in source order
  Location location;
};

struct ObjectField {
  std::string name;
  Value value;
};

struct Argument {
  std::string name;
  Value value;
  Location location;
};

struct Directive {
  std::string name;
  std::vector<Argument> arguments;
  Location location;
};

// A variable's declared type: `String`, `[String!]`, `MlflowGetRunInput!`. Lists nest.
struct TypeRef {
  std::string name;         // empty for a list
  std::vector<TypeRef> of;  // the item type of a list (exactly one element)
  bool non_null = false;
  std::string ToString() const;  // as written: "[String!]!"
};

struct Selection {
  enum class Kind { kField, kFragmentSpread, kInlineFragment };
  Kind kind = Kind::kField;
  std::string alias;  // kField: empty when none
  std::string name;   // kField: the field; kFragmentSpread: the fragment
  std::vector<Argument> arguments;
  std::vector<Directive> directives;
  std::string type_condition;  // kInlineFragment: empty when none
  bool has_selection_set = false;
  std::vector<Selection> selections;
  Location location;

  // The key the field's value has in the response.
  const std::string& ResponseKey() const { return alias.empty() ? name : alias; }
};

struct VariableDefinition {
  std::string name;
  TypeRef type;
  std::optional<Value> default_value;
  Location location;
};

struct Operation {
  std::string type = "query";  // "query", "mutation" or "subscription"
  std::string name;            // empty for an anonymous operation
  std::vector<VariableDefinition> variables;
  std::vector<Directive> directives;
  std::vector<Selection> selections;
  Location location;
};

struct Fragment {
  std::string name;
  std::string type_condition;
  std::vector<Directive> directives;
  std::vector<Selection> selections;
  Location location;
};

// An executable GraphQL document (operations and fragments; type system definitions are not
// executable and are refused by the parser).
struct Document {
  std::vector<Operation> operations;
  std::vector<Fragment> fragments;
};

}  // namespace cairn::graphql
