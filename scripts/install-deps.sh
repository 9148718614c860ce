#!/usr/bin/env bash
# Installs the Debian packages fermata builds with. Idempotent: when everything is present it
# only asks dpkg (well under a second) and never touches the network.
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libopenblas-dev libopenblas-openmp-dev libfftw3-dev libomp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libstb-dev
  libsndfile1-dev libsamplerate0-dev libfluidsynth-dev fluid-soundfont-gm mma
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
