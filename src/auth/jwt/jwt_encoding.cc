#include "auth/jwt/jwt_encoding.h"

#include <algorithm>
#include <array>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <cstdint>
#include <vector>

namespace cairn::auth::internal {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}
constexpr std::array<int8_t, 256> kDecode = MakeDecodeTable();

// A SAX handler that only checks member names for duplicates; the value itself is built by a
// second, ordinary parse once this one has passed.
class DuplicateKeyChecker {
 public:
  constexpr static std::size_t max_object_size = -1;
  constexpr static std::size_t max_array_size = -1;
  constexpr static std::size_t max_key_size = -1;
  constexpr static std::size_t max_string_size = -1;

  bool duplicate() const { return duplicate_; }

  bool on_document_begin(boost::json::error_code&) { return true; }
  bool on_document_end(boost::json::error_code&) { return true; }
  bool on_object_begin(boost::json::error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, boost::json::error_code& ec) {
    std::vector<std::string>& keys = keys_.back();
    std::sort(keys.begin(), keys.end());
    if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) {
      duplicate_ = true;
      ec = boost::json::error::syntax;  // stops the parse
      return false;
    }
    keys_.pop_back();
    return true;
  }
  bool on_array_begin(boost::json::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::json::error_code&) { return true; }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::json::error_code&) {
    key_.append(s.data(), s.size());
    keys_.back().push_back(std::move(key_));
    key_.clear();
    return true;
  }
  bool on_string_part(boost::json::string_view, std::size_t, boost::json::error_code&) {
    return true;
  }
  bool on_string(boost::json::string_view, std::size_t, boost::json::error_code&) { return true; }
  bool on_number_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_int64(std::int64_t, boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_double(double, boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_bool(bool, boost::json::error_code&) { return true; }
  bool on_null(boost::json::error_code&) { return true; }
  bool on_comment_part(boost::json::string_view, boost::json::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::json::error_code&) { return true; }

 private:
  std::vector<std::vector<std::string>> keys_;
  std::string key_;
  bool duplicate_ = false;
};

}  // namespace

StatusOr<std::string> Base64UrlDecode(std::string_view in, std::string_view what) {
  auto fail = [&](std::string_view why) {
    return InvalidArgument(std::string(what) + ": invalid base64url: " + std::string(why));
  };
  if (in.size() % 4 == 1) return fail("impossible length");
  std::string out;
  out.reserve(in.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int8_t v = kDecode[static_cast<unsigned char>(c)];
    if (v < 0) return fail(c == '=' ? "padding" : "character outside the alphabet");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // 2 or 4 bits are left over after 2 or 3 final characters; an encoder sets them to zero.
  if ((acc & ((1u << bits) - 1)) != 0) return fail("non-zero trailing bits");
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

StatusOr<boost::json::object> ParseStrictJsonObject(std::string_view text, std::string_view what) {
  boost::json::parse_options options;  // strict JSON: no comments, no trailing commas
  options.max_depth = 32;
  boost::json::basic_parser<DuplicateKeyChecker> checker(options);
  boost::json::error_code ec;
  const size_t used = checker.write_some(false, text.data(), text.size(), ec);
  if (checker.handler().duplicate()) {
    return InvalidArgument(std::string(what) + ": duplicate member name in a JSON object");
  }
  if (ec || used != text.size()) {
    return InvalidArgument(std::string(what) + ": not valid JSON");
  }
  boost::json::value value = boost::json::parse(text, ec, {}, options);
  if (ec) return InvalidArgument(std::string(what) + ": not valid JSON");
  if (!value.is_object()) return InvalidArgument(std::string(what) + ": not a JSON object");
  return std::move(value.as_object());
}

}  // namespace cairn::auth::internal
