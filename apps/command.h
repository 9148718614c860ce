#pragma once
// Subcommands of the `fermata` program register themselves here, one file per subcommand
// (apps/cmd_*.cpp), so that adding a command never touches main.cpp.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace fm::apps {

struct Command {
  std::string name;
  std::string description;
  // Adds the subcommand's options to `sub` and returns what runs when it is chosen; the
  // returned function gives the process exit status.
  std::function<std::function<int()>(CLI::App& sub)> setup;
};

std::vector<Command>& commands();

// A file-scope `static const Registration r{{"name", "what it does", setup}};` adds a command.
struct Registration {
  explicit Registration(Command c) { commands().push_back(std::move(c)); }
};

}  // namespace fm::apps
