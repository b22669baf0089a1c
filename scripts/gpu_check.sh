#!/usr/bin/env bash
# The GPU check in one call: lossy's CUDA forward pass against its CPU path
# (per layer, per dtype), a small study's features on the GPU against the CPU,
# and throughput and memory against PyTorch. Results: $OUT/gpu.{md,json}
# (default reports/bench/). Details: scripts/gpu_check.py.
#
# On a GPU machine with no network and no Rust (the `device` tool's machine):
# build here, carry the binary, run there:
#
#   scripts/cuda_toolkit.sh && source .cache/cuda/env.sh
#   cargo build --release --features cuda
#   mkdir -p .cache/gpu && xz -T0 -c target/release/lossy > .cache/gpu/lossy.xz
#   # device tool: carry [".cache/gpu"], command: bash scripts/gpu_check.sh
#
# (The binary is compressed because the device tool carries at most 64 MiB:
# a dev-profile CUDA build is 198 MB, 25 MB as .xz.)
#
# The binary links libcudart, libcublas(Lt), libcurand and libnvrtc of the
# CUDA major it was built with (13 by default) and the driver's libcuda.so.1.
# They are looked for in PyTorch's wheels (site-packages/nvidia/*/lib), then
# in /usr/local/cuda/lib64; a missing one stops the check here, named.
#
#   bash scripts/gpu_check.sh [--lossy PATH] [--device cuda:0] [--quick]
#   bash scripts/gpu_check.sh --device cpu --lossy target/debug/lossy --quick --out /tmp/x
#                              # CPU dry run of the script itself (no GPU numbers)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

LOSSY=.cache/gpu/lossy
ARGS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --lossy) LOSSY="$2"; shift 2 ;;
        *) ARGS+=("$1"); shift ;;
    esac
done
if [[ ! -x "$LOSSY" && -f "$LOSSY.xz" ]]; then
    xz -dc "$LOSSY.xz" > "$LOSSY" && chmod +x "$LOSSY"
fi
[[ -x "$LOSSY" ]] || { echo "gpu_check: no lossy binary at $LOSSY (see the header of this script)" >&2; exit 2; }

PY="${PYTHON:-python3}"
libdirs=$("$PY" - <<'PY' 2>/dev/null || true
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
for r in roots:
    for d in sorted(glob.glob(os.path.join(r, "nvidia", "*", "lib"))):
        print(d)
PY
)
for d in $libdirs /usr/local/cuda/lib64; do
    [[ -d "$d" ]] && LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}"

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "(no nvidia-smi)"
missing=$(ldd "$LOSSY" | awk '/not found/ {print $1}')
if [[ -n "$missing" ]]; then
    echo "gpu_check: $LOSSY needs libraries this machine lacks: $missing" >&2
    echo "  (searched: ${LD_LIBRARY_PATH:-nothing}); rebuild with LOSSY_CUDA_VERSION set to this machine's CUDA" >&2
    exit 2
fi
"$LOSSY" --version

echo "== check"
exec timeout 450 "$PY" scripts/gpu_check.py --lossy "$LOSSY" "${ARGS[@]}"
