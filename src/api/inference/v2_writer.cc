#include <cstring>

#include "api/inference/json_writer.h"
#include "api/inference/v2_codec.h"

// The response side of v2_codec.h.
namespace cairn::inference {
namespace {

using runtime::DataType;
using runtime::Tensor;
using runtime::TensorSpec;
void WriteTensorSpec(JsonWriter& w, const TensorSpec& spec) {
  w.BeginObject();
  w.Key("name");
  w.String(spec.name);
  w.Key("datatype");
  w.String(runtime::DataTypeName(spec.type));
  w.Key("shape");
  w.BeginArray();
  for (int64_t dim : spec.shape) w.Int(dim);
  w.EndArray();
  w.EndObject();
}

template <typename T, typename F>
void WriteElements(const Tensor& t, F write) {
  const size_t n = t.data.size() / sizeof(T);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, t.data.data() + i * sizeof(T), sizeof(T));
    write(v);
  }
}

void WriteFlatData(JsonWriter& w, const Tensor& t) {
  w.BeginArray();
  switch (t.type) {
    case DataType::kBool:
      WriteElements<uint8_t>(t, [&](uint8_t v) { w.Bool(v != 0); });
      break;
    case DataType::kUint8:
      WriteElements<uint8_t>(t, [&](uint8_t v) { w.Uint(v); });
      break;
    case DataType::kUint16:
      WriteElements<uint16_t>(t, [&](uint16_t v) { w.Uint(v); });
      break;
    case DataType::kUint32:
      WriteElements<uint32_t>(t, [&](uint32_t v) { w.Uint(v); });
      break;
    case DataType::kUint64:
      WriteElements<uint64_t>(t, [&](uint64_t v) { w.Uint(v); });
      break;
    case DataType::kInt8:
      WriteElements<int8_t>(t, [&](int8_t v) { w.Int(v); });
      break;
    case DataType::kInt16:
      WriteElements<int16_t>(t, [&](int16_t v) { w.Int(v); });
      break;
    case DataType::kInt32:
      WriteElements<int32_t>(t, [&](int32_t v) { w.Int(v); });
      break;
    case DataType::kInt64:
      WriteElements<int64_t>(t, [&](int64_t v) { w.Int(v); });
      break;
    case DataType::kFp16:
      WriteElements<uint16_t>(t, [&](uint16_t v) { w.Float(HalfToFloat(v)); });
      break;
    case DataType::kBf16:
      WriteElements<uint16_t>(t, [&](uint16_t v) { w.Float(Bfloat16ToFloat(v)); });
      break;
    case DataType::kFp32:
      WriteElements<float>(t, [&](float v) { w.Float(v); });
      break;
    case DataType::kFp64:
      WriteElements<double>(t, [&](double v) { w.Double(v); });
      break;
    case DataType::kBytes:
      for (const std::string& s : t.strings) w.String(s);
      break;
  }
  w.EndArray();
}

size_t BinarySize(const Tensor& t) {
  if (t.type != DataType::kBytes) return t.data.size();
  size_t size = 0;
  for (const std::string& s : t.strings) size += 4 + s.size();
  return size;
}

void AppendBinary(const Tensor& t, std::string& out) {
  if (t.type != DataType::kBytes) {
    out.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
    return;
  }
  for (const std::string& s : t.strings) {
    const auto len = static_cast<uint32_t>(s.size());
    char prefix[4];
    std::memcpy(prefix, &len, 4);
    out.append(prefix, 4);
    out.append(s);
  }
}

}  // namespace

bool V2OutputOptions::BinaryFor(std::string_view name) const {
  for (const V2RequestedOutput& output : requested) {
    if (output.name == name) return output.binary.value_or(binary_default);
  }
  return binary_default;
}

void WriteV2InferResponse(const runtime::PredictResponse& response, std::string_view model_name,
                          std::string_view model_version, std::string_view id,
                          const V2OutputOptions& options, std::string& out,
                          size_t& json_header_length) {
  out.clear();
  size_t estimate = 128;
  for (const Tensor& t : response.outputs) {
    estimate += 64 + t.data.size() * 4 + t.strings.size() * 8;
  }
  out.reserve(estimate);
  JsonWriter w(out);
  w.BeginObject();
  w.Key("model_name");
  w.String(model_name);
  if (!model_version.empty()) {
    w.Key("model_version");
    w.String(model_version);
  }
  if (!id.empty()) {
    w.Key("id");
    w.String(id);
  }
  w.Key("outputs");
  w.BeginArray();
  bool any_binary = false;
  for (const Tensor& t : response.outputs) {
    const bool binary = options.BinaryFor(t.name);
    any_binary = any_binary || binary;
    w.BeginObject();
    w.Key("name");
    w.String(t.name);
    w.Key("datatype");
    w.String(runtime::DataTypeName(t.type));
    w.Key("shape");
    w.BeginArray();
    for (int64_t dim : t.shape) w.Int(dim);
    w.EndArray();
    if (binary) {
      w.Key("parameters");
      w.BeginObject();
      w.Key("binary_data_size");
      w.Uint(BinarySize(t));
      w.EndObject();
    } else {
      w.Key("data");
      WriteFlatData(w, t);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  json_header_length = 0;
  if (!any_binary) return;
  json_header_length = out.size();
  for (const Tensor& t : response.outputs) {
    if (options.BinaryFor(t.name)) AppendBinary(t, out);
  }
}

void WriteV2ModelMetadata(std::string_view name, std::span<const std::string> versions,
                          std::string_view platform, std::span<const TensorSpec> inputs,
                          std::span<const TensorSpec> outputs, std::string& out) {
  out.clear();
  JsonWriter w(out);
  w.BeginObject();
  w.Key("name");
  w.String(name);
  if (!versions.empty()) {
    w.Key("versions");
    w.BeginArray();
    for (const std::string& v : versions) w.String(v);
    w.EndArray();
  }
  w.Key("platform");
  w.String(platform);
  w.Key("inputs");
  w.BeginArray();
  for (const TensorSpec& spec : inputs) WriteTensorSpec(w, spec);
  w.EndArray();
  w.Key("outputs");
  w.BeginArray();
  for (const TensorSpec& spec : outputs) WriteTensorSpec(w, spec);
  w.EndArray();
  w.EndObject();
}

void WriteV2Error(std::string_view message, std::string& out) {
  out.clear();
  JsonWriter w(out);
  w.BeginObject();
  w.Key("error");
  w.String(message);
  w.EndObject();
}

}  // namespace cairn::inference
