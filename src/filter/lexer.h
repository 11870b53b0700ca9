#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cairn::filter {

// Tokens of the search grammar. Internal to the filter component; ParseFilter and ParseOrderBy
// are the public entry points.
enum class TokenKind {
  kWord,          // [A-Za-z_][A-Za-z0-9_.]*: keywords, entity prefixes, bare keys
  kQualified,     // `prefix.`-then-quoted key, e.g. tags.`a b` (prefix without the dot)
  kBacktick,      // `key`
  kSingleQuoted,  // 'string'
  kDoubleQuoted,  // "string" (a key on the left of a comparator, a string on the right)
  kNumber,        // -?digits[.digits][e[+-]digits]
  kOperator,      // a run of = ! < > ~ (the parser takes = != < <= > >=)
  kLeftParen,
  kRightParen,
  kComma,
};

struct Token {
  TokenKind kind = TokenKind::kWord;
  std::string text;     // the unescaped content: word, operator, quoted text or key
  std::string prefix;   // kQualified only: the entity prefix
  double number = 0;    // kNumber only
  std::size_t pos = 0;  // byte offset of the token in the input
  std::size_t end = 0;  // byte offset one past the token
};

// Splits `input` into tokens, skipping ASCII whitespace. Inside quotes a doubled delimiter or a
// backslash followed by the delimiter or a backslash stands for that character; any other byte
// is kept as is. Errors (INVALID_ARGUMENT): a NUL byte, an unterminated quote, a character that
// starts no token, a malformed or out-of-range number.
StatusOr<std::vector<Token>> Lex(std::string_view input);

// A printable excerpt of `text` for error messages: control and non-ASCII bytes escaped as \xNN,
// long text cut to `max_len` bytes with "..." appended.
std::string Excerpt(std::string_view text, std::size_t max_len = 64);

}  // namespace cairn::filter
