#include "data/synth.h"

#include <fluidsynth.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <tuple>

#include "tensor/error.h"
#include "tensor/factory.h"

namespace fm::data {
namespace {

fluid_settings_t* settings_of(void* p) { return static_cast<fluid_settings_t*>(p); }
fluid_synth_t* synth_of(void* p) { return static_cast<fluid_synth_t*>(p); }

void quiet_fluidsynth_once() {
  // FluidSynth logs warnings (e.g. "No preset found" while a synth has no soundfont yet) to
  // stderr; errors are reported by return codes, which are checked.
  static std::once_flag once;
  std::call_once(once, [] {
    fluid_set_log_function(FLUID_WARN, nullptr, nullptr);
    fluid_set_log_function(FLUID_INFO, nullptr, nullptr);
    fluid_set_log_function(FLUID_DBG, nullptr, nullptr);
  });
}

}  // namespace

std::string default_soundfont() {
  if (const char* env = std::getenv("FERMATA_SOUNDFONT"); env && *env) return env;
  return "/usr/share/sounds/sf2/FluidR3_GM.sf2";
}

Synthesizer::Synthesizer(const SynthOptions& options) : options_(options) {
  if (options_.soundfont.empty()) options_.soundfont = default_soundfont();
  FM_CHECK(options_.sample_rate >= 8000 && options_.sample_rate <= 96000,
           "Synthesizer: sample_rate ", options_.sample_rate, " is outside FluidSynth's 8000..96000 Hz");
  FM_CHECK(options_.gain >= 0 && options_.gain <= 10, "Synthesizer: gain ", options_.gain, " is outside 0..10");
  FM_CHECK(options_.polyphony >= 1 && options_.polyphony <= 65535, "Synthesizer: polyphony ", options_.polyphony,
           " is outside 1..65535");
  struct stat st {};
  FM_CHECK(::stat(options_.soundfont.c_str(), &st) == 0 && S_ISREG(st.st_mode), "Synthesizer: soundfont '",
           options_.soundfont,
           "' does not exist (install fluid-soundfont-gm or set FERMATA_SOUNDFONT to a .sf2 file)");
  quiet_fluidsynth_once();
  fluid_settings_t* s = new_fluid_settings();
  FM_CHECK(s != nullptr, "Synthesizer: new_fluid_settings failed");
  settings_ = s;
  fluid_settings_setnum(s, "synth.sample-rate", static_cast<double>(options_.sample_rate));
  fluid_settings_setnum(s, "synth.gain", options_.gain);
  fluid_settings_setint(s, "synth.reverb.active", options_.reverb ? 1 : 0);
  fluid_settings_setint(s, "synth.chorus.active", options_.chorus ? 1 : 0);
  fluid_settings_setint(s, "synth.polyphony", options_.polyphony);
  fluid_settings_setint(s, "synth.cpu-cores", 1);
  fluid_settings_setint(s, "synth.lock-memory", 0);
  fluid_settings_setint(s, "synth.dynamic-sample-loading", 0);
  // One thread drives each synth: the API lock is pure overhead.
  fluid_settings_setint(s, "synth.threadsafe-api", 0);
  fluid_settings_setint(s, "synth.midi-channels", 16);
  fluid_synth_t* synth = new_fluid_synth(s);
  if (synth == nullptr) {
    delete_fluid_settings(s);
    settings_ = nullptr;
    fm::fail("Synthesizer: new_fluid_synth failed at ", options_.sample_rate, " Hz");
  }
  synth_ = synth;
  const auto t0 = std::chrono::steady_clock::now();
  const int id = fluid_synth_sfload(synth, options_.soundfont.c_str(), 1);
  load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (id == FLUID_FAILED) {
    delete_fluid_synth(synth);
    delete_fluid_settings(s);
    synth_ = settings_ = nullptr;
    fm::fail("Synthesizer: FluidSynth could not load the soundfont '", options_.soundfont,
             "' (not a SoundFont 2 file, or unreadable)");
  }
  sfont_ = fluid_synth_get_sfont_by_id(synth, id);
}

Synthesizer::~Synthesizer() {
  if (synth_) delete_fluid_synth(synth_of(synth_));
  if (settings_) delete_fluid_settings(settings_of(settings_));
}

void Synthesizer::write(void* synth, int64_t frames, std::vector<float>& out) {
  constexpr int64_t kBlock = 4096;
  left_.resize(kBlock);
  right_.resize(kBlock);
  while (frames > 0) {
    const int n = static_cast<int>(std::min(frames, kBlock));
    FM_CHECK(fluid_synth_write_float(synth_of(synth), n, left_.data(), 0, 1, right_.data(), 0, 1) == FLUID_OK,
             "Synthesizer: fluid_synth_write_float failed");
    for (int i = 0; i < n; ++i) out.push_back(0.5f * (left_[i] + right_[i]));
    frames -= n;
  }
}

std::vector<float> Synthesizer::render(const midi::File& file, double tail_seconds) {
  FM_CHECK(std::isfinite(tail_seconds) && tail_seconds >= 0 && tail_seconds <= 60, "Synthesizer::render: tail_seconds ",
           tail_seconds, " is outside 0..60");
  struct Timed {
    int64_t tick;
    size_t track, index;
    const midi::Event* event;
  };
  std::vector<Timed> events;
  int64_t last_tick = 0;
  for (size_t t = 0; t < file.tracks.size(); ++t) {
    const auto& evs = file.tracks[t].events;
    for (size_t i = 0; i < evs.size(); ++i) {
      last_tick = std::max(last_tick, evs[i].tick);
      if (evs[i].is_channel_message()) events.push_back({evs[i].tick, t, i, &evs[i]});
    }
  }
  // Tracks share the channels: at one tick, track order then event order (as extract_notes).
  std::sort(events.begin(), events.end(), [](const Timed& a, const Timed& b) {
    return std::tie(a.tick, a.track, a.index) < std::tie(b.tick, b.track, b.index);
  });
  const midi::TempoMap tempo(file);
  const double rate = static_cast<double>(options_.sample_rate);
  const double end_seconds = tempo.seconds(last_tick) + tail_seconds;
  FM_CHECK(end_seconds <= 3600, "Synthesizer::render: the file lasts ", end_seconds, " s; at most an hour is rendered");
  const auto total = static_cast<int64_t>(std::llround(end_seconds * rate));
  std::vector<float> out;
  out.reserve(static_cast<size_t>(total));
  // A fresh synth per file, playing the loaded soundfont: a reused one carries voice state
  // (amplitude ramps, filter memories) from file to file, so the same file would not render to
  // the same samples twice. Creating one costs about a millisecond; the soundfont is not copied.
  fluid_synth_t* s = new_fluid_synth(settings_of(settings_));
  FM_CHECK(s != nullptr, "Synthesizer::render: new_fluid_synth failed");
  struct Release {
    fluid_synth_t* s;
    fluid_sfont_t* sfont;
    ~Release() {
      // Taken back first: deleting a synth deletes the soundfonts on its stack.
      fluid_synth_remove_sfont(s, sfont);
      delete_fluid_synth(s);
    }
  };
  fluid_sfont_t* sfont = static_cast<fluid_sfont_t*>(sfont_);
  if (fluid_synth_add_sfont(s, sfont) == FLUID_FAILED) {
    delete_fluid_synth(s);
    fm::fail("Synthesizer::render: FluidSynth cannot add the soundfont '", options_.soundfont, "' to a new synth");
  }
  Release release{s, sfont};
  fluid_synth_program_reset(s);
  int64_t position = 0;
  for (const auto& te : events) {
    const auto at = std::min(total, static_cast<int64_t>(std::llround(tempo.seconds(te.tick) * rate)));
    if (at > position) {
      write(s, at - position, out);
      position = at;
    }
    const midi::Event& e = *te.event;
    const int ch = e.channel;
    switch (e.kind) {
      case midi::EventKind::NoteOn: fluid_synth_noteon(s, ch, e.data1, e.data2); break;
      case midi::EventKind::NoteOff: fluid_synth_noteoff(s, ch, e.data1); break;
      case midi::EventKind::PolyAftertouch: fluid_synth_key_pressure(s, ch, e.data1, e.data2); break;
      case midi::EventKind::ControlChange: fluid_synth_cc(s, ch, e.data1, e.data2); break;
      case midi::EventKind::ProgramChange: fluid_synth_program_change(s, ch, e.data1); break;
      case midi::EventKind::ChannelAftertouch: fluid_synth_channel_pressure(s, ch, e.data1); break;
      case midi::EventKind::PitchBend: fluid_synth_pitch_bend(s, ch, std::clamp(e.value + 8192, 0, 16383)); break;
      default: break;
    }
  }
  if (total > position) write(s, total - position, out);
  return out;
}

std::vector<float> Synthesizer::render(const std::vector<midi::Note>& notes, double tail_seconds) {
  midi::NotesToSmfOptions o;
  o.per_channel = true;
  return render(midi::notes_to_smf(notes, o), tail_seconds);
}

// ---- pool ----

namespace {
struct PoolState {
  std::mutex mutex;
  std::vector<std::unique_ptr<Synthesizer>> idle;
  int64_t created = 0;
};
PoolState& pool() {
  static auto* p = new PoolState;  // never destroyed: leases may be returned during exit
  return *p;
}
SynthOptions normalized(SynthOptions o) {
  if (o.soundfont.empty()) o.soundfont = default_soundfont();
  return o;
}
}  // namespace

void SynthPool::Deleter::operator()(Synthesizer* s) const {
  if (s == nullptr) return;
  auto& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  p.idle.emplace_back(s);
}

SynthPool::Lease SynthPool::acquire(const SynthOptions& options) {
  const SynthOptions want = normalized(options);
  auto& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    for (size_t i = 0; i < p.idle.size(); ++i) {
      if (p.idle[i]->options() == want) {
        Synthesizer* s = p.idle[i].release();
        p.idle.erase(p.idle.begin() + static_cast<std::ptrdiff_t>(i));
        return Lease(s);
      }
    }
  }
  // Load outside the lock: two threads may load at once.
  auto s = std::make_unique<Synthesizer>(want);
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    ++p.created;
  }
  return Lease(s.release());
}

int64_t SynthPool::created() {
  auto& p = pool();
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.created;
}

Tensor render_midi(const midi::File& file, const SynthOptions& options, double tail_seconds) {
  auto synth = SynthPool::acquire(options);
  auto samples = synth->render(file, tail_seconds);
  const auto n = static_cast<int64_t>(samples.size());
  return from_vector(samples, {n});
}

Tensor render_notes(const std::vector<midi::Note>& notes, const SynthOptions& options, double tail_seconds) {
  auto synth = SynthPool::acquire(options);
  auto samples = synth->render(notes, tail_seconds);
  const auto n = static_cast<int64_t>(samples.size());
  return from_vector(samples, {n});
}

}  // namespace fm::data
