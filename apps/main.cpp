// The `fermata` command: data, features, train, eval, predict, bench. Each subcommand lives in
// its own apps/cmd_*.cpp and registers itself (apps/command.h).
#include "apps/command.h"
#include "tensor/error.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace fm::apps {
std::vector<Command>& commands() {
  static std::vector<Command> all;
  return all;
}
}  // namespace fm::apps

int main(int argc, char** argv) {
  CLI::App app{"fermata: deep learning for music"};
  app.require_subcommand(1);
  auto& all = fm::apps::commands();
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::map<CLI::App*, std::function<int()>> runners;
  for (auto& c : all) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    runners[sub] = c.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 checks for a missing subcommand before it complains about unknown words, so
    // `fermata bogus` would only say "A subcommand is required": name the word and the choices.
    const std::vector<std::string> extra = app.remaining(true);
    if (!extra.empty() && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
      const CLI::App* at = &app;
      std::string where = "fermata";
      while (!at->get_subcommands().empty()) {
        at = at->get_subcommands().front();
        where += " " + at->get_name();
      }
      std::string known;
      for (const CLI::App* s : at->get_subcommands([](const CLI::App*) { return true; }))
        known += (known.empty() ? "" : ", ") + s->get_name();
      std::fprintf(stderr, "%s: unknown subcommand or argument '%s'%s%s\n", where.c_str(), extra.front().c_str(),
                   known.empty() ? "" : "; expected one of: ", known.c_str());
    }
    return app.exit(e);
  }
  for (auto& [sub, run] : runners) {
    if (sub->parsed()) {
      try {
        return run();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "fermata %s: %s\n", sub->get_name().c_str(), e.what());
        return 1;
      }
    }
  }
  return 1;
}
