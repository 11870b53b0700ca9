#include <cstring>
#include <span>

#include "api/inference/json_writer.h"
#include "api/inference/mlflow_codec.h"

// The response side of mlflow_codec.h.
namespace cairn::inference {
namespace {

using runtime::DataType;
using runtime::Tensor;

template <typename T>
T Load(const Tensor& t, size_t i) {
  T v;
  std::memcpy(&v, t.data.data() + i * sizeof(T), sizeof(T));
  return v;
}

size_t ElementsHeld(const Tensor& t) {
  if (t.type == DataType::kBytes) return t.strings.size();
  const size_t size = runtime::ElementSize(t.type);
  return size == 0 ? 0 : t.data.size() / size;
}

// One element as numpy's tolist() hands it to json.dumps: floats widened to Python floats.
void WriteElement(JsonWriter& w, const Tensor& t, size_t i) {
  switch (t.type) {
    case DataType::kBool:
      w.Bool(Load<uint8_t>(t, i) != 0);
      break;
    case DataType::kUint8:
      w.Uint(Load<uint8_t>(t, i));
      break;
    case DataType::kUint16:
      w.Uint(Load<uint16_t>(t, i));
      break;
    case DataType::kUint32:
      w.Uint(Load<uint32_t>(t, i));
      break;
    case DataType::kUint64:
      w.Uint(Load<uint64_t>(t, i));
      break;
    case DataType::kInt8:
      w.Int(Load<int8_t>(t, i));
      break;
    case DataType::kInt16:
      w.Int(Load<int16_t>(t, i));
      break;
    case DataType::kInt32:
      w.Int(Load<int32_t>(t, i));
      break;
    case DataType::kInt64:
      w.Int(Load<int64_t>(t, i));
      break;
    case DataType::kFp16:
      w.Double(HalfToFloat(Load<uint16_t>(t, i)));
      break;
    case DataType::kBf16:
      w.Double(Bfloat16ToFloat(Load<uint16_t>(t, i)));
      break;
    case DataType::kFp32:
      w.Double(Load<float>(t, i));
      break;
    case DataType::kFp64:
      w.Double(Load<double>(t, i));
      break;
    case DataType::kBytes:
      w.String(t.strings[i]);
      break;
  }
}

// Writes elements [index, ...) nested by `dims`; advances `index`.
void WriteNested(JsonWriter& w, const Tensor& t, std::span<const int64_t> dims, size_t& index) {
  if (dims.empty()) {
    WriteElement(w, t, index++);
    return;
  }
  w.BeginArray();
  for (int64_t k = 0; k < dims[0]; ++k) WriteNested(w, t, dims.subspan(1), index);
  w.EndArray();
}

// The whole tensor by its shape; flat when the shape does not describe the elements held.
void WriteTensor(JsonWriter& w, const Tensor& t) {
  const size_t held = ElementsHeld(t);
  size_t index = 0;
  if (t.ElementCount() == static_cast<int64_t>(held) && t.shape.size() <= 64) {
    WriteNested(w, t, t.shape, index);
    return;
  }
  const int64_t flat[] = {static_cast<int64_t>(held)};
  WriteNested(w, t, flat, index);
}

// A DataFrame as to_dict(orient="records"): row r of each column; a column with more than one
// dimension gives each row a nested list.
void WriteRecords(JsonWriter& w, const std::vector<Tensor>& columns) {
  int64_t rows = 0;
  for (const Tensor& c : columns) {
    const int64_t n = c.shape.empty() ? static_cast<int64_t>(ElementsHeld(c)) : c.shape[0];
    rows = std::max(rows, n);
  }
  w.BeginArray();
  for (int64_t r = 0; r < rows; ++r) {
    w.BeginObject();
    for (const Tensor& c : columns) {
      w.Key(c.name);
      std::span<const int64_t> cell_dims;
      if (c.shape.size() > 1) cell_dims = std::span<const int64_t>(c.shape).subspan(1);
      int64_t per_row = 1;
      for (int64_t d : cell_dims) per_row *= d;
      size_t index = static_cast<size_t>(r * per_row);
      if (index + static_cast<size_t>(per_row) > ElementsHeld(c)) {
        w.Null();
        continue;
      }
      WriteNested(w, c, cell_dims, index);
    }
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

void WriteMlflowPredictions(const runtime::PredictResponse& response, std::string& out) {
  out.clear();
  size_t estimate = 32;
  for (const Tensor& t : response.outputs) {
    estimate += t.data.size() * 3 + t.strings.size() * 8 + (response.columnar ? 0 : 16);
  }
  out.reserve(estimate);
  JsonWriter w(out, JsonWriter::Style::kPython);
  w.BeginObject();
  w.Key("predictions");
  if (response.outputs.empty()) {
    w.Null();
  } else if (response.columnar) {
    WriteRecords(w, response.outputs);
  } else if (response.outputs.size() == 1) {
    WriteTensor(w, response.outputs[0]);
  } else {
    w.BeginObject();
    for (const Tensor& t : response.outputs) {
      w.Key(t.name);
      WriteTensor(w, t);
    }
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace cairn::inference
