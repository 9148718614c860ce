// `fermata eval --checkpoint C --data DIR --split test`: the metrics of a trained model on a
// split (accuracy, top-5, macro-F1, per-class precision/recall/F1, confusion matrix); --json
// prints them for machines. The model is rebuilt from what the checkpoint recorded.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "apps/command.h"
#include "apps/train_common.h"
#include "autograd/views.h"
#include "data/dataloader.h"
#include "tensor/safetensors.h"
#include "train/trainer.h"

namespace fm::apps {
namespace {

struct EvalArgs {
  std::string checkpoint, data, split = "test", model, device = "cpu";
  int64_t batch_size = 16;
  int threads = 0, workers = 0;
  bool json = false;
};

int run_eval(const EvalArgs& a) {
  set_threads(a.threads);
  const Device device = Device::parse(a.device);
  const std::string prefix = train::checkpoint_prefix(a.checkpoint);
  const std::string weights = prefix + ".safetensors";
  FM_CHECK(std::filesystem::exists(weights), "checkpoint '", weights, "' does not exist");
  FM_CHECK(std::filesystem::exists(prefix + ".train.safetensors"), "'", prefix, ".train.safetensors' does not exist: "
           "eval rebuilds the model from the training state `fermata train` writes beside the weights (for weights "
           "alone, use `fermata predict MODEL --weights`)");
  const train::TrainState st = train::read_training_state(prefix);
  auto info = [&](const std::string& k) -> const std::string& {
    auto it = st.info.find(k);
    FM_CHECK(it != st.info.end(), "checkpoint '", prefix, ".train.safetensors' does not record the ", k);
    return it->second;
  };
  const std::string model_name = a.model.empty() ? info("model") : a.model;
  const models::ModelConfig config = model_config_from_json(info("model_config"), prefix + ".train.safetensors");
  const std::vector<std::string> classes = strings_from_json(info("class_names"), prefix + ".train.safetensors");

  const ClassificationData d = open_split(a.data, a.split, config.sample_rate.value_or(22050));
  FM_CHECK(d.classes == classes, "the classes of '", a.data, "' (", strings_to_json(d.classes),
           ") are not those the model was trained on (", strings_to_json(classes), ")");
  FM_CHECK(d.dataset->size() > 0, "split '", a.split, "' of '", a.data, "' has no clips");

  std::shared_ptr<nn::Module> model = models::create_model(model_name, config);
  try {
    model->load_state_dict(load_safetensors(weights));
  } catch (const Error& e) {
    fail("cannot load '", weights, "' into ", model_name, ": ", e.what());
  }
  model->to(device);

  data::DataLoaderOptions lo;
  lo.batch_size = a.batch_size;
  lo.num_workers = a.workers;
  data::DataLoader loader(d.dataset, lo);
  train::LoaderSource src(loader);
  train::TrainerOptions o;
  o.epochs = 1;
  o.class_names = classes;
  o.forward = [device](nn::Module& m, const data::Batch& b) {
    const Tensor& x = b.at("audio");
    return forward_audio(m, x.device() == device ? x : to(x, device));
  };
  train::Recipe recipe = train::recipe_for(model_name);
  if (!device.is_cpu()) {
    const train::LossFn base = recipe.loss_fn();
    recipe.loss = [base, device](const Tensor& out, const data::Batch& b) {
      data::Batch moved = b;
      moved["label"] = to(b.at("label"), device);
      return base(out, moved);
    };
  }
  train::Trainer trainer(*model, recipe, o);
  const train::Evaluation ev = trainer.evaluate(src);
  const train::ClassificationMetrics& m = *ev.metrics;

  if (a.json) {
    nlohmann::json j;
    j["checkpoint"] = weights;
    j["model"] = model_name;
    j["data"] = a.data;
    j["split"] = a.split;
    j["examples"] = m.count();
    j["loss"] = ev.loss;
    j["accuracy"] = m.accuracy();
    j["top_k"] = m.top_k();
    j["top_k_accuracy"] = m.top_k_accuracy();
    j["macro_f1"] = m.macro_f1();
    j["classes"] = classes;
    nlohmann::json per_class = nlohmann::json::array();
    for (int64_t c = 0; c < m.num_classes(); ++c) {
      int64_t support = 0;
      for (int64_t p : m.confusion()[c]) support += p;
      per_class.push_back({{"class", classes[c]},
                           {"precision", m.precision(c)},
                           {"recall", m.recall(c)},
                           {"f1", m.f1(c)},
                           {"support", support}});
    }
    j["per_class"] = per_class;
    j["confusion"] = m.confusion();
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("%s on %s\n%s, loss %.4f\n\n%s\n%s", model_name.c_str(), d.description.c_str(), weights.c_str(), ev.loss,
              m.report(classes).c_str(), m.confusion_to_string(classes).c_str());
  return 0;
}

const Registration eval_cmd{{"eval", "Metrics of a trained checkpoint on a split of a data set",
  [](CLI::App& sub) -> std::function<int()> {
    auto a = std::make_shared<EvalArgs>();
    sub.add_option("--checkpoint", a->checkpoint, "Checkpoint (e.g. runs/music_cnn/best or its .safetensors)")
        ->required();
    sub.add_option("--data", a->data, "Rendered corpus or class folder")->required();
    sub.add_option("--split", a->split, "train, valid or test")->capture_default_str();
    sub.add_option("--model", a->model, "Model name (default: the one the checkpoint records)");
    sub.add_option("--batch-size", a->batch_size, "Clips per batch")->capture_default_str();
    sub.add_option("--threads", a->threads, "CPU threads (0: all)")->capture_default_str();
    sub.add_option("--workers", a->workers, "Data loading threads")->capture_default_str();
    sub.add_option("--device", a->device, "cpu or cuda[:N]")->capture_default_str();
    sub.add_flag("--json", a->json, "Print the metrics as JSON");
    return [a] { return run_eval(*a); };
  }}};

}  // namespace
}  // namespace fm::apps
