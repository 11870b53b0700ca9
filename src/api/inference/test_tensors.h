#pragma once

// Test helpers: tensors from initializer lists.

#include <cstring>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace cairn::inference::testing {

template <typename T>
runtime::Tensor MakeTensor(std::string name, runtime::DataType type, std::vector<int64_t> shape,
                           const std::vector<T>& values) {
  runtime::Tensor t;
  t.name = std::move(name);
  t.type = type;
  t.shape = std::move(shape);
  t.data.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

inline runtime::Tensor MakeStrings(std::string name, std::vector<int64_t> shape,
                                   std::vector<std::string> values) {
  runtime::Tensor t;
  t.name = std::move(name);
  t.type = runtime::DataType::kBytes;
  t.shape = std::move(shape);
  t.strings = std::move(values);
  return t;
}

template <typename T>
std::vector<T> Values(const runtime::Tensor& t) {
  std::vector<T> out(t.data.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), t.data.data(), t.data.size());
  return out;
}

}  // namespace cairn::inference::testing
