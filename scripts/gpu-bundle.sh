#!/usr/bin/env bash
# For a GPU machine that cannot build fermata (no network for scripts/install-deps.sh, none
# of the C++ dependencies): packs the gpu test program and the benchmark program of a CUDA
# build made here, with the non-CUDA shared libraries they need (OpenBLAS, gfortran, OpenMP,
# Google Benchmark, libstdc++), into one archive, $BUILD/gpu-bundle.tar.xz (about 15 MB).
# The CUDA libraries (cudart, cuBLAS, and cuFFT and cuDNN for the benchmarks' yardsticks) are
# taken from the GPU machine: its CUDA 13, or the nvidia-* Python wheels its image carries.
#   here:   bash scripts/gpu-bundle.sh            (BUILD defaults to build)
#   there:  tar xf build/gpu-bundle.tar.xz && bash gpu-bundle/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
cmake --build "$build" -j1 --target fermata_gpu_tests fermata_bench
out="$build/gpu-bundle"
rm -rf "$out"
mkdir -p "$out/lib"
cp "$build/tests/fermata_gpu_tests" "$build/bench/fermata_bench" "$out/"
cp scripts/gpu_bench_table.py "$out/"
for bin in "$out/fermata_gpu_tests" "$out/fermata_bench"; do
  ldd "$bin" | awk '$3 ~ /^\// {print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libcuda*|libcublas*|libcudart*|libcufft*|libcudnn*) ;;
      *) cp -L "$lib" "$out/lib/" ;;
    esac
  done
done
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the bundled gpu tests and CUDA benchmarks, then prints the table (see gpu-bundle.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cudalib=/usr/local/cuda/lib64
if command -v nvcc > /dev/null; then cudalib="$(dirname "$(readlink -f "$(command -v nvcc)")")/../lib64"; fi
# cuDNN and cuFFT may come as Python wheels (nvidia-cudnn-cu13, nvidia-cufft) rather than with CUDA
wheels=$(python3 - <<'PY' 2>/dev/null
import importlib, os
dirs = []
for name in ("nvidia.cudnn", "nvidia.cufft", "nvidia.cu13"):
    try:
        m = importlib.import_module(name)
    except ImportError:
        continue
    for base in list(getattr(m, "__path__", [])):
        lib = os.path.join(base, "lib")
        if os.path.isdir(lib):
            dirs.append(lib)
print(":".join(dirs))
PY
)
export LD_LIBRARY_PATH="$here/lib:$cudalib${wheels:+:$wheels}:${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
outdir=${OUT:-$here}
status=0
"$here/fermata_gpu_tests" --gtest_output="xml:$outdir/gpu-tests.xml" 2>&1 | tee "$outdir/gpu-tests.log" | tail -40
[ "${PIPESTATUS[0]}" = 0 ] || status=1
"$here/fermata_bench" --benchmark_filter="${BENCH_FILTER:-BM_cuda_}" --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_out="$outdir/gpu-bench.json" \
  --benchmark_out_format=json > "$outdir/gpu-bench.txt" 2>&1 || status=1
python3 "$here/gpu_bench_table.py" "$outdir/gpu-bench.json" || status=1
exit $status
RUN
chmod +x "$out/run.sh"
tar -C "$build" -cJf "$build/gpu-bundle.tar.xz" gpu-bundle
ls -la "$build/gpu-bundle.tar.xz"
