#include "http/message.h"

#include <algorithm>
#include <array>
#include <utility>

#include "base/ascii.h"
#include "base/uri.h"

namespace cairn::http {
namespace {

// Form decoding: '+' is a space, %XX an octet.
Status FormDecode(std::string_view in, std::string* out) {
  StatusOr<std::string> decoded = PercentDecode(in, PlusSign::kSpace);
  if (!decoded.ok()) return InvalidArgument("malformed percent-encoding in query string");
  *out = std::move(decoded).value();
  return Status::Ok();
}

constexpr std::array<std::string_view, 8> kMethodNames = {"GET",   "HEAD",   "POST",    "PUT",
                                                          "PATCH", "DELETE", "OPTIONS", "OTHER"};

}  // namespace

std::string_view MethodName(Method m) { return kMethodNames[static_cast<size_t>(m)]; }

Method ParseMethod(std::string_view name) {
  for (size_t i = 0; i + 1 < kMethodNames.size(); ++i) {
    if (kMethodNames[i] == name) return static_cast<Method>(i);
  }
  return Method::kOther;
}

StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQueryString(
    std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    auto& [key, value] = out.emplace_back();
    RETURN_IF_ERROR(FormDecode(piece.substr(0, eq), &key));
    if (eq != std::string_view::npos) RETURN_IF_ERROR(FormDecode(piece.substr(eq + 1), &value));
  }
  return out;
}

void Headers::Set(std::string name, std::string value) {
  std::erase_if(items_, [&](const auto& item) { return EqualsIgnoreCase(item.first, name); });
  items_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::vector<std::string> Request::QueryParams(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : query) {
    if (key == name) out.push_back(value);
  }
  return out;
}

std::string Request::PathParam(std::string_view name) const {
  auto it = path_params.find(name);
  return it == path_params.end() ? std::string() : it->second;
}

}  // namespace cairn::http
