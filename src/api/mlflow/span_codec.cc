#include "api/mlflow/span_codec.h"

#include <cstdint>
#include <limits>
#include <utility>

#include "api/mlflow/request_message.h"
#include "base/utf8.h"

namespace cairn::api::mlflow {
namespace {

namespace bj = boost::json;

constexpr std::string_view kRequestIdAttribute = "mlflow.traceRequestId";
constexpr std::string_view kSpanTypeAttribute = "mlflow.spanType";
constexpr std::string_view kInputsAttribute = "mlflow.spanInputs";
constexpr std::string_view kOutputsAttribute = "mlflow.spanOutputs";

std::string Hex(std::string_view bytes, size_t width) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(width - 2 * bytes.size(), '0');
  for (char c : bytes) {
    auto b = static_cast<uint8_t>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

// `bytes` left-padded with zero bytes to `width`.
std::string Padded(std::string_view bytes, size_t width) {
  return std::string(width - bytes.size(), '\0') + std::string(bytes);
}

std::optional<bj::value> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  if (ec) return std::nullopt;
  return v;
}

// An attribute value as MLflow stores it: JSON-encoded, except that a string holding JSON text
// of a string, object or array is kept as that text (it was encoded once already).
std::string StoredAttribute(const bj::value& value) {
  if (value.is_string()) {
    std::optional<bj::value> inner = ParseJson(value.get_string());
    if (inner && (inner->is_string() || inner->is_object() || inner->is_array())) {
      return std::string(value.get_string());
    }
  }
  return bj::serialize(value);
}

bj::object AnyValueJson(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::string:
      return {{"string_value", v.get_string()}};
    case bj::kind::bool_:
      return {{"bool_value", v.get_bool()}};
    case bj::kind::int64:
      return {{"int_value", v.get_int64()}};
    case bj::kind::uint64:
      return {{"double_value", static_cast<double>(v.get_uint64())}};
    case bj::kind::double_:
      return {{"double_value", v.get_double()}};
    case bj::kind::array: {
      bj::array values;
      for (const bj::value& item : v.get_array()) values.push_back(AnyValueJson(item));
      return {{"array_value", bj::object{{"values", std::move(values)}}}};
    }
    case bj::kind::object: {
      bj::array values;
      for (const auto& [key, item] : v.get_object()) {
        values.push_back(bj::object{{"key", key}, {"value", AnyValueJson(item)}});
      }
      return {{"kvlist_value", bj::object{{"values", std::move(values)}}}};
    }
    case bj::kind::null:
      return {};
  }
  return {};
}

// Attributes of a stored span dict ({key: JSON text}) as OTel KeyValues.
bj::array AttributesJson(const bj::value* attributes, bool encoded) {
  bj::array out;
  if (attributes == nullptr || !attributes->is_object()) return out;
  for (const auto& [key, value] : attributes->get_object()) {
    bj::object any;
    if (encoded && value.is_string()) {
      std::optional<bj::value> decoded = ParseJson(value.get_string());
      any = decoded ? AnyValueJson(*decoded) : AnyValueJson(value);
    } else {
      any = AnyValueJson(value);
    }
    out.push_back(bj::object{{"key", key}, {"value", std::move(any)}});
  }
  return out;
}

std::string StatusCodeName(int64_t code) {
  switch (code) {
    case 1:
      return "STATUS_CODE_OK";
    case 2:
      return "STATUS_CODE_ERROR";
    default:
      return "STATUS_CODE_UNSET";
  }
}

// The first `max_chars` characters of UTF-8 `text`, "..." ending a cut one.
std::string Preview(std::string_view text) {
  size_t chars = 0;
  size_t cut = 0;  // byte offset after kSpanPreviewMaxChars - 3 characters
  for (size_t i = 0; i < text.size();) {
    size_t n = Utf8SequenceLength(text, i);
    i += n == 0 ? 1 : n;
    ++chars;
    if (chars == kSpanPreviewMaxChars - 3) cut = i;
  }
  if (chars <= kSpanPreviewMaxChars) return std::string(text);
  return std::string(text.substr(0, cut)) + "...";
}

}  // namespace

std::string MlflowTraceIdFromOtlp(std::string_view trace_id_bytes) {
  return "tr-" + Hex(trace_id_bytes, 32);
}

StatusOr<metadata::Span> SpanFromOtlp(const otlp::Span& span) {
  if (span.trace_id.empty()) return InvalidArgument("trace_id is required but was empty");
  if (span.span_id.empty()) return InvalidArgument("span_id is required but was empty");
  if (span.trace_id.size() > 16 || span.span_id.size() > 8 || span.parent_span_id.size() > 8) {
    return InvalidArgument("OTLP trace ids are 16 bytes and span ids 8 bytes");
  }
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (span.start_time_unix_nano > kMax || span.end_time_unix_nano > kMax) {
    return InvalidArgument("span times beyond the int64 range");
  }

  metadata::Span out;
  out.trace_id = MlflowTraceIdFromOtlp(span.trace_id);
  out.span_id = Hex(span.span_id, 16);
  if (!span.parent_span_id.empty()) out.parent_span_id = Hex(span.parent_span_id, 16);
  out.name = span.name;
  out.start_time_ns = static_cast<int64_t>(span.start_time_unix_nano);
  if (span.end_time_unix_nano != 0) out.end_time_ns = static_cast<int64_t>(span.end_time_unix_nano);
  out.status = span.status_code == 1 ? "OK" : span.status_code == 2 ? "ERROR" : "UNSET";

  bj::object attributes;
  for (const otlp::KeyValue& kv : span.attributes) attributes[kv.key] = StoredAttribute(kv.value);
  attributes[kRequestIdAttribute] = bj::serialize(bj::value(out.trace_id));
  if (const bj::value* type = attributes.if_contains(kSpanTypeAttribute)) {
    std::optional<bj::value> decoded = ParseJson(type->get_string());
    if (decoded && decoded->is_string()) out.type = std::string(decoded->get_string());
  }

  bj::array events;
  for (const otlp::Event& e : span.events) {
    bj::object event_attributes;
    for (const otlp::KeyValue& kv : e.attributes) event_attributes[kv.key] = kv.value;
    events.push_back(bj::object{{"name", e.name},
                                {"time_unix_nano", e.time_unix_nano},
                                {"attributes", std::move(event_attributes)}});
  }

  bj::object content;
  content["trace_id"] = Base64Encode(Padded(span.trace_id, 16));
  content["span_id"] = Base64Encode(Padded(span.span_id, 8));
  content["parent_span_id"] = span.parent_span_id.empty()
                                  ? bj::value(nullptr)
                                  : bj::value(Base64Encode(Padded(span.parent_span_id, 8)));
  content["name"] = span.name;
  content["start_time_unix_nano"] = out.start_time_ns;
  content["end_time_unix_nano"] = static_cast<int64_t>(span.end_time_unix_nano);
  content["events"] = std::move(events);
  content["status"] =
      bj::object{{"code", StatusCodeName(span.status_code)}, {"message", span.status_message}};
  content["attributes"] = std::move(attributes);
  content["links"] = bj::array{};
  out.content = bj::serialize(content);
  return out;
}

metadata::RootSpanPreview PreviewOfRootSpan(const metadata::Span& span) {
  metadata::RootSpanPreview preview;
  preview.trace_id = span.trace_id;
  std::optional<bj::value> content = ParseJson(span.content);
  if (!content || !content->is_object()) return preview;
  const bj::value* attributes = content->get_object().if_contains("attributes");
  if (attributes == nullptr || !attributes->is_object()) return preview;
  for (auto [key, field] : {std::pair{kInputsAttribute, &preview.request_preview},
                            std::pair{kOutputsAttribute, &preview.response_preview}}) {
    const bj::value* v = attributes->get_object().if_contains(key);
    if (v != nullptr && v->is_string() && !v->get_string().empty()) {
      *field = Preview(v->get_string());
    }
  }
  return preview;
}

bj::object SpanToOtelJson(const metadata::Span& span) {
  std::optional<bj::value> parsed = ParseJson(span.content);
  bj::object content =
      parsed && parsed->is_object() ? std::move(parsed->get_object()) : bj::object{};
  bj::object out;
  auto copy_string = [&](std::string_view key) {
    if (const bj::value* v = content.if_contains(key); v != nullptr && v->is_string()) {
      out[key] = *v;
    }
  };
  copy_string("trace_id");
  copy_string("span_id");
  copy_string("parent_span_id");
  out["name"] = span.name;
  out["start_time_unix_nano"] = span.start_time_ns;
  if (span.end_time_ns) out["end_time_unix_nano"] = *span.end_time_ns;
  bj::array attributes = AttributesJson(content.if_contains("attributes"), /*encoded=*/true);
  if (!attributes.empty()) out["attributes"] = std::move(attributes);
  if (const bj::value* events = content.if_contains("events");
      events != nullptr && events->is_array() && !events->get_array().empty()) {
    bj::array out_events;
    for (const bj::value& e : events->get_array()) {
      if (!e.is_object()) continue;
      bj::object event;
      const bj::object& eo = e.get_object();
      if (const bj::value* t = eo.if_contains("time_unix_nano"); t && t->is_number()) {
        event["time_unix_nano"] = *t;
      }
      if (const bj::value* n = eo.if_contains("name"); n && n->is_string()) event["name"] = *n;
      bj::array event_attributes = AttributesJson(eo.if_contains("attributes"), false);
      if (!event_attributes.empty()) event["attributes"] = std::move(event_attributes);
      out_events.push_back(std::move(event));
    }
    out["events"] = std::move(out_events);
  }
  bj::object status;
  std::string code = span.status == "OK"      ? "STATUS_CODE_OK"
                     : span.status == "ERROR" ? "STATUS_CODE_ERROR"
                                              : "STATUS_CODE_UNSET";
  if (code != "STATUS_CODE_UNSET") status["code"] = code;
  if (const bj::value* s = content.if_contains("status"); s && s->is_object()) {
    if (const bj::value* m = s->get_object().if_contains("message");
        m && m->is_string() && !m->get_string().empty()) {
      status["message"] = *m;
    }
  }
  out["status"] = std::move(status);
  return out;
}

std::string TraceDataJson(const std::vector<metadata::Span>& spans) {
  std::string out = R"({"spans": [)";
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i > 0) out += ", ";
    out += spans[i].content;
  }
  out += "]}";
  return out;
}

namespace {

// The value an OTel AnyValue in proto JSON holds (MLflow's _decode_otel_proto_anyvalue).
bj::value FromAnyValue(const bj::value& any, int depth = 0) {
  if (!any.is_object() || depth > otlp::kMaxValueDepth) return nullptr;
  const bj::object& o = any.get_object();
  if (const bj::value* v = o.if_contains("string_value")) return *v;
  if (const bj::value* v = o.if_contains("bool_value")) return *v;
  if (const bj::value* v = o.if_contains("int_value")) return *v;
  if (const bj::value* v = o.if_contains("double_value")) return *v;
  if (const bj::value* v = o.if_contains("bytes_value")) return *v;
  if (const bj::value* v = o.if_contains("array_value"); v && v->is_object()) {
    bj::array out;
    if (const bj::value* values = v->get_object().if_contains("values");
        values && values->is_array()) {
      for (const bj::value& item : values->get_array())
        out.push_back(FromAnyValue(item, depth + 1));
    }
    return out;
  }
  if (const bj::value* v = o.if_contains("kvlist_value"); v && v->is_object()) {
    bj::object out;
    if (const bj::value* values = v->get_object().if_contains("values");
        values && values->is_array()) {
      for (const bj::value& kv : values->get_array()) {
        if (!kv.is_object()) continue;
        const bj::value* key = kv.get_object().if_contains("key");
        const bj::value* value = kv.get_object().if_contains("value");
        if (key == nullptr || !key->is_string()) continue;
        out[key->get_string()] = value ? FromAnyValue(*value, depth + 1) : bj::value(nullptr);
      }
    }
    return out;
  }
  return nullptr;
}

// OTel attributes ([{key, value}]) as an object; `encode` JSON-encodes each value (span
// attributes) or keeps it (event attributes).
bj::object AttributesFromOtel(const bj::value* attributes, bool encode) {
  bj::object out;
  if (attributes == nullptr || !attributes->is_array()) return out;
  for (const bj::value& kv : attributes->get_array()) {
    if (!kv.is_object()) continue;
    const bj::value* key = kv.get_object().if_contains("key");
    const bj::value* value = kv.get_object().if_contains("value");
    if (key == nullptr || !key->is_string()) continue;
    bj::value decoded = value ? FromAnyValue(*value) : bj::value(nullptr);
    out[key->get_string()] = encode ? bj::value(bj::serialize(decoded)) : std::move(decoded);
  }
  return out;
}

}  // namespace

std::string TraceDataJsonFromOtel(const bj::array& otel_spans) {
  bj::array spans;
  for (const bj::value& item : otel_spans) {
    if (!item.is_object()) continue;
    const bj::object& o = item.get_object();
    auto get = [&](std::string_view key) -> bj::value {
      const bj::value* v = o.if_contains(key);
      return v ? *v : bj::value(nullptr);
    };
    bj::array events;
    if (const bj::value* e = o.if_contains("events"); e && e->is_array()) {
      for (const bj::value& ev : e->get_array()) {
        if (!ev.is_object()) continue;
        const bj::object& eo = ev.get_object();
        const bj::value* name = eo.if_contains("name");
        const bj::value* time = eo.if_contains("time_unix_nano");
        events.push_back(
            bj::object{{"name", name ? *name : bj::value("")},
                       {"time_unix_nano", time ? *time : bj::value(0)},
                       {"attributes", AttributesFromOtel(eo.if_contains("attributes"), false)}});
      }
    }
    bj::object status{{"code", "STATUS_CODE_UNSET"}, {"message", ""}};
    if (const bj::value* st = o.if_contains("status"); st && st->is_object()) {
      if (const bj::value* c = st->get_object().if_contains("code")) status["code"] = *c;
      if (const bj::value* m = st->get_object().if_contains("message")) status["message"] = *m;
    }
    spans.push_back(bj::object{
        {"trace_id", get("trace_id")},
        {"span_id", get("span_id")},
        {"parent_span_id", get("parent_span_id")},
        {"name", get("name")},
        {"start_time_unix_nano", get("start_time_unix_nano")},
        {"end_time_unix_nano", get("end_time_unix_nano")},
        {"events", std::move(events)},
        {"status", std::move(status)},
        {"attributes", AttributesFromOtel(o.if_contains("attributes"), true)},
        {"links", bj::array{}},
    });
  }
  return bj::serialize(bj::object{{"spans", std::move(spans)}});
}

}  // namespace cairn::api::mlflow
