// A state_dict saved by PyTorch (safetensors) loads into the same architecture built from
// fermata layers and gives PyTorch's outputs; fermata's saved weights read back identically.
#include <filesystem>

#include "support/test_support.h"

using namespace fm;

namespace {
std::shared_ptr<nn::Sequential> mlp() {
  auto m = std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::UnaryModule>>{
      std::make_shared<nn::Linear>(6, 8, nn::LinearOptions{.dtype = kFloat64}), nn::GELU(),
      std::make_shared<nn::Dropout>(0.3), std::make_shared<nn::Linear>(8, 3, nn::LinearOptions{.dtype = kFloat64})});
  m->eval();
  return m;
}
}  // namespace

TEST(CheckpointGolden, PyTorchStateDictLoadsAndReproducesTheOutput) {
  auto model = mlp();
  model->load_state_dict(load_safetensors(fm::testing::data_path("golden/data/mlp_state_dict.safetensors")));
  auto io = load_safetensors(fm::testing::data_path("golden/data/mlp_io.safetensors"));
  EXPECT_CLOSE((*model)(io.at("x")), io.at("y"), 1e-12, 1e-14);
  // and fermata's own file holds the same keys and values
  const auto dir = std::filesystem::temp_directory_path() / "fermata_ckpt_golden";
  std::filesystem::create_directories(dir);
  optim::save_checkpoint((dir / "mlp").string(), *model);
  auto back = load_safetensors((dir / "mlp.safetensors").string());
  auto original = load_safetensors(fm::testing::data_path("golden/data/mlp_state_dict.safetensors"));
  ASSERT_EQ(back.size(), original.size());
  for (auto& [k, v] : original) EXPECT_TRUE(equal(back.at(k), v)) << k;
  std::filesystem::remove_all(dir);
}
