#pragma once
// A data set is an indexable collection of examples; an example is a set of named tensors
// ("audio", "label", "tokens", ...), as a PyTorch Dataset's __getitem__ returning a dict.
// Batches are examples whose tensors gained a leading batch dimension (data/collate.h).
#include "tensor/tensor.h"

#include <cstdint>
#include <map>
#include <string>

namespace fm::data {

using Example = std::map<std::string, Tensor>;
using Batch = std::map<std::string, Tensor>;

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Must be safe to call from several loader threads at once.
  virtual Example get(int64_t index) const = 0;
};

}  // namespace fm::data
