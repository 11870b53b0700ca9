#include "filter/lexer.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <system_error>

namespace cairn::filter {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsWordStart(char c) { return IsAlpha(c) || c == '_'; }
bool IsWordChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '_' || c == '.'; }
bool IsOperatorChar(char c) { return c == '=' || c == '!' || c == '<' || c == '>' || c == '~'; }

class Lexer {
 public:
  explicit Lexer(std::string_view input) : in_(input) {}

  StatusOr<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
      if (pos_ >= in_.size()) break;
      Token token;
      token.pos = pos_;
      RETURN_IF_ERROR(Next(token));
      token.end = pos_;
      tokens.push_back(std::move(token));
    }
    return tokens;
  }

 private:
  Status Next(Token& token) {
    const char c = in_[pos_];
    if (IsWordStart(c)) return Word(token);
    if (IsDigit(c) || (c == '.' && Peek(1) && IsDigit(in_[pos_ + 1])) ||
        (c == '-' && Peek(1) &&
         (IsDigit(in_[pos_ + 1]) || (in_[pos_ + 1] == '.' && Peek(2) && IsDigit(in_[pos_ + 2]))))) {
      return Number(token);
    }
    switch (c) {
      case '\'':
        token.kind = TokenKind::kSingleQuoted;
        return Quoted(token.text);
      case '"':
        token.kind = TokenKind::kDoubleQuoted;
        return Quoted(token.text);
      case '`':
        token.kind = TokenKind::kBacktick;
        return Quoted(token.text);
      case '(':
        token.kind = TokenKind::kLeftParen;
        token.text = "(";
        ++pos_;
        return Status::Ok();
      case ')':
        token.kind = TokenKind::kRightParen;
        token.text = ")";
        ++pos_;
        return Status::Ok();
      case ',':
        token.kind = TokenKind::kComma;
        token.text = ",";
        ++pos_;
        return Status::Ok();
      case '=':
      case '!':
      case '<':
      case '>':
      case '~': {
        // As MLflow's SQL tokenizer: any run of these characters is one comparison operator
        // ("~", "==", "!~"); the parser refuses the ones no search takes.
        std::size_t len = 1;
        while (Peek(len) && IsOperatorChar(in_[pos_ + len])) ++len;
        return Operator(token, len);
      }
      default:
        break;
    }
    return InvalidArgument(fmt::format("Invalid character '{}' at position {} in search string",
                                       Excerpt(in_.substr(pos_, 1)), pos_));
  }

  bool Peek(std::size_t ahead) const { return pos_ + ahead < in_.size(); }

  Status Word(Token& token) {
    const std::size_t start = pos_;
    while (pos_ < in_.size() && IsWordChar(in_[pos_])) ++pos_;
    token.kind = TokenKind::kWord;
    token.text = std::string(in_.substr(start, pos_ - start));
    // `tags.` directly followed by a quoted key forms one identifier.
    if (token.text.back() == '.' && pos_ < in_.size() && (in_[pos_] == '`' || in_[pos_] == '"')) {
      token.kind = TokenKind::kQualified;
      token.prefix = token.text.substr(0, token.text.size() - 1);
      token.text.clear();
      return Quoted(token.text);
    }
    return Status::Ok();
  }

  Status Number(Token& token) {
    const std::size_t start = pos_;
    if (in_[pos_] == '-') ++pos_;
    while (pos_ < in_.size() && IsDigit(in_[pos_])) ++pos_;
    if (pos_ < in_.size() && in_[pos_] == '.') {
      ++pos_;
      while (pos_ < in_.size() && IsDigit(in_[pos_])) ++pos_;
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      std::size_t exp = pos_ + 1;
      if (exp < in_.size() && (in_[exp] == '+' || in_[exp] == '-')) ++exp;
      if (exp < in_.size() && IsDigit(in_[exp])) {
        pos_ = exp;
        while (pos_ < in_.size() && IsDigit(in_[pos_])) ++pos_;
      }
    }
    const std::string_view raw = in_.substr(start, pos_ - start);
    if (pos_ < in_.size() &&
        (IsWordChar(in_[pos_]) || in_[pos_] == '\'' || in_[pos_] == '"' || in_[pos_] == '`')) {
      std::size_t stop = pos_;
      while (stop < in_.size() && IsWordChar(in_[stop])) ++stop;
      return InvalidArgument(fmt::format("Invalid number '{}' at position {} in search string",
                                         Excerpt(in_.substr(start, stop - start + 1)), start));
    }
    double value = 0;
    const auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
    if (ec != std::errc() || ptr != raw.data() + raw.size() || !std::isfinite(value)) {
      return InvalidArgument(
          fmt::format("Invalid number '{}' at position {} in search string", Excerpt(raw), start));
    }
    token.kind = TokenKind::kNumber;
    token.text = std::string(raw);
    token.number = value;
    return Status::Ok();
  }

  Status Quoted(std::string& out) {
    const std::size_t start = pos_;
    const char quote = in_[pos_++];
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c == quote) {
        if (Peek(1) && in_[pos_ + 1] == quote) {
          out.push_back(quote);
          pos_ += 2;
          continue;
        }
        ++pos_;
        return Status::Ok();
      }
      if (c == '\\' && Peek(1) && (in_[pos_ + 1] == quote || in_[pos_ + 1] == '\\')) {
        out.push_back(in_[pos_ + 1]);
        pos_ += 2;
        continue;
      }
      out.push_back(c);
      ++pos_;
    }
    return InvalidArgument(
        fmt::format("Unterminated quoted string starting at position {} in search string: {}",
                    start, Excerpt(in_.substr(start))));
  }

  Status Operator(Token& token, std::size_t len) {
    token.kind = TokenKind::kOperator;
    token.text = std::string(in_.substr(pos_, len));
    pos_ += len;
    return Status::Ok();
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

StatusOr<std::vector<Token>> Lex(std::string_view input) {
  if (const std::size_t nul = input.find('\0'); nul != std::string_view::npos) {
    return InvalidArgument(
        fmt::format("Search string contains a NUL character at position {}", nul));
  }
  return Lexer(input).Run();
}

std::string Excerpt(std::string_view text, std::size_t max_len) {
  std::string out;
  const bool cut = text.size() > max_len;
  if (cut) text = text.substr(0, max_len);
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out.push_back(c);
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace cairn::filter
