#pragma once
// Collation turns a list of examples into a batch, as torch.utils.data's default_collate, plus
// the padding of variable-length sequences (torch.nn.utils.rnn.pad_sequence with
// batch_first=true) with a mask and the lengths, so that sequences of any length batch
// without a custom collate.
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace fm::data {

struct CollateOptions {
  double padding_value = 0;
  std::map<std::string, double> padding_per_key;  // overrides padding_value for these keys
  // Keys that get "<key>_mask" and "<key>_lengths" in every batch, even one whose lengths
  // happen to agree, so that a model always finds them.
  std::set<std::string> variable_length_keys;
};

// Stacks each key along a new leading dim. Tensors of a key whose dim 0 differs across the
// examples are padded at the end of dim 0 (with padding_per_key[key], else padding_value) to
// the longest, and the batch gains "<key>_mask" (bool (B, Lmax), true where real) and
// "<key>_lengths" (int64 (B)). Scalars (0-dim, e.g. int64 labels) stack to (B). Every example
// must have the same keys, and a key the same dtype, device and number of dims; sizes other than
// dim 0 must agree. Anything else is an fm::Error naming the key, the examples and their shapes.
// The batch is new contiguous memory on the examples' device; no autograd graph is recorded.
Batch default_collate(const std::vector<Example>& examples, const CollateOptions& options = {});

// Must be safe to call from several loader threads at once.
using CollateFn = std::function<Batch(const std::vector<Example>&)>;

}  // namespace fm::data
