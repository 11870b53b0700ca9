#include "base/uri.h"

#include <cctype>
#include <string>

namespace cairn {
namespace {

bool IsSchemeChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

StatusOr<Uri> Uri::Parse(std::string_view text) {
  Uri uri;
  std::string_view rest = text;
  // A scheme needs at least two characters so "C:\x" style paths are not taken as schemes.
  size_t colon = rest.find(':');
  if (colon != std::string_view::npos && colon >= 2 &&
      std::isalpha(static_cast<unsigned char>(rest[0]))) {
    bool valid = true;
    for (size_t i = 0; i < colon; ++i) valid = valid && IsSchemeChar(rest[i]);
    if (valid) {
      uri.scheme = std::string(rest.substr(0, colon));
      for (char& c : uri.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      rest.remove_prefix(colon + 1);
    }
  }
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    uri.fragment = std::string(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
  }
  size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    uri.query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  if (!uri.scheme.empty() && rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);
    size_t slash = rest.find('/');
    uri.has_authority = true;
    uri.authority = std::string(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  uri.path = std::string(rest);
  if (uri.scheme.empty() && uri.path.empty()) return InvalidArgument("empty URI");
  return uri;
}

std::string Uri::ToString() const {
  std::string out;
  if (!scheme.empty()) out += scheme + ":";
  if (has_authority) out += "//" + authority;
  out += path;
  if (!query.empty()) out += "?" + query;
  if (!fragment.empty()) out += "#" + fragment;
  return out;
}

StatusOr<std::string> PercentDecode(std::string_view in, PlusSign plus) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && plus == PlusSign::kSpace) {
      out += ' ';
      continue;
    }
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return InvalidArgument("malformed percent-encoding at offset " + std::to_string(i));
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string PercentEncode(std::string_view in, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

}  // namespace cairn
