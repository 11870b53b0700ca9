#pragma once

#include <vector>

#include "base/status.h"
#include "runtime/model_runtime.h"
#include "runtime/tensor.h"

namespace cairn::runtime {

// Converts `tensor` to `target` element type: any numeric or BOOL type to any other (as a C++
// static_cast would: float to int truncates, as numpy's astype does); BYTES only to BYTES.
// FP16/BF16 are only kept, never converted. InvalidArgument names the tensor otherwise.
StatusOr<Tensor> CastTensor(Tensor tensor, DataType target);

// Binds a request's inputs to a tensor model's declared inputs, in the model's input order,
// converted to the declared types and checked against the declared shapes:
//   - named tensors go to the input of the same name; a single tensor whose name matches no
//     input goes to a model's single input;
//   - the columns of a table go, when the model has one 2-D input, side by side into that
//     input as [rows, columns] (the width must match a fixed second dimension); otherwise each
//     column goes to the input of its name, as [rows] or [rows, 1] by the input's rank.
// InvalidArgument names the missing, unknown or mis-shaped input.
StatusOr<std::vector<Tensor>> BindInputs(PredictRequest& request, const ModelInterface& model);

}  // namespace cairn::runtime
