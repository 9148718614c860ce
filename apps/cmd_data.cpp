// `fermata data render CORPUS --out DIR [--size tiny|small|full] [--seed N]` renders one of the
// corpora of data/corpus.h with a progress bar; `fermata data info DIR` summarises a rendered
// corpus from its manifest.
#include <cstdio>
#include <map>
#include <string>

#include "apps/command.h"
#include "data/corpus.h"
#include "data/manifest.h"
#include "tensor/error.h"

namespace {

struct DataArgs {
  std::string corpus, out, size = "small", dir;
  uint64_t seed = 0;
  int threads = 0;
  bool quiet = false;
};

int run_render(const DataArgs& a) {
  fm::data::RenderOptions o;
  o.out_dir = a.out;
  o.size = a.size;
  o.seed = a.seed;
  o.progress = !a.quiet;
  o.threads = a.threads;
  const auto s = fm::data::render_corpus(a.corpus, o);
  std::printf("%s: %lld items from %lld groups (%lld rendered, %lld already there) in %.1f s -> %s\n",
              s.corpus.c_str(), static_cast<long long>(s.items), static_cast<long long>(s.groups),
              static_cast<long long>(s.groups_rendered), static_cast<long long>(s.groups_skipped), s.seconds,
              s.manifest.c_str());
  for (const auto& [split, n] : s.splits) std::printf("  %s: %lld\n", split.c_str(), static_cast<long long>(n));
  return 0;
}

int run_info(const DataArgs& a) {
  const auto m = fm::data::read_manifest(fm::data::manifest_path(a.dir));
  std::printf("corpus: %s (size %s, seed %llu)\n", m.corpus.c_str(), m.size.c_str(),
              static_cast<unsigned long long>(m.seed));
  if (m.sample_rate > 0) std::printf("sample rate: %lld Hz\n", static_cast<long long>(m.sample_rate));
  std::map<std::string, int64_t> groups;
  for (const auto& it : m.items) groups[it.group] += 1;
  std::printf("items: %zu from %zu songs; train %lld, valid %lld, test %lld\n", m.items.size(), groups.size(),
              static_cast<long long>(m.count("train")), static_cast<long long>(m.count("valid")),
              static_cast<long long>(m.count("test")));
  if (!m.classes.empty()) {
    std::vector<int64_t> per(m.classes.size(), 0);
    for (const auto& it : m.items)
      if (it.label_index >= 0) ++per[static_cast<size_t>(it.label_index)];
    std::printf("classes (%zu):", m.classes.size());
    for (size_t c = 0; c < m.classes.size(); ++c)
      std::printf(" %s=%lld", m.classes[c].c_str(), static_cast<long long>(per[c]));
    std::printf("\n");
  }
  std::printf("settings: %s\n", m.settings.c_str());
  return 0;
}

const fm::apps::Registration data{{"data", "Render music corpora from MIDI and inspect them",
  [](CLI::App& sub) -> std::function<int()> {
    auto args = std::make_shared<DataArgs>();
    sub.require_subcommand(1);
    auto* render = sub.add_subcommand("render", "Render a corpus (genres, instruments, piano, chords, symbolic)");
    render->add_option("corpus", args->corpus, "Which corpus")
        ->required()
        ->check(CLI::IsMember(fm::data::corpus_names()));
    render->add_option("--out,-o", args->out, "Output folder")->required();
    render->add_option("--size", args->size, "tiny (seconds, for tests), small (minutes) or full")
        ->check(CLI::IsMember({"tiny", "small", "full"}));
    render->add_option("--seed", args->seed, "Seed: the same seed renders the same corpus");
    render->add_option("--threads", args->threads, "Worker threads (default: OpenMP's)");
    render->add_flag("--quiet,-q", args->quiet, "No progress bar");
    auto* info = sub.add_subcommand("info", "Summarise a rendered corpus from its manifest");
    info->add_option("dir", args->dir, "Corpus folder")->required();
    return [args, render, info]() -> int {
      try {
        if (render->parsed()) return run_render(*args);
        if (info->parsed()) return run_info(*args);
      } catch (const fm::Error& e) {
        std::fprintf(stderr, "fermata data: %s\n", e.what());
        return 1;
      }
      return 2;
    };
  }}};

}  // namespace
