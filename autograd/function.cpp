#include "autograd/function.h"

namespace fm::autograd {

void FunctionCtx::seal(const tensor_list& outputs) {
  for (const Tensor& t : to_save_) {
    uint32_t nr = 0;
    bool is_output = false;
    for (uint32_t i = 0; i < outputs.size(); ++i)
      if (t.defined() && outputs[i].is_same(t)) {
        is_output = true;
        nr = i;
      }
    saved_.emplace_back(t, is_output, nr);
  }
  to_save_.clear();
}

tensor_list FunctionCtx::saved() const {
  tensor_list out;
  for (const SavedTensor& s : saved_) out.push_back(s.unpack());
  return out;
}

}  // namespace fm::autograd
