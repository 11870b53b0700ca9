#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::runtime {

// Element types of the Open Inference Protocol (V2). Every runtime speaks these.
enum class DataType {
  kBool,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFp16,
  kBf16,
  kFp32,
  kFp64,
  kBytes,
};

// "BOOL", "UINT8", ..., "FP32", "BYTES": the V2 spelling.
std::string_view DataTypeName(DataType type);
// Parses the V2 spelling (case-sensitive, as the protocol writes it).
std::optional<DataType> ParseDataType(std::string_view name);
// Size of one element in bytes; 0 for kBytes (variable length).
std::size_t ElementSize(DataType type);

// One named n-dimensional array, row-major. Fixed-size types keep their elements in `data`
// (little-endian, packed, BOOL as one byte 0/1); kBytes keeps one string per element in
// `strings`. A value type: moving it is cheap, copying copies the elements.
struct Tensor {
  std::string name;
  DataType type = DataType::kFp32;
  std::vector<int64_t> shape;
  std::vector<std::byte> data;
  std::vector<std::string> strings;

  // Product of the dimensions (1 for a scalar); -1 if a dimension is negative.
  int64_t ElementCount() const;
  // The elements as T; the caller has checked `type`.
  template <typename T>
  std::span<const T> As() const {
    return {reinterpret_cast<const T*>(data.data()), data.size() / sizeof(T)};
  }
  template <typename T>
  std::span<T> MutableAs() {
    return {reinterpret_cast<T*>(data.data()), data.size() / sizeof(T)};
  }
};

// Name, type and shape of an input or output a model declares; -1 marks a variable dimension.
struct TensorSpec {
  std::string name;
  DataType type = DataType::kFp32;
  std::vector<int64_t> shape;
  bool optional = false;
};

}  // namespace cairn::runtime
