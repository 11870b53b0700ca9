#include "cli/common.h"

#include <algorithm>

#include "cli/http_client.h"

namespace cairn::cli {

namespace bj = boost::json;

std::string JsonText(const bj::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end()) return "";
  const bj::value& v = it->value();
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_uint64()) return std::to_string(v.as_uint64());
  return "";
}

int64_t JsonInt(const bj::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end()) return 0;
  if (it->value().is_int64()) return it->value().as_int64();
  if (it->value().is_uint64()) return static_cast<int64_t>(it->value().as_uint64());
  return 0;
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

Status UnexpectedAnswer(std::string_view body) {
  return Internal("unexpected answer from the server: " +
                  std::string(body.substr(0, std::min<size_t>(body.size(), 200))));
}

StatusOr<bj::object> ParseJsonObject(std::string_view body) {
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  if (ec || !v.is_object()) return UnexpectedAnswer(body);
  return std::move(v.as_object());
}

std::string FormatError(int status, std::string_view body) {
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  if (!ec && v.is_object()) {
    const bj::object& obj = v.as_object();
    auto code = obj.find("error_code");
    if (code != obj.end() && code->value().is_string()) {
      return "error: " + OneLine(code->value().as_string()) + ": " +
             OneLine(JsonText(obj, "message"));
    }
    auto error = obj.find("error");
    if (error != obj.end() && error->value().is_string() && obj.size() == 1) {
      return "error: HTTP " + std::to_string(status) + ": " + OneLine(error->value().as_string());
    }
  }
  std::string text = OneLine(body.substr(0, std::min<size_t>(body.size(), 300)));
  text.erase(0, text.find_first_not_of(' '));
  text.erase(text.find_last_not_of(' ') + 1);
  return "error: HTTP " + std::to_string(status) + (text.empty() ? "" : ": " + text);
}

StatusOr<std::string> ChooseServer(const std::string& flag, const std::optional<std::string>& env) {
  std::string server;
  if (!flag.empty()) {
    server = flag;
  } else if (env && !env->empty()) {
    server = *env;
  } else {
    server = std::string(kDefaultServer);
  }
  RETURN_IF_ERROR(ParseServerAddress(server).status());
  return server;
}

}  // namespace cairn::cli
