#include "data/collate.h"

#include <algorithm>

#include "kernels/elementwise.h"
#include "tensor/error.h"

namespace fm::data {
namespace {

const char* kOp = "default_collate";

// Checks that every example's tensor for `key` can be stacked with example 0's and returns
// the longest dim 0 (0 for scalars).
int64_t check_key(const std::vector<Example>& examples, const std::string& key) {
  const Tensor& first = examples[0].at(key);
  int64_t longest = first.dim() == 0 ? 0 : first.size(0);
  for (size_t b = 0; b < examples.size(); ++b) {
    const auto it = examples[b].find(key);
    FM_CHECK(it != examples[b].end(), kOp, ": example ", b, " has no key '", key,
             "' but example 0 has it; every example needs the same keys");
    const Tensor& t = it->second;
    FM_CHECK(t.defined(), kOp, ": key '", key, "' of example ", b, " is an undefined tensor");
    FM_CHECK(t.device().is_cpu(), kOp, ": key '", key, "' of example ", b, " is ", t.describe(),
             "; examples must be on the CPU (move the batch to the GPU after collating)");
    FM_CHECK(t.dtype() == first.dtype(), kOp, ": key '", key, "': example 0 is ", first.describe(),
             " but example ", b, " is ", t.describe(), "; a key needs one dtype");
    bool same_trailing = t.dim() == first.dim();
    for (int64_t d = 1; same_trailing && d < t.dim(); ++d) same_trailing = t.size(d) == first.size(d);
    FM_CHECK(same_trailing, kOp, ": key '", key, "': example 0 has shape ", shape_str(first.sizes()),
             " but example ", b, " has ", shape_str(t.sizes()),
             "; only dim 0 may differ between examples (it is padded), the other sizes must agree");
    if (t.dim() > 0) longest = std::max(longest, t.size(0));
  }
  return longest;
}

}  // namespace

Batch default_collate(const std::vector<Example>& examples, const CollateOptions& options) {
  FM_CHECK(!examples.empty(), kOp, ": no examples to collate");
  for (size_t b = 1; b < examples.size(); ++b) {
    for (const auto& entry : examples[b])
      FM_CHECK(examples[0].count(entry.first) != 0, kOp, ": example ", b, " has key '", entry.first,
               "' but example 0 does not; every example needs the same keys");
  }
  const auto batch = static_cast<int64_t>(examples.size());
  Batch out;
  for (const auto& entry : examples[0]) {
    const std::string& key = entry.first;
    const int64_t longest = check_key(examples, key);
    const Tensor& first = entry.second;
    const bool always_masked = options.variable_length_keys.count(key) != 0;
    FM_CHECK(!always_masked || first.dim() > 0, kOp, ": key '", key,
             "' is listed in variable_length_keys but its tensors are scalars (", first.describe(), ")");
    bool ragged = false;
    for (const Example& e : examples) ragged = ragged || (first.dim() > 0 && e.at(key).size(0) != longest);

    Shape sizes = first.sizes();
    if (!sizes.empty()) sizes[0] = longest;
    sizes.insert(sizes.begin(), batch);
    Tensor stacked = empty(sizes, {.dtype = first.dtype()});
    if (ragged) {
      const auto custom = options.padding_per_key.find(key);
      kernels::fill(stacked, custom != options.padding_per_key.end() ? custom->second : options.padding_value);
    }
    const Shape row_strides(stacked.strides().begin() + 1, stacked.strides().end());
    for (int64_t b = 0; b < batch; ++b) {
      const Tensor& t = examples[static_cast<size_t>(b)].at(key);
      copy_into(make_view(stacked, t.sizes(), row_strides, b * stacked.stride(0)), t);
    }
    out[key] = stacked;

    if (ragged || always_masked) {
      const std::string mask_key = key + "_mask", lengths_key = key + "_lengths";
      for (const std::string& k : {mask_key, lengths_key})
        FM_CHECK(examples[0].count(k) == 0, kOp, ": key '", key, "' is padded, which adds '", k,
                 "', but the examples already have a key of that name");
      Tensor mask = empty({batch, longest}, {.dtype = kBool});
      Tensor lengths = empty({batch}, {.dtype = kInt64});
      bool* m = mask.data_ptr<bool>();
      int64_t* len = lengths.data_ptr<int64_t>();
      for (int64_t b = 0; b < batch; ++b) {
        len[b] = examples[static_cast<size_t>(b)].at(key).size(0);
        std::fill(m + b * longest, m + b * longest + len[b], true);
        std::fill(m + b * longest + len[b], m + (b + 1) * longest, false);
      }
      out[mask_key] = mask;
      out[lengths_key] = lengths;
    }
  }
  return out;
}

}  // namespace fm::data
