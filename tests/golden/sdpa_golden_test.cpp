// fm::scaled_dot_product_attention (the fused kernels of kernels/attention.h) against
// softmax(q k^T * scale + mask) v and its gradients in PyTorch 1.13 (data:
// make_golden_sdpa.py): L != S, Ev != E, causal, key padding (x[3], [N, S] broadcast over the
// heads as [N, 1, S]), an explicit scale, float32.
#include "golden/golden_support.h"

using namespace fm;
using fm::testing::golden::Case;

namespace {

Tensor kpm(const Tensor& m) { return reshape(m, {m.size(0), 1, m.size(1)}); }

const std::vector<Case>& sdpa_cases() {
  static const std::vector<Case> cases = {
      GOLDEN("plain", scaled_dot_product_attention(x[0], x[1], x[2])),
      GOLDEN("causal", scaled_dot_product_attention(x[0], x[1], x[2], {.causal = true})),
      GOLDEN("causal_l_ne_s", scaled_dot_product_attention(x[0], x[1], x[2], {.causal = true})),
      GOLDEN("key_padding", scaled_dot_product_attention(x[0], x[1], x[2], {.key_padding_mask = kpm(x[3])})),
      GOLDEN("causal_key_padding",
             scaled_dot_product_attention(x[0], x[1], x[2], {.causal = true, .key_padding_mask = kpm(x[3])})),
      GOLDEN("scale", scaled_dot_product_attention(x[0], x[1], x[2], {.scale = 0.3})),
      GOLDEN("f32_causal_key_padding",
             scaled_dot_product_attention(x[0], x[1], x[2], {.causal = true, .key_padding_mask = kpm(x[3])})),
  };
  return cases;
}

}  // namespace

FM_GOLDEN_FAMILY(SdpaGolden, "sdpa", sdpa_cases)
