#include "api/mlflow/request_message.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "base/ascii.h"
#include "base/json.h"

namespace cairn::api::mlflow {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string_view MediaType(std::string_view content_type) {
  size_t semi = content_type.find(';');
  std::string_view type = content_type.substr(0, semi);
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) {
    type.remove_suffix(1);
  }
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front()))) {
    type.remove_prefix(1);
  }
  return type;
}

}  // namespace

StatusOr<boost::json::object> ReadMessage(const http::Request& request,
                                          const std::vector<std::string_view>& repeated) {
  bool is_get = request.method == http::Method::kGet || request.method == http::Method::kHead;
  if (is_get && !request.query.empty()) {
    boost::json::object obj;
    for (const auto& [key, value] : request.query) {
      bool is_repeated = std::find(repeated.begin(), repeated.end(), key) != repeated.end();
      if (is_repeated) {
        auto it = obj.find(key);
        if (it == obj.end()) it = obj.emplace(key, boost::json::array()).first;
        it->value().as_array().emplace_back(value);
      } else if (obj.find(key) == obj.end()) {
        obj.emplace(key, value);
      }
    }
    return obj;
  }
  if (request.method == http::Method::kPost || request.method == http::Method::kPut) {
    auto content_type = request.headers.Get("Content-Type");
    if (!content_type || !EqualsIgnoreCase(MediaType(*content_type), "application/json")) {
      return InvalidArgument(
          "Bad Request. Content-Type must be one of ['application/json'], got '" +
          std::string(content_type.value_or("")) + "'");
    }
  }
  return json::ParseObject(request.body);
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += kB64[n & 63];
  }
  if (i < in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

StatusOr<std::string> Base64Decode(std::string_view in) {
  std::array<int, 256> table;
  table.fill(-1);
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(kB64[i])] = i;
  table['-'] = 62;  // accept the URL-safe alphabet too
  table['_'] = 63;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : in) {
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return InvalidArgument("invalid base64");
    int v = table[static_cast<uint8_t>(c)];
    if (v < 0) return InvalidArgument("invalid base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (padding > 2) return InvalidArgument("invalid base64");
  return out;
}

std::string EncodePageToken(int64_t offset) {
  return Base64Encode(R"({"offset": )" + std::to_string(offset) + "}");
}

StatusOr<int64_t> DecodePageToken(std::string_view token) {
  if (token.empty()) return int64_t{0};
  auto invalid = [] { return InvalidArgument("Invalid page token, could not base64-decode"); };
  if (token.size() > 1024) return invalid();
  auto decoded = Base64Decode(token);
  if (!decoded.ok()) return invalid();
  auto obj = json::ParseObject(*decoded);
  if (!obj.ok()) return InvalidArgument("Invalid page token, decoded value=" + *decoded);
  auto offset = json::GetInt64(*obj, "offset");
  if (!offset.ok() || !offset->has_value() || **offset < 0) {
    return InvalidArgument("Invalid page token, decoded value=" + *decoded);
  }
  return **offset;
}

http::Permission MlflowRoutePermission(http::Method method, std::string_view path) {
  if (method == http::Method::kGet || method == http::Method::kHead) return http::Permission::kRead;
  std::string_view last = path.substr(path.rfind('/') + 1);
  if (method == http::Method::kPost && (last == "search" || last.starts_with("get"))) {
    return http::Permission::kRead;
  }
  return http::Permission::kWrite;
}

}  // namespace cairn::api::mlflow
