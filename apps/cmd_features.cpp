// `fermata features KIND IN OUT`: a spectrogram, mel spectrogram, MFCC, constant-Q transform or
// chromagram of a sound file, saved as safetensors (the tensor, [bands, frames]) and as a PNG
// heat map (low bands at the bottom) so a person can look at it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "apps/command.h"
#include "audio/chroma.h"
#include "audio/cqt.h"
#include "audio/features.h"
#include "audio/io.h"
#include "audio/mfcc.h"
#include "autograd/node.h"
#include "autograd/views.h"
#include "plot/heatmap.h"
#include "tensor/error.h"
#include "tensor/safetensors.h"

namespace {

using namespace fm;

struct Args {
  std::string kind, in, out, colormap = "magma";
  std::optional<int64_t> sample_rate;
  int64_t n_fft = 2048, hop = 512, n_mels = 128, n_mfcc = 40;
  std::vector<std::string> title;  // lines of text above the picture
  bool db = false;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// OUT.png -> (OUT.safetensors, OUT.png); OUT.safetensors -> the same; anything else gets both suffixes.
std::pair<std::string, std::string> output_paths(const std::string& out) {
  std::string stem = out;
  if (ends_with(out, ".png")) stem = out.substr(0, out.size() - 4);
  if (ends_with(out, ".safetensors")) stem = out.substr(0, out.size() - 12);
  return {stem + ".safetensors", stem + ".png"};
}

// dB with torchaudio's conventions (amin 1e-10, top_db 80 below the maximum).
Tensor to_db(const Tensor& x, bool power) {
  return squeeze(audio::amplitude_to_db(unsqueeze(x, 0), power ? 10.0 : 20.0, 1e-10, 0.0, 80.0), 0);
}

int run(const Args& a) {
  audio::LoadOptions lo;
  lo.mono = true;
  lo.sample_rate = a.sample_rate;
  const audio::Audio snd = audio::load(a.in, lo);
  const Tensor x = select(snd.samples, 0, 0);  // [frames]
  const int64_t sr = snd.sample_rate;
  FM_CHECK(a.n_fft > 0 && a.hop > 0 && a.n_mels > 0, "--n-fft, --hop and --n-mels must be positive");
  FM_CHECK(x.sizes()[0] > a.n_fft / 2, a.in, " has ", x.sizes()[0],
           " samples, fewer than n_fft/2 + 1 = ", a.n_fft / 2 + 1);

  Tensor y, picture;
  NoGradGuard ng;
  plot::HeatmapOptions ho;
  if (a.kind == "spectrogram" || a.kind == "mel" || a.kind == "cqt") {
    bool power = true;
    if (a.kind == "spectrogram") {
      y = audio::Spectrogram(a.n_fft, std::nullopt, a.hop)(x);
    } else if (a.kind == "mel") {
      audio::MelOptions o;
      o.sample_rate = sr;
      o.n_fft = a.n_fft;
      o.hop_length = a.hop;
      o.n_mels = a.n_mels;
      y = audio::MelSpectrogram(o)(x);
    } else {
      audio::CQTOptions o;
      o.sample_rate = sr;
      o.hop_length = a.hop;
      y = audio::CQT(o)(x);  // magnitude
      power = false;
    }
    // the picture is always in dB: a linear power spectrogram is black but for a few bright cells
    picture = to_db(y, power);
    if (a.db) y = picture;
  } else if (a.kind == "mfcc" || a.kind == "chroma") {
    FM_CHECK(!a.db, "--db applies to spectrogram, mel and cqt, not to ", a.kind);
    if (a.kind == "mfcc") {
      audio::MFCCOptions o;
      o.n_mfcc = a.n_mfcc;
      o.mel.sample_rate = sr;
      o.mel.n_fft = a.n_fft;
      o.mel.hop_length = a.hop;
      o.mel.n_mels = a.n_mels;
      y = audio::MFCC(o)(x);
    } else {
      audio::ChromaSTFTOptions o;
      o.sample_rate = sr;
      o.n_fft = a.n_fft;
      o.hop_length = a.hop;
      y = audio::ChromaSTFT(o)(x);
      ho.vmin = 0.0;
      ho.vmax = 1.0;
    }
    picture = y;
  } else {
    FM_CHECK(false, "KIND must be spectrogram, mel, mfcc, cqt or chroma, got \"", a.kind, "\"");
  }

  const auto [st_path, png_path] = output_paths(a.out);
  save_safetensors(st_path, {{a.kind, y}},
                   {{"kind", a.kind}, {"sample_rate", std::to_string(sr)}, {"n_fft", std::to_string(a.n_fft)},
                    {"hop_length", std::to_string(a.hop)}, {"source", a.in}});
  const int64_t rows = picture.sizes()[0], cols = picture.sizes()[1];
  ho.colormap = a.colormap == "viridis" ? plot::Colormap::Viridis
                : a.colormap == "gray"  ? plot::Colormap::Gray
                                        : plot::Colormap::Magma;
  plot::write_png(png_path, plot::with_caption(plot::readable_heatmap(picture, ho), a.title));
  std::printf("%s: %s [%lld x %lld] at %lld Hz -> %s, %s\n", a.in.c_str(), a.kind.c_str(),
              static_cast<long long>(rows), static_cast<long long>(cols), static_cast<long long>(sr),
              st_path.c_str(), png_path.c_str());
  return 0;
}

const fm::apps::Registration features{
    {"features", "Compute a spectrogram, mel, mfcc, cqt or chroma of a sound file (safetensors + PNG)",
     [](CLI::App& sub) -> std::function<int()> {
       auto a = std::make_shared<Args>();
       sub.add_option("KIND", a->kind, "spectrogram, mel, mfcc, cqt or chroma")
           ->required()
           ->check(CLI::IsMember({"spectrogram", "mel", "mfcc", "cqt", "chroma"}));
       sub.add_option("IN", a->in, "sound file (WAV, FLAC, OGG), mixed down to mono")->required();
       sub.add_option("OUT", a->out, "output: OUT.safetensors and OUT.png (either suffix may be given)")->required();
       sub.add_option("--sample-rate", a->sample_rate, "resample to this rate first (Hz)");
       sub.add_option("--title", a->title, "A line of text above the picture (repeat for more lines)");
       sub.add_option("--n-fft", a->n_fft, "FFT size (spectrogram, mel, mfcc, chroma)")->capture_default_str();
       sub.add_option("--hop", a->hop, "hop length in samples")->capture_default_str();
       sub.add_option("--n-mels", a->n_mels, "mel bands (mel, mfcc)")->capture_default_str();
       sub.add_option("--n-mfcc", a->n_mfcc, "coefficients (mfcc)")->capture_default_str();
       sub.add_flag("--db", a->db, "save spectrogram, mel or cqt in dB (top_db 80)");
       sub.add_option("--colormap", a->colormap, "magma, viridis or gray")
           ->check(CLI::IsMember({"magma", "viridis", "gray"}))
           ->capture_default_str();
       return [a] { return run(*a); };
     }}};

}  // namespace
