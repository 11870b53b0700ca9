#include "graphql/parser.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cairn::graphql {

std::string TypeRef::ToString() const {
  std::string out = of.empty() ? name : "[" + of.front().ToString() + "]";
  if (non_null) out += '!';
  return out;
}

namespace {

enum class Tok {
  kEof,
  kBang,
  kDollar,
  kAmp,
  kParenL,
  kParenR,
  kSpread,
  kColon,
  kEquals,
  kAt,
  kBracketL,
  kBracketR,
  kBraceL,
  kPipe,
  kBraceR,
  kName,
  kInt,
  kFloat,
  kString,
  kBlockString,
};

struct Token {
  Tok kind = Tok::kEof;
  std::string value;  // names, numbers, decoded strings
  Location location;
};

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEof:
      return "<EOF>";
    case Tok::kName:
      return "Name \"" + t.value + "\"";
    case Tok::kInt:
      return "Int \"" + t.value + "\"";
    case Tok::kFloat:
      return "Float \"" + t.value + "\"";
    case Tok::kString:
    case Tok::kBlockString:
      return "String";
    default:
      return "\"" + t.value + "\"";
  }
}

Status SyntaxError(std::string message, Location at) {
  return InvalidArgument("Syntax Error: " + std::move(message) + " (" + std::to_string(at.line) +
                         ":" + std::to_string(at.column) + ")");
}

bool IsNameStart(char c) { return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameContinue(char c) { return IsNameStart(c) || IsDigit(c); }

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The block string value algorithm of the spec: common indentation and blank first/last lines
// removed.
std::string BlockStringValue(std::string_view raw) {
  std::vector<std::string> lines;
  std::string line;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r' || raw[i] == '\n') {
      lines.push_back(std::move(line));
      line.clear();
      if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    } else {
      line += raw[i];
    }
  }
  lines.push_back(std::move(line));
  auto indent_of = [](const std::string& l) {
    size_t n = 0;
    while (n < l.size() && (l[n] == ' ' || l[n] == '\t')) ++n;
    return n;
  };
  size_t common = std::string::npos;
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t indent = indent_of(lines[i]);
    if (indent < lines[i].size() && indent < common) common = indent;
  }
  if (common != std::string::npos) {
    for (size_t i = 1; i < lines.size(); ++i) lines[i].erase(0, std::min(common, lines[i].size()));
  }
  auto blank = [&](const std::string& l) { return indent_of(l) == l.size(); };
  size_t first = 0;
  size_t last = lines.size();
  while (first < last && blank(lines[first])) ++first;
  while (last > first && blank(lines[last - 1])) --last;
  std::string out;
  for (size_t i = first; i < last; ++i) {
    if (i > first) out += '\n';
    out += lines[i];
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : src_(source) {
    if (src_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
  }

  StatusOr<Token> Next() {
    SkipIgnored();
    Token t;
    t.location = Here();
    if (pos_ >= src_.size()) return t;
    char c = src_[pos_];
    auto punct = [&](Tok kind, size_t len) {
      t.kind = kind;
      t.value = std::string(src_.substr(pos_, len));
      Advance(len);
      return t;
    };
    switch (c) {
      case '!':
        return punct(Tok::kBang, 1);
      case '$':
        return punct(Tok::kDollar, 1);
      case '&':
        return punct(Tok::kAmp, 1);
      case '(':
        return punct(Tok::kParenL, 1);
      case ')':
        return punct(Tok::kParenR, 1);
      case ':':
        return punct(Tok::kColon, 1);
      case '=':
        return punct(Tok::kEquals, 1);
      case '@':
        return punct(Tok::kAt, 1);
      case '[':
        return punct(Tok::kBracketL, 1);
      case ']':
        return punct(Tok::kBracketR, 1);
      case '{':
        return punct(Tok::kBraceL, 1);
      case '|':
        return punct(Tok::kPipe, 1);
      case '}':
        return punct(Tok::kBraceR, 1);
      case '.':
        if (src_.substr(pos_, 3) == "...") return punct(Tok::kSpread, 3);
        return SyntaxError("Unexpected \".\".", t.location);
      case '"':
        return src_.substr(pos_, 3) == "\"\"\"" ? ReadBlockString(t) : ReadString(t);
      default:
        break;
    }
    if (IsNameStart(c)) {
      size_t start = pos_;
      while (pos_ < src_.size() && IsNameContinue(src_[pos_])) ++pos_;
      column_ += static_cast<int>(pos_ - start);
      t.kind = Tok::kName;
      t.value = std::string(src_.substr(start, pos_ - start));
      return t;
    }
    if (c == '-' || IsDigit(c)) return ReadNumber(t);
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      return SyntaxError("Invalid character: U+" + Hex4(static_cast<unsigned char>(c)) + ".",
                         t.location);
    }
    return SyntaxError("Unexpected character: \"" + std::string(1, c) + "\".", t.location);
  }

 private:
  static std::string Hex4(unsigned v) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out(4, '0');
    for (int i = 3; i >= 0; --i, v >>= 4) out[static_cast<size_t>(i)] = kDigits[v & 0xF];
    return out;
  }

  Location Here() const { return {line_, column_}; }

  void Advance(size_t n) {
    pos_ += n;
    column_ += static_cast<int>(n);
  }

  void NewLine(size_t n) {
    pos_ += n;
    ++line_;
    column_ = 1;
  }

  void SkipIgnored() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == ',') {
        Advance(1);
      } else if (c == '\n') {
        NewLine(1);
      } else if (c == '\r') {
        NewLine(pos_ + 1 < src_.size() && src_[pos_ + 1] == '\n' ? 2 : 1);
      } else if (c == '#') {
        while (pos_ < src_.size() && src_[pos_] != '\n' && src_[pos_] != '\r') Advance(1);
      } else {
        return;
      }
    }
  }

  StatusOr<Token> ReadNumber(Token& t) {
    size_t start = pos_;
    bool is_float = false;
    if (src_[pos_] == '-') Advance(1);
    if (pos_ < src_.size() && src_[pos_] == '0') {
      Advance(1);
      if (pos_ < src_.size() && IsDigit(src_[pos_])) {
        return SyntaxError(
            "Invalid number, unexpected digit after 0: \"" + std::string(1, src_[pos_]) + "\".",
            Here());
      }
    } else {
      RETURN_IF_ERROR(ReadDigits());
    }
    if (pos_ < src_.size() && src_[pos_] == '.') {
      is_float = true;
      Advance(1);
      RETURN_IF_ERROR(ReadDigits());
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      is_float = true;
      Advance(1);
      if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) Advance(1);
      RETURN_IF_ERROR(ReadDigits());
    }
    if (pos_ < src_.size() && (src_[pos_] == '.' || IsNameStart(src_[pos_]))) {
      return SyntaxError(
          "Invalid number, expected digit but got: \"" + std::string(1, src_[pos_]) + "\".",
          Here());
    }
    t.kind = is_float ? Tok::kFloat : Tok::kInt;
    t.value = std::string(src_.substr(start, pos_ - start));
    return t;
  }

  Status ReadDigits() {
    if (pos_ >= src_.size() || !IsDigit(src_[pos_])) {
      return SyntaxError(pos_ >= src_.size() ? "Invalid number, expected digit but got: <EOF>."
                                             : "Invalid number, expected digit but got: \"" +
                                                   std::string(1, src_[pos_]) + "\".",
                         Here());
    }
    while (pos_ < src_.size() && IsDigit(src_[pos_])) Advance(1);
    return Status::Ok();
  }

  StatusOr<Token> ReadString(Token& t) {
    Advance(1);
    std::string out;
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == '"') {
        Advance(1);
        t.kind = Tok::kString;
        t.value = std::move(out);
        return t;
      }
      if (c == '\n' || c == '\r') break;
      if (c == '\\') {
        if (pos_ + 1 >= src_.size()) break;
        char e = src_[pos_ + 1];
        Advance(2);
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            ASSIGN_OR_RETURN(uint32_t cp, ReadHex4());
            if (cp >= 0xD800 && cp <= 0xDBFF && src_.substr(pos_, 2) == "\\u") {
              Advance(2);
              ASSIGN_OR_RETURN(uint32_t low, ReadHex4());
              if (low < 0xDC00 || low > 0xDFFF) {
                return SyntaxError("Invalid Unicode escape sequence.", Here());
              }
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
              return SyntaxError("Invalid Unicode escape sequence.", Here());
            }
            AppendUtf8(out, cp);
            break;
          }
          default:
            return SyntaxError(
                "Invalid character escape sequence: \"\\" + std::string(1, e) + "\".", Here());
        }
        continue;
      }
      out += c;
      Advance(1);
    }
    return SyntaxError("Unterminated string.", Here());
  }

  StatusOr<uint32_t> ReadHex4() {
    if (pos_ + 4 > src_.size()) return SyntaxError("Invalid Unicode escape sequence.", Here());
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = src_[pos_ + static_cast<size_t>(i)];
      v <<= 4;
      if (IsDigit(c)) {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return SyntaxError("Invalid Unicode escape sequence.", Here());
      }
    }
    Advance(4);
    return v;
  }

  StatusOr<Token> ReadBlockString(Token& t) {
    Advance(3);
    std::string raw;
    while (pos_ < src_.size()) {
      if (src_.substr(pos_, 3) == "\"\"\"") {
        Advance(3);
        t.kind = Tok::kBlockString;
        t.value = BlockStringValue(raw);
        return t;
      }
      if (src_.substr(pos_, 4) == "\\\"\"\"") {
        raw += "\"\"\"";
        Advance(4);
        continue;
      }
      char c = src_[pos_];
      raw += c;
      if (c == '\n') {
        NewLine(1);
      } else if (c == '\r') {
        if (pos_ + 1 < src_.size() && src_[pos_ + 1] == '\n') raw += src_[++pos_];
        NewLine(1);
      } else {
        Advance(1);
      }
    }
    return SyntaxError("Unterminated string.", Here());
  }

  std::string_view src_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

class Parser {
 public:
  Parser(std::string_view source, ParseLimits limits) : lexer_(source), limits_(limits) {}

  StatusOr<Document> ParseDocument() {
    RETURN_IF_ERROR(Advance());
    Document doc;
    if (token_.kind == Tok::kEof) return SyntaxError("Unexpected <EOF>.", token_.location);
    while (token_.kind != Tok::kEof) {
      if (token_.kind == Tok::kBraceL) {
        Operation op;
        op.location = token_.location;
        ASSIGN_OR_RETURN(op.selections, ParseSelectionSet(0));
        doc.operations.push_back(std::move(op));
      } else if (token_.kind == Tok::kName &&
                 (token_.value == "query" || token_.value == "mutation" ||
                  token_.value == "subscription")) {
        ASSIGN_OR_RETURN(Operation op, ParseOperation());
        doc.operations.push_back(std::move(op));
      } else if (token_.kind == Tok::kName && token_.value == "fragment") {
        ASSIGN_OR_RETURN(Fragment fragment, ParseFragment());
        doc.fragments.push_back(std::move(fragment));
      } else {
        return Unexpected();
      }
    }
    return doc;
  }

 private:
  Status Advance() {
    if (++tokens_ > limits_.max_tokens) {
      return SyntaxError("Document contains more than " + std::to_string(limits_.max_tokens) +
                             " tokens. Parsing aborted.",
                         token_.location);
    }
    ASSIGN_OR_RETURN(token_, lexer_.Next());
    return Status::Ok();
  }

  Status Unexpected() {
    return SyntaxError("Unexpected " + Describe(token_) + ".", token_.location);
  }

  Status Expect(Tok kind, std::string_view what) {
    if (token_.kind != kind) {
      return SyntaxError("Expected \"" + std::string(what) + "\", found " + Describe(token_) + ".",
                         token_.location);
    }
    return Advance();
  }

  bool Skip(Tok kind) {
    if (token_.kind != kind) return false;
    status_ = Advance();
    return true;
  }

  StatusOr<std::string> ExpectName() {
    if (token_.kind != Tok::kName) {
      return SyntaxError("Expected Name, found " + Describe(token_) + ".", token_.location);
    }
    std::string name = std::move(token_.value);
    RETURN_IF_ERROR(Advance());
    return name;
  }

  Status CheckDepth(int depth) const {
    if (depth > limits_.max_depth) {
      return SyntaxError("Document nests deeper than " + std::to_string(limits_.max_depth) + ".",
                         token_.location);
    }
    return Status::Ok();
  }

  StatusOr<Operation> ParseOperation() {
    Operation op;
    op.location = token_.location;
    op.type = token_.value;
    RETURN_IF_ERROR(Advance());
    if (token_.kind == Tok::kName) {
      ASSIGN_OR_RETURN(op.name, ExpectName());
    }
    if (Skip(Tok::kParenL)) {
      RETURN_IF_ERROR(status_);
      while (!Skip(Tok::kParenR)) {
        ASSIGN_OR_RETURN(VariableDefinition v, ParseVariableDefinition());
        op.variables.push_back(std::move(v));
      }
      RETURN_IF_ERROR(status_);
    }
    ASSIGN_OR_RETURN(op.directives, ParseDirectives(false, 0));
    ASSIGN_OR_RETURN(op.selections, ParseSelectionSet(0));
    return op;
  }

  StatusOr<VariableDefinition> ParseVariableDefinition() {
    VariableDefinition v;
    v.location = token_.location;
    RETURN_IF_ERROR(Expect(Tok::kDollar, "$"));
    ASSIGN_OR_RETURN(v.name, ExpectName());
    RETURN_IF_ERROR(Expect(Tok::kColon, ":"));
    ASSIGN_OR_RETURN(v.type, ParseType(0));
    if (Skip(Tok::kEquals)) {
      RETURN_IF_ERROR(status_);
      ASSIGN_OR_RETURN(Value value, ParseValue(true, 0));
      v.default_value = std::move(value);
    }
    RETURN_IF_ERROR(ParseDirectives(true, 0).status());
    return v;
  }

  StatusOr<TypeRef> ParseType(int depth) {
    RETURN_IF_ERROR(CheckDepth(depth));
    TypeRef type;
    if (Skip(Tok::kBracketL)) {
      RETURN_IF_ERROR(status_);
      ASSIGN_OR_RETURN(TypeRef item, ParseType(depth + 1));
      type.of.push_back(std::move(item));
      RETURN_IF_ERROR(Expect(Tok::kBracketR, "]"));
    } else {
      ASSIGN_OR_RETURN(type.name, ExpectName());
    }
    type.non_null = Skip(Tok::kBang);
    RETURN_IF_ERROR(status_);
    return type;
  }

  StatusOr<Fragment> ParseFragment() {
    Fragment f;
    f.location = token_.location;
    RETURN_IF_ERROR(Advance());
    if (token_.kind == Tok::kName && token_.value == "on") return Unexpected();
    ASSIGN_OR_RETURN(f.name, ExpectName());
    if (token_.kind != Tok::kName || token_.value != "on") {
      return SyntaxError("Expected \"on\", found " + Describe(token_) + ".", token_.location);
    }
    RETURN_IF_ERROR(Advance());
    ASSIGN_OR_RETURN(f.type_condition, ExpectName());
    ASSIGN_OR_RETURN(f.directives, ParseDirectives(false, 0));
    ASSIGN_OR_RETURN(f.selections, ParseSelectionSet(0));
    return f;
  }

  StatusOr<std::vector<Selection>> ParseSelectionSet(int depth) {
    RETURN_IF_ERROR(CheckDepth(depth));
    RETURN_IF_ERROR(Expect(Tok::kBraceL, "{"));
    std::vector<Selection> selections;
    do {
      ASSIGN_OR_RETURN(Selection s, ParseSelection(depth));
      selections.push_back(std::move(s));
    } while (!Skip(Tok::kBraceR));
    RETURN_IF_ERROR(status_);
    return selections;
  }

  StatusOr<Selection> ParseSelection(int depth) {
    Selection s;
    s.location = token_.location;
    if (Skip(Tok::kSpread)) {
      RETURN_IF_ERROR(status_);
      if (token_.kind == Tok::kName && token_.value != "on") {
        s.kind = Selection::Kind::kFragmentSpread;
        ASSIGN_OR_RETURN(s.name, ExpectName());
        ASSIGN_OR_RETURN(s.directives, ParseDirectives(false, depth));
        return s;
      }
      s.kind = Selection::Kind::kInlineFragment;
      if (token_.kind == Tok::kName) {
        RETURN_IF_ERROR(Advance());
        ASSIGN_OR_RETURN(s.type_condition, ExpectName());
      }
      ASSIGN_OR_RETURN(s.directives, ParseDirectives(false, depth));
      s.has_selection_set = true;
      ASSIGN_OR_RETURN(s.selections, ParseSelectionSet(depth + 1));
      return s;
    }
    ASSIGN_OR_RETURN(std::string first, ExpectName());
    if (Skip(Tok::kColon)) {
      RETURN_IF_ERROR(status_);
      s.alias = std::move(first);
      ASSIGN_OR_RETURN(s.name, ExpectName());
    } else {
      RETURN_IF_ERROR(status_);
      s.name = std::move(first);
    }
    ASSIGN_OR_RETURN(s.arguments, ParseArguments(false, depth));
    ASSIGN_OR_RETURN(s.directives, ParseDirectives(false, depth));
    if (token_.kind == Tok::kBraceL) {
      s.has_selection_set = true;
      ASSIGN_OR_RETURN(s.selections, ParseSelectionSet(depth + 1));
    }
    return s;
  }

  StatusOr<std::vector<Argument>> ParseArguments(bool is_const, int depth) {
    std::vector<Argument> args;
    if (!Skip(Tok::kParenL)) return args;
    RETURN_IF_ERROR(status_);
    do {
      Argument a;
      a.location = token_.location;
      ASSIGN_OR_RETURN(a.name, ExpectName());
      RETURN_IF_ERROR(Expect(Tok::kColon, ":"));
      ASSIGN_OR_RETURN(a.value, ParseValue(is_const, depth + 1));
      args.push_back(std::move(a));
    } while (!Skip(Tok::kParenR));
    RETURN_IF_ERROR(status_);
    return args;
  }

  StatusOr<std::vector<Directive>> ParseDirectives(bool is_const, int depth) {
    std::vector<Directive> directives;
    while (token_.kind == Tok::kAt) {
      Directive d;
      d.location = token_.location;
      RETURN_IF_ERROR(Advance());
      ASSIGN_OR_RETURN(d.name, ExpectName());
      ASSIGN_OR_RETURN(d.arguments, ParseArguments(is_const, depth));
      directives.push_back(std::move(d));
    }
    return directives;
  }

  StatusOr<Value> ParseValue(bool is_const, int depth) {
    RETURN_IF_ERROR(CheckDepth(depth));
    Value v;
    v.location = token_.location;
    switch (token_.kind) {
      case Tok::kDollar: {
        if (is_const) return Unexpected();
        RETURN_IF_ERROR(Advance());
        v.kind = Value::Kind::kVariable;
        ASSIGN_OR_RETURN(v.text, ExpectName());
        return v;
      }
      case Tok::kInt:
      case Tok::kFloat:
      case Tok::kString:
      case Tok::kBlockString:
        v.kind = token_.kind == Tok::kInt     ? Value::Kind::kInt
                 : token_.kind == Tok::kFloat ? Value::Kind::kFloat
                                              : Value::Kind::kString;
        v.text = std::move(token_.value);
        RETURN_IF_ERROR(Advance());
        return v;
      case Tok::kName:
        if (token_.value == "true" || token_.value == "false") {
          v.kind = Value::Kind::kBoolean;
          v.boolean = token_.value == "true";
        } else if (token_.value == "null") {
          v.kind = Value::Kind::kNull;
        } else {
          v.kind = Value::Kind::kEnum;
          v.text = token_.value;
        }
        RETURN_IF_ERROR(Advance());
        return v;
      case Tok::kBracketL:
        v.kind = Value::Kind::kList;
        RETURN_IF_ERROR(Advance());
        while (!Skip(Tok::kBracketR)) {
          RETURN_IF_ERROR(status_);
          ASSIGN_OR_RETURN(Value item, ParseValue(is_const, depth + 1));
          v.list.push_back(std::move(item));
        }
        RETURN_IF_ERROR(status_);
        return v;
      case Tok::kBraceL:
        v.kind = Value::Kind::kObject;
        RETURN_IF_ERROR(Advance());
        while (!Skip(Tok::kBraceR)) {
          RETURN_IF_ERROR(status_);
          ASSIGN_OR_RETURN(std::string name, ExpectName());
          RETURN_IF_ERROR(Expect(Tok::kColon, ":"));
          ASSIGN_OR_RETURN(Value field, ParseValue(is_const, depth + 1));
          v.fields.push_back(ObjectField{std::move(name), std::move(field)});
        }
        RETURN_IF_ERROR(status_);
        return v;
      default:
        return Unexpected();
    }
  }

  Lexer lexer_;
  ParseLimits limits_;
  Token token_;
  size_t tokens_ = 0;
  Status status_;  // the result of the last Skip's advance
};

}  // namespace

StatusOr<Document> Parse(std::string_view source, ParseLimits limits) {
  Parser parser(source, limits);
  return parser.ParseDocument();
}

}  // namespace cairn::graphql
