#include "api/inference/json_input.h"

#include <charconv>
#include <cstring>

namespace cairn::inference::internal {

simdjson::error_code IterateBody(std::string_view body, od::document& doc) {
  // One parser and buffer per thread, reused: a parse allocates nothing once they have grown.
  thread_local od::parser parser;
  thread_local std::string buffer;
  if (buffer.size() < body.size() + simdjson::SIMDJSON_PADDING) {
    buffer.resize(body.size() + simdjson::SIMDJSON_PADDING);
  }
  std::memcpy(buffer.data(), body.data(), body.size());
  std::memset(buffer.data() + body.size(), 0, simdjson::SIMDJSON_PADDING);
  return parser.iterate(buffer.data(), body.size(), buffer.size()).get(doc);
}

Status MalformedJson(simdjson::error_code error) {
  return InvalidArgument(std::string("Malformed JSON in request body: ") +
                         simdjson::error_message(error));
}

Status CheckConsumed(od::document& doc) {
  const char* location = nullptr;
  if (doc.current_location().get(location) == simdjson::SUCCESS) {
    return InvalidArgument("Malformed JSON in request body: more than one JSON value");
  }
  return Status::Ok();
}

std::string Quote(od::value& value) {
  std::string_view token = value.raw_json_token();
  while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' ||
                            token.back() == '\t' || token.back() == ',' || token.back() == ']' ||
                            token.back() == '}')) {
    token.remove_suffix(1);
  }
  if (token.size() > 40) return std::string(token.substr(0, 40)) + "...";
  return std::string(token);
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out.push_back(',');
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), shape[i]);
    out.append(buf, end);
  }
  out.push_back(']');
  return out;
}

}  // namespace cairn::inference::internal
