#include "api/mlflow/otlp_trace_request.h"

#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "api/mlflow/request_message.h"
#include "base/utf8.h"

namespace cairn::api::mlflow::otlp {
namespace {

namespace bj = boost::json;

// ---- Protobuf wire format ----

enum class WireType : int { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

Status Malformed(std::string_view what) {
  return InvalidArgument("Malformed OTLP protobuf: " + std::string(what));
}

// A cursor over one message's bytes.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : data_(bytes) {}
  bool done() const { return pos_ >= data_.size(); }

  StatusOr<uint64_t> Varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return Malformed("truncated varint");
      auto byte = static_cast<uint8_t>(data_[pos_++]);
      if (shift == 63 && byte > 1) return Malformed("varint overflows 64 bits");
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return Malformed("varint longer than 10 bytes");
  }

  StatusOr<uint64_t> Fixed(size_t n) {
    if (data_.size() - pos_ < n) return Malformed("truncated fixed-width field");
    uint64_t value = 0;
    for (size_t i = 0; i < n; ++i) {
      value |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += n;
    return value;
  }

  StatusOr<std::string_view> Bytes() {
    ASSIGN_OR_RETURN(uint64_t n, Varint());
    if (n > data_.size() - pos_) return Malformed("length runs past the end of the message");
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  // The next field's number and wire type.
  StatusOr<std::pair<uint32_t, WireType>> Tag() {
    ASSIGN_OR_RETURN(uint64_t key, Varint());
    uint64_t number = key >> 3;
    if (number == 0 || number > 536870911) return Malformed("invalid field number");
    auto type = static_cast<int>(key & 7);
    if (type != 0 && type != 1 && type != 2 && type != 5) return Malformed("unsupported wire type");
    return std::pair{static_cast<uint32_t>(number), static_cast<WireType>(type)};
  }

  Status Skip(WireType type) {
    switch (type) {
      case WireType::kVarint:
        return Varint().status();
      case WireType::kFixed64:
        return Fixed(8).status();
      case WireType::kFixed32:
        return Fixed(4).status();
      case WireType::kLen:
        return Bytes().status();
    }
    return Malformed("unsupported wire type");
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

Status Expect(WireType actual, WireType expected) {
  return actual == expected ? Status::Ok() : Malformed("wire type does not match the field");
}

StatusOr<std::string> Utf8(std::string_view bytes) {
  if (!IsValidUtf8(bytes)) return Malformed("string field is not valid UTF-8");
  return std::string(bytes);
}

// Calls `field(number, type, reader)` for each field; it returns false for fields it skips.
template <typename Fn>
Status ForEachField(std::string_view bytes, Fn&& field) {
  Reader r(bytes);
  while (!r.done()) {
    ASSIGN_OR_RETURN(auto tag, r.Tag());
    ASSIGN_OR_RETURN(bool handled, field(tag.first, tag.second, r));
    if (!handled) RETURN_IF_ERROR(r.Skip(tag.second));
  }
  return Status::Ok();
}

StatusOr<KeyValue> DecodeKeyValue(std::string_view bytes, int depth);

StatusOr<bj::value> DecodeAnyValue(std::string_view bytes, int depth) {
  if (depth > kMaxValueDepth) return Malformed("attribute values nested too deeply");
  bj::value out;  // null unless a oneof member is set; the last one set wins
  RETURN_IF_ERROR(ForEachField(bytes, [&](uint32_t n, WireType t, Reader& r) -> StatusOr<bool> {
    switch (n) {
      case 1: {  // string_value
        RETURN_IF_ERROR(Expect(t, WireType::kLen));
        ASSIGN_OR_RETURN(std::string_view s, r.Bytes());
        ASSIGN_OR_RETURN(std::string text, Utf8(s));
        out = bj::string(text);
        return true;
      }
      case 2: {  // bool_value
        RETURN_IF_ERROR(Expect(t, WireType::kVarint));
        ASSIGN_OR_RETURN(uint64_t v, r.Varint());
        out = v != 0;
        return true;
      }
      case 3: {  // int_value
        RETURN_IF_ERROR(Expect(t, WireType::kVarint));
        ASSIGN_OR_RETURN(uint64_t v, r.Varint());
        out = static_cast<int64_t>(v);
        return true;
      }
      case 4: {  // double_value
        RETURN_IF_ERROR(Expect(t, WireType::kFixed64));
        ASSIGN_OR_RETURN(uint64_t v, r.Fixed(8));
        out = std::bit_cast<double>(v);
        return true;
      }
      case 5: {  // array_value: ArrayValue { repeated AnyValue values = 1; }
        RETURN_IF_ERROR(Expect(t, WireType::kLen));
        ASSIGN_OR_RETURN(std::string_view array, r.Bytes());
        bj::array items;
        RETURN_IF_ERROR(
            ForEachField(array, [&](uint32_t an, WireType at, Reader& ar) -> StatusOr<bool> {
              if (an != 1) return false;
              RETURN_IF_ERROR(Expect(at, WireType::kLen));
              ASSIGN_OR_RETURN(std::string_view item, ar.Bytes());
              ASSIGN_OR_RETURN(bj::value v, DecodeAnyValue(item, depth + 1));
              items.push_back(std::move(v));
              return true;
            }));
        out = std::move(items);
        return true;
      }
      case 6: {  // kvlist_value: KeyValueList { repeated KeyValue values = 1; }
        RETURN_IF_ERROR(Expect(t, WireType::kLen));
        ASSIGN_OR_RETURN(std::string_view list, r.Bytes());
        bj::object entries;
        RETURN_IF_ERROR(
            ForEachField(list, [&](uint32_t ln, WireType lt, Reader& lr) -> StatusOr<bool> {
              if (ln != 1) return false;
              RETURN_IF_ERROR(Expect(lt, WireType::kLen));
              ASSIGN_OR_RETURN(std::string_view item, lr.Bytes());
              ASSIGN_OR_RETURN(KeyValue kv, DecodeKeyValue(item, depth + 1));
              entries[kv.key] = std::move(kv.value);
              return true;
            }));
        out = std::move(entries);
        return true;
      }
      case 7: {  // bytes_value
        RETURN_IF_ERROR(Expect(t, WireType::kLen));
        ASSIGN_OR_RETURN(std::string_view b, r.Bytes());
        out = bj::string(Base64Encode(b));
        return true;
      }
      default:
        return false;
    }
  }));
  return out;
}

StatusOr<KeyValue> DecodeKeyValue(std::string_view bytes, int depth) {
  KeyValue kv;
  RETURN_IF_ERROR(ForEachField(bytes, [&](uint32_t n, WireType t, Reader& r) -> StatusOr<bool> {
    if (n == 1) {
      RETURN_IF_ERROR(Expect(t, WireType::kLen));
      ASSIGN_OR_RETURN(std::string_view s, r.Bytes());
      ASSIGN_OR_RETURN(kv.key, Utf8(s));
      return true;
    }
    if (n == 2) {
      RETURN_IF_ERROR(Expect(t, WireType::kLen));
      ASSIGN_OR_RETURN(std::string_view v, r.Bytes());
      ASSIGN_OR_RETURN(kv.value, DecodeAnyValue(v, depth + 1));
      return true;
    }
    return false;
  }));
  return kv;
}

// A repeated KeyValue field at `n`.
StatusOr<bool> Attribute(uint32_t n, uint32_t expected, WireType t, Reader& r,
                         std::vector<KeyValue>& out) {
  if (n != expected) return false;
  RETURN_IF_ERROR(Expect(t, WireType::kLen));
  ASSIGN_OR_RETURN(std::string_view bytes, r.Bytes());
  ASSIGN_OR_RETURN(KeyValue kv, DecodeKeyValue(bytes, 0));
  out.push_back(std::move(kv));
  return true;
}

StatusOr<std::string> LenField(WireType t, Reader& r) {
  RETURN_IF_ERROR(Expect(t, WireType::kLen));
  ASSIGN_OR_RETURN(std::string_view bytes, r.Bytes());
  return std::string(bytes);
}

StatusOr<uint64_t> Fixed64Field(WireType t, Reader& r) {
  RETURN_IF_ERROR(Expect(t, WireType::kFixed64));
  return r.Fixed(8);
}

StatusOr<Event> DecodeEvent(std::string_view bytes) {
  Event e;
  RETURN_IF_ERROR(ForEachField(bytes, [&](uint32_t n, WireType t, Reader& r) -> StatusOr<bool> {
    switch (n) {
      case 1: {
        ASSIGN_OR_RETURN(e.time_unix_nano, Fixed64Field(t, r));
        return true;
      }
      case 2: {
        ASSIGN_OR_RETURN(std::string name, LenField(t, r));
        ASSIGN_OR_RETURN(e.name, Utf8(name));
        return true;
      }
      default:
        return Attribute(n, 3, t, r, e.attributes);
    }
  }));
  return e;
}

Status DecodeStatus(std::string_view bytes, Span& span) {
  return ForEachField(bytes, [&](uint32_t n, WireType t, Reader& r) -> StatusOr<bool> {
    if (n == 2) {
      ASSIGN_OR_RETURN(std::string message, LenField(t, r));
      ASSIGN_OR_RETURN(span.status_message, Utf8(message));
      return true;
    }
    if (n == 3) {
      RETURN_IF_ERROR(Expect(t, WireType::kVarint));
      ASSIGN_OR_RETURN(uint64_t code, r.Varint());
      span.status_code = static_cast<int32_t>(code);
      return true;
    }
    return false;
  });
}

StatusOr<Span> DecodeSpan(std::string_view bytes) {
  Span span;
  RETURN_IF_ERROR(ForEachField(bytes, [&](uint32_t n, WireType t, Reader& r) -> StatusOr<bool> {
    switch (n) {
      case 1: {
        ASSIGN_OR_RETURN(span.trace_id, LenField(t, r));
        return true;
      }
      case 2: {
        ASSIGN_OR_RETURN(span.span_id, LenField(t, r));
        return true;
      }
      case 4: {
        ASSIGN_OR_RETURN(span.parent_span_id, LenField(t, r));
        return true;
      }
      case 5: {
        ASSIGN_OR_RETURN(std::string name, LenField(t, r));
        ASSIGN_OR_RETURN(span.name, Utf8(name));
        return true;
      }
      case 7: {
        ASSIGN_OR_RETURN(span.start_time_unix_nano, Fixed64Field(t, r));
        return true;
      }
      case 8: {
        ASSIGN_OR_RETURN(span.end_time_unix_nano, Fixed64Field(t, r));
        return true;
      }
      case 11: {
        ASSIGN_OR_RETURN(std::string event, LenField(t, r));
        ASSIGN_OR_RETURN(Event e, DecodeEvent(event));
        span.events.push_back(std::move(e));
        return true;
      }
      case 15: {
        ASSIGN_OR_RETURN(std::string status, LenField(t, r));
        RETURN_IF_ERROR(DecodeStatus(status, span));
        return true;
      }
      default:
        return Attribute(n, 9, t, r, span.attributes);
    }
  }));
  return span;
}

StatusOr<ResourceSpans> DecodeResourceSpans(std::string_view bytes) {
  ResourceSpans out;
  RETURN_IF_ERROR(ForEachField(bytes, [&](uint32_t n, WireType t, Reader& r) -> StatusOr<bool> {
    if (n == 1) {  // Resource { repeated KeyValue attributes = 1; }
      ASSIGN_OR_RETURN(std::string resource, LenField(t, r));
      RETURN_IF_ERROR(
          ForEachField(resource, [&](uint32_t rn, WireType rt, Reader& rr) -> StatusOr<bool> {
            return Attribute(rn, 1, rt, rr, out.resource_attributes);
          }));
      return true;
    }
    if (n == 2) {  // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
      ASSIGN_OR_RETURN(std::string scope, LenField(t, r));
      RETURN_IF_ERROR(
          ForEachField(scope, [&](uint32_t sn, WireType st, Reader& sr) -> StatusOr<bool> {
            if (sn != 2) return false;
            ASSIGN_OR_RETURN(std::string span, LenField(st, sr));
            ASSIGN_OR_RETURN(Span decoded, DecodeSpan(span));
            out.spans.push_back(std::move(decoded));
            return true;
          }));
      return true;
    }
    return false;
  }));
  return out;
}

// ---- OTLP JSON ----

Status BadJson(std::string_view what) {
  return InvalidArgument("Malformed OTLP JSON: " + std::string(what));
}

// The member named `camel` or `snake`; `hex` tells which was found where it matters.
const bj::value* Member(const bj::object& o, std::string_view camel, std::string_view snake,
                        bool* camel_found = nullptr) {
  if (const bj::value* v = o.if_contains(camel)) {
    if (camel_found != nullptr) *camel_found = true;
    return v->is_null() ? nullptr : v;
  }
  if (camel_found != nullptr) *camel_found = false;
  const bj::value* v = o.if_contains(snake);
  return v == nullptr || v->is_null() ? nullptr : v;
}

StatusOr<const bj::array*> ArrayMember(const bj::object& o, std::string_view camel,
                                       std::string_view snake) {
  const bj::value* v = Member(o, camel, snake);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) return BadJson("'" + std::string(camel) + "' must be an array");
  return &v->get_array();
}

StatusOr<const bj::object*> ObjectMember(const bj::object& o, std::string_view camel,
                                         std::string_view snake) {
  const bj::value* v = Member(o, camel, snake);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) return BadJson("'" + std::string(camel) + "' must be an object");
  return &v->get_object();
}

StatusOr<std::string> StringMember(const bj::object& o, std::string_view camel,
                                   std::string_view snake) {
  const bj::value* v = Member(o, camel, snake);
  if (v == nullptr) return std::string();
  if (!v->is_string()) return BadJson("'" + std::string(camel) + "' must be a string");
  return std::string(v->get_string());
}

// A 64-bit integer as a JSON number or a decimal string.
StatusOr<uint64_t> Uint64Member(const bj::object& o, std::string_view camel,
                                std::string_view snake) {
  const bj::value* v = Member(o, camel, snake);
  if (v == nullptr) return uint64_t{0};
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<uint64_t>(v->get_int64());
  if (v->is_string()) {
    std::string_view s = v->get_string();
    uint64_t out = 0;
    if (s.empty() || s.size() > 20) return BadJson("'" + std::string(camel) + "' is not a uint64");
    for (char c : s) {
      if (c < '0' || c > '9') return BadJson("'" + std::string(camel) + "' is not a uint64");
      uint64_t next = out * 10 + static_cast<uint64_t>(c - '0');
      if (next / 10 != out) return BadJson("'" + std::string(camel) + "' is not a uint64");
      out = next;
    }
    return out;
  }
  return BadJson("'" + std::string(camel) + "' is not a uint64");
}

StatusOr<std::string> HexBytes(std::string_view hex) {
  if (hex.size() % 2 != 0) return BadJson("an id is not hex");
  std::string out;
  out.reserve(hex.size() / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return BadJson("an id is not hex");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// An id: hex under its camelCase name (the OTLP spec), base64 under its proto name.
StatusOr<std::string> IdMember(const bj::object& o, std::string_view camel,
                               std::string_view snake) {
  bool camel_found = false;
  const bj::value* v = Member(o, camel, snake, &camel_found);
  if (v == nullptr) return std::string();
  if (!v->is_string()) return BadJson("'" + std::string(camel) + "' must be a string");
  if (camel_found) return HexBytes(v->get_string());
  StatusOr<std::string> decoded = Base64Decode(v->get_string());
  if (!decoded.ok()) return BadJson("'" + std::string(snake) + "' is not base64");
  return decoded;
}

StatusOr<std::vector<KeyValue>> KeyValuesJson(const bj::array* items, int depth);

StatusOr<bj::value> AnyValueJson(const bj::value& v, int depth) {
  if (depth > kMaxValueDepth) return BadJson("attribute values nested too deeply");
  if (!v.is_object()) return BadJson("an AnyValue must be an object");
  const bj::object& o = v.get_object();
  bj::value out;
  if (const bj::value* s = Member(o, "stringValue", "string_value")) {
    if (!s->is_string()) return BadJson("'stringValue' must be a string");
    out = s->get_string();
  }
  if (const bj::value* b = Member(o, "boolValue", "bool_value")) {
    if (!b->is_bool()) return BadJson("'boolValue' must be a boolean");
    out = b->get_bool();
  }
  if (const bj::value* i = Member(o, "intValue", "int_value")) {
    if (i->is_int64()) {
      out = i->get_int64();
    } else if (i->is_string()) {
      std::string_view s = i->get_string();
      bool negative = !s.empty() && s.front() == '-';
      std::string_view digits = negative ? s.substr(1) : s;
      if (digits.empty() || digits.size() > 19) return BadJson("'intValue' is not an int64");
      int64_t n = 0;
      for (char c : digits) {
        if (c < '0' || c > '9') return BadJson("'intValue' is not an int64");
        if (n > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) {
          return BadJson("'intValue' is not an int64");
        }
        n = n * 10 + (c - '0');
      }
      out = negative ? -n : n;
    } else {
      return BadJson("'intValue' is not an int64");
    }
  }
  if (const bj::value* d = Member(o, "doubleValue", "double_value")) {
    if (!d->is_number()) return BadJson("'doubleValue' must be a number");
    out = d->to_number<double>();
  }
  if (const bj::value* b = Member(o, "bytesValue", "bytes_value")) {
    if (!b->is_string()) return BadJson("'bytesValue' must be a base64 string");
    out = b->get_string();
  }
  ASSIGN_OR_RETURN(const bj::object* array, ObjectMember(o, "arrayValue", "array_value"));
  if (array != nullptr) {
    ASSIGN_OR_RETURN(const bj::array* values, ArrayMember(*array, "values", "values"));
    bj::array items;
    if (values != nullptr) {
      for (const bj::value& item : *values) {
        ASSIGN_OR_RETURN(bj::value decoded, AnyValueJson(item, depth + 1));
        items.push_back(std::move(decoded));
      }
    }
    out = std::move(items);
  }
  ASSIGN_OR_RETURN(const bj::object* list, ObjectMember(o, "kvlistValue", "kvlist_value"));
  if (list != nullptr) {
    ASSIGN_OR_RETURN(const bj::array* values, ArrayMember(*list, "values", "values"));
    ASSIGN_OR_RETURN(std::vector<KeyValue> entries, KeyValuesJson(values, depth + 1));
    bj::object obj;
    for (KeyValue& kv : entries) obj[kv.key] = std::move(kv.value);
    out = std::move(obj);
  }
  return out;
}

StatusOr<std::vector<KeyValue>> KeyValuesJson(const bj::array* items, int depth) {
  std::vector<KeyValue> out;
  if (items == nullptr) return out;
  for (const bj::value& item : *items) {
    if (!item.is_object()) return BadJson("an attribute must be an object");
    KeyValue kv;
    ASSIGN_OR_RETURN(kv.key, StringMember(item.get_object(), "key", "key"));
    if (const bj::value* v = item.get_object().if_contains("value"); v && !v->is_null()) {
      ASSIGN_OR_RETURN(kv.value, AnyValueJson(*v, depth + 1));
    }
    out.push_back(std::move(kv));
  }
  return out;
}

StatusOr<std::vector<KeyValue>> AttributesJson(const bj::object& o) {
  ASSIGN_OR_RETURN(const bj::array* items, ArrayMember(o, "attributes", "attributes"));
  return KeyValuesJson(items, 0);
}

StatusOr<int64_t> StatusCodeJson(const bj::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= 0x7fffffff) return static_cast<int64_t>(v.get_uint64());
  if (v.is_string()) {
    std::string_view s = v.get_string();
    if (s == "STATUS_CODE_UNSET") return 0;
    if (s == "STATUS_CODE_OK") return 1;
    if (s == "STATUS_CODE_ERROR") return 2;
  }
  return BadJson("unknown status code");
}

StatusOr<Span> SpanJson(const bj::value& v) {
  if (!v.is_object()) return BadJson("a span must be an object");
  const bj::object& o = v.get_object();
  Span span;
  ASSIGN_OR_RETURN(span.trace_id, IdMember(o, "traceId", "trace_id"));
  ASSIGN_OR_RETURN(span.span_id, IdMember(o, "spanId", "span_id"));
  ASSIGN_OR_RETURN(span.parent_span_id, IdMember(o, "parentSpanId", "parent_span_id"));
  ASSIGN_OR_RETURN(span.name, StringMember(o, "name", "name"));
  ASSIGN_OR_RETURN(span.start_time_unix_nano,
                   Uint64Member(o, "startTimeUnixNano", "start_time_unix_nano"));
  ASSIGN_OR_RETURN(span.end_time_unix_nano,
                   Uint64Member(o, "endTimeUnixNano", "end_time_unix_nano"));
  ASSIGN_OR_RETURN(span.attributes, AttributesJson(o));
  ASSIGN_OR_RETURN(const bj::array* events, ArrayMember(o, "events", "events"));
  if (events != nullptr) {
    for (const bj::value& ev : *events) {
      if (!ev.is_object()) return BadJson("an event must be an object");
      Event e;
      ASSIGN_OR_RETURN(e.name, StringMember(ev.get_object(), "name", "name"));
      ASSIGN_OR_RETURN(e.time_unix_nano,
                       Uint64Member(ev.get_object(), "timeUnixNano", "time_unix_nano"));
      ASSIGN_OR_RETURN(e.attributes, AttributesJson(ev.get_object()));
      span.events.push_back(std::move(e));
    }
  }
  ASSIGN_OR_RETURN(const bj::object* status, ObjectMember(o, "status", "status"));
  if (status != nullptr) {
    ASSIGN_OR_RETURN(span.status_message, StringMember(*status, "message", "message"));
    if (const bj::value* code = Member(*status, "code", "code")) {
      ASSIGN_OR_RETURN(span.status_code, StatusCodeJson(*code));
    }
  }
  return span;
}

}  // namespace

StatusOr<ExportTraceServiceRequest> DecodeExportTraceServiceRequest(std::string_view bytes) {
  ExportTraceServiceRequest request;
  RETURN_IF_ERROR(ForEachField(bytes, [&](uint32_t n, WireType t, Reader& r) -> StatusOr<bool> {
    if (n != 1) return false;
    ASSIGN_OR_RETURN(std::string resource_spans, LenField(t, r));
    ASSIGN_OR_RETURN(ResourceSpans decoded, DecodeResourceSpans(resource_spans));
    request.resource_spans.push_back(std::move(decoded));
    return true;
  }));
  return request;
}

StatusOr<ExportTraceServiceRequest> ParseExportTraceServiceRequestJson(std::string_view text) {
  boost::system::error_code ec;
  bj::parse_options options;
  options.max_depth = 4 * kMaxValueDepth + 16;
  bj::value root = bj::parse(text, ec, {}, options);
  if (ec) return BadJson("not JSON");
  if (!root.is_object()) return BadJson("the request must be an object");
  ExportTraceServiceRequest request;
  ASSIGN_OR_RETURN(const bj::array* resource_spans,
                   ArrayMember(root.get_object(), "resourceSpans", "resource_spans"));
  if (resource_spans == nullptr) return request;
  for (const bj::value& rs : *resource_spans) {
    if (!rs.is_object()) return BadJson("resourceSpans items must be objects");
    ResourceSpans out;
    ASSIGN_OR_RETURN(const bj::object* resource,
                     ObjectMember(rs.get_object(), "resource", "resource"));
    if (resource != nullptr) {
      ASSIGN_OR_RETURN(out.resource_attributes, AttributesJson(*resource));
    }
    ASSIGN_OR_RETURN(const bj::array* scopes,
                     ArrayMember(rs.get_object(), "scopeSpans", "scope_spans"));
    if (scopes != nullptr) {
      for (const bj::value& scope : *scopes) {
        if (!scope.is_object()) return BadJson("scopeSpans items must be objects");
        ASSIGN_OR_RETURN(const bj::array* spans, ArrayMember(scope.get_object(), "spans", "spans"));
        if (spans == nullptr) continue;
        for (const bj::value& span : *spans) {
          ASSIGN_OR_RETURN(Span decoded, SpanJson(span));
          out.spans.push_back(std::move(decoded));
        }
      }
    }
    request.resource_spans.push_back(std::move(out));
  }
  return request;
}

}  // namespace cairn::api::mlflow::otlp
