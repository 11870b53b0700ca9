#include "runtime/tensor.h"

#include <array>

namespace cairn::runtime {
namespace {

struct TypeInfo {
  DataType type;
  std::string_view name;
  std::size_t size;
};

constexpr std::array<TypeInfo, 14> kTypes = {{
    {DataType::kBool, "BOOL", 1},
    {DataType::kUint8, "UINT8", 1},
    {DataType::kUint16, "UINT16", 2},
    {DataType::kUint32, "UINT32", 4},
    {DataType::kUint64, "UINT64", 8},
    {DataType::kInt8, "INT8", 1},
    {DataType::kInt16, "INT16", 2},
    {DataType::kInt32, "INT32", 4},
    {DataType::kInt64, "INT64", 8},
    {DataType::kFp16, "FP16", 2},
    {DataType::kBf16, "BF16", 2},
    {DataType::kFp32, "FP32", 4},
    {DataType::kFp64, "FP64", 8},
    {DataType::kBytes, "BYTES", 0},
}};

}  // namespace

std::string_view DataTypeName(DataType type) { return kTypes[static_cast<std::size_t>(type)].name; }

std::optional<DataType> ParseDataType(std::string_view name) {
  for (const TypeInfo& info : kTypes) {
    if (info.name == name) {
      return info.type;
    }
  }
  return std::nullopt;
}

std::size_t ElementSize(DataType type) { return kTypes[static_cast<std::size_t>(type)].size; }

int64_t Tensor::ElementCount() const {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) {
      return -1;
    }
    count *= dim;
  }
  return count;
}

}  // namespace cairn::runtime
