#include "models/registry.h"

#include <cmath>
#include <functional>
#include <sstream>
#include <utility>

#include "tensor/error.h"

namespace fm::models {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Named fields of a config struct, for ModelConfig::options.
template <class C>
struct Field {
  std::string name;
  std::function<void(C&, double)> set;
};

template <class C>
Field<C> int_field(const std::string& name, int64_t C::*member) {
  return {name, [name, member](C& c, double v) {
            FM_CHECK(std::floor(v) == v, "model option ", name, " must be an integer, got ", v);
            c.*member = static_cast<int64_t>(v);
          }};
}
template <class C>
Field<C> real_field(const std::string& name, double C::*member) {
  return {name, [member](C& c, double v) { c.*member = v; }};
}

const std::vector<Field<MusicCNNConfig>>& music_cnn_fields() {
  using C = MusicCNNConfig;
  static const std::vector<Field<C>> f{
      real_field<C>("f_min", &C::f_min),
      real_field<C>("f_max", &C::f_max),
      int_field<C>("conv1_channels", &C::conv1_channels),
      int_field<C>("branch_channels", &C::branch_channels),
      int_field<C>("conv3_channels", &C::conv3_channels),
      int_field<C>("harmonic_kernel", &C::harmonic_kernel),
      int_field<C>("temporal_kernel", &C::temporal_kernel),
  };
  return f;
}

const std::vector<Field<HarmonicCNNConfig>>& harmonic_cnn_fields() {
  using C = HarmonicCNNConfig;
  static const std::vector<Field<C>> f{
      int_field<C>("n_harmonics", &C::n_harmonics),
      int_field<C>("n_bands", &C::n_bands),
      real_field<C>("f_min", &C::f_min),
      real_field<C>("bw_Q", &C::bw_Q),
      int_field<C>("conv_channels", &C::conv_channels),
      int_field<C>("combine_channels", &C::combine_channels),
  };
  return f;
}

template <class C>
std::vector<std::string> names_of(const std::vector<Field<C>>& fields) {
  std::vector<std::string> n;
  for (const auto& f : fields) n.push_back(f.name);
  return n;
}

template <class C>
void apply_options(const std::string& model, C& c, const std::map<std::string, double>& options,
                   const std::vector<Field<C>>& fields) {
  for (const auto& [key, value] : options) {
    bool found = false;
    for (const auto& f : fields) {
      if (f.name != key) continue;
      f.set(c, value);
      found = true;
    }
    FM_CHECK(found, "create_model: ", model, " has no option '", key, "'; its options are: ", join(names_of(fields)));
  }
}

}  // namespace

const std::vector<ModelInfo>& model_infos() {
  static const std::vector<ModelInfo> infos{
      {"music_cnn", "log-mel CNN with parallel 12x1 harmonic and 1x7 temporal branches (the blog's MusicCNN)",
       names_of(music_cnn_fields())},
      {"harmonic_cnn", "learnable harmonic filters on the STFT (Won et al. 2020), per-harmonic conv stacks",
       names_of(harmonic_cnn_fields())},
  };
  return infos;
}

std::vector<std::string> model_names() {
  std::vector<std::string> n;
  for (const auto& i : model_infos()) n.push_back(i.name);
  return n;
}

MusicCNNConfig music_cnn_config(const ModelConfig& m) {
  MusicCNNConfig c;
  c.n_classes = m.n_classes;
  if (m.sample_rate) c.sample_rate = *m.sample_rate;
  if (m.n_fft) c.n_fft = *m.n_fft;
  if (m.hop_length) c.hop_length = *m.hop_length;
  if (m.n_mels) c.n_mels = *m.n_mels;
  if (m.dropout) c.dropout = *m.dropout;
  apply_options("music_cnn", c, m.options, music_cnn_fields());
  return c;
}

HarmonicCNNConfig harmonic_cnn_config(const ModelConfig& m) {
  HarmonicCNNConfig c;
  FM_CHECK(!m.n_mels, "create_model: harmonic_cnn has no mel front end, so n_mels cannot be set (it was ", *m.n_mels,
           "); set the filters with the options n_harmonics and n_bands");
  c.n_classes = m.n_classes;
  if (m.sample_rate) c.sample_rate = *m.sample_rate;
  if (m.n_fft) c.n_fft = *m.n_fft;
  if (m.hop_length) c.hop_length = *m.hop_length;
  if (m.dropout) c.dropout = *m.dropout;
  apply_options("harmonic_cnn", c, m.options, harmonic_cnn_fields());
  return c;
}

std::shared_ptr<nn::Module> create_model(const std::string& name, const ModelConfig& config) {
  if (name == "music_cnn") return std::make_shared<MusicCNN>(music_cnn_config(config));
  if (name == "harmonic_cnn") return std::make_shared<HarmonicCNN>(harmonic_cnn_config(config));
  FM_CHECK(false, "create_model: unknown model '", name, "'; known models: ", join(model_names()));
  return nullptr;
}

}  // namespace fm::models
