#!/usr/bin/env bash
# A CUDA toolkit for `cargo build --features cuda`, assembled from NVIDIA's
# PyPI wheels, so the GPU build works on a machine with no GPU, no driver and
# no CUDA in its package archive (Debian main has none).
#
#   scripts/cuda_toolkit.sh                  # → .cache/cuda/ (git-ignored)
#   source .cache/cuda/env.sh                # CUDA_ROOT, PATH, CUDA_COMPUTE_CAP, ...
#   cargo build --release --features cuda
#
# Settings (environment):
#   LOSSY_CUDA_DIR       where the toolkit goes (default .cache/cuda)
#   LOSSY_CUDA_VERSION   toolkit version (default 13.2.86: the runtime that
#                        PyTorch 2.15's wheels carry, so a GPU machine with that
#                        PyTorch has matching libraries)
#   CUDA_COMPUTE_CAP     GPU architecture the kernels are compiled for
#                        (default 90: H100/H200); nvidia-smi is not asked
#   PYTHON               the Python that makes the venv (default python3)
#
# What it lays out, in the usual toolkit shape (bin/, include/, lib64/):
# nvcc, ptxas, cicc (nvvm), the CUDA runtime headers, libcudart, libnvrtc,
# libcublas/libcublasLt and libcurand with the unversioned names the linker
# wants, and lib64/stubs/libcuda.so. That last one is the driver API's link
# stub: the real libcuda.so.1 comes with the NVIDIA driver on a GPU machine
# and is what the program loads there (the stub's soname is libcuda.so.1).
# NVIDIA's toolkit ships such a stub; no wheel carries it, so it is made here
# from the driver entry points that cudarc declares (every one aborts if
# called: it exists only so the linker can resolve the names).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${LOSSY_CUDA_DIR:-$ROOT/.cache/cuda}"
VERSION="${LOSSY_CUDA_VERSION:-13.2.86}"
CAP="${CUDA_COMPUTE_CAP:-90}"
PY="${PYTHON:-python3}"
MAJOR="${VERSION%%.*}"

die() { echo "cuda_toolkit: ERROR: $*" >&2; exit 1; }
command -v "$PY" >/dev/null || die "'$PY' not found (set PYTHON)"
command -v cc >/dev/null || die "a C compiler (cc) is needed for the libcuda link stub and by nvcc"

# Wheel names and versions: the runtime components follow VERSION; cuBLAS and
# cuRAND have their own version lines (pip picks the newest of the major).
case "$MAJOR" in
    13) SUFFIX="" ;;
    12) SUFFIX="-cu12" ;;
    *) die "LOSSY_CUDA_VERSION=$VERSION: only CUDA 12.x and 13.x wheels are supported" ;;
esac
WHEELS=(
    "nvidia-cuda-nvcc$SUFFIX==$VERSION"
    "nvidia-cuda-runtime$SUFFIX==$VERSION"
    "nvidia-cuda-nvrtc$SUFFIX==$VERSION"
    "nvidia-cuda-cccl$SUFFIX"
    "nvidia-cublas$SUFFIX"
    "nvidia-curand$SUFFIX"
)
if [[ "$MAJOR" == 13 ]]; then
    # CUDA 13 splits nvcc's front end (cicc) and the crt headers into wheels of their own.
    WHEELS+=("nvidia-nvvm==$VERSION" "nvidia-cuda-crt==$VERSION")
fi

VENV="$DIR/venv"
mkdir -p "$DIR"
if [[ ! -x "$VENV/bin/pip" ]]; then
    "$PY" -m venv "$VENV"
fi
echo "== installing ${WHEELS[*]}"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "${WHEELS[@]}"

SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
if [[ "$MAJOR" == 13 ]]; then SRC="$SITE/nvidia/cu13"; else SRC="$SITE/nvidia"; fi
[[ -d "$SRC" ]] || die "the wheels did not install under $SRC"

# One toolkit tree (symlinks into the wheels).
TK="$DIR/toolkit"
rm -rf "$TK.new"
mkdir -p "$TK.new/bin" "$TK.new/include" "$TK.new/lib64/stubs"
link_all() { # link every entry of $1 into $2 (first one wins)
    local from="$1" to="$2" f
    [[ -d "$from" ]] || return 0
    for f in "$from"/*; do
        [[ -e "$to/$(basename "$f")" ]] || ln -s "$f" "$to/$(basename "$f")"
    done
}
for part in "$SRC" "$SRC"/*/; do
    link_all "$part/bin" "$TK.new/bin"
    link_all "$part/include" "$TK.new/include"
    link_all "$part/lib" "$TK.new/lib64"
done
# nvcc finds cicc and libdevice at ../nvvm relative to its bin/.
if [[ -d "$SRC/nvvm" ]]; then ln -s "$SRC/nvvm" "$TK.new/nvvm"; fi
# The linker asks for libX.so; the wheels carry only libX.so.N.
for so in "$TK.new"/lib64/lib*.so.*; do
    base="${so##*/}"
    plain="${base%%.so.*}.so"
    [[ -e "$TK.new/lib64/$plain" ]] || ln -s "$base" "$TK.new/lib64/$plain"
done
command -v "$TK.new/bin/nvcc" >/dev/null || die "no nvcc in the wheels"

# The driver-API link stub, from cudarc's declarations of the entry points.
CUDARC="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.* 2>/dev/null | sort -V | tail -1 || true)"
if [[ -z "$CUDARC" ]]; then
    (cd "$ROOT" && cargo fetch --locked >/dev/null)
    CUDARC="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.* | sort -V | tail -1)"
fi
STUB_C="$DIR/libcuda_stub.c"
{
    echo '/* Link stub for the CUDA driver API (made by scripts/cuda_toolkit.sh). */'
    echo '#include <stdio.h>'
    echo '#include <stdlib.h>'
    echo 'static void stub(const char *f) { fprintf(stderr, "libcuda stub: %s called; the NVIDIA driver'"'"'s libcuda.so.1 must be loaded instead\n", f); abort(); }'
    grep -rhoE 'pub unsafe fn (cu[A-Za-z0-9_]+)\(' "$CUDARC/src/driver/sys/" \
        | sed -E 's/pub unsafe fn (cu[A-Za-z0-9_]+)\(/\1/' | sort -u \
        | awk '{ printf "void %s(void) { stub(\"%s\"); }\n", $1, $1 }'
} >"$STUB_C"
cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$TK.new/lib64/stubs/libcuda.so" "$STUB_C"

rm -rf "$TK"
mv "$TK.new" "$TK"

NVCC_VERSION="$("$TK/bin/nvcc" --version | sed -nE 's/.*release ([0-9]+)\.([0-9]+).*/\1\2/p')"
MINOR="$(echo "$VERSION" | cut -d. -f2)"
cat >"$DIR/env.sh" <<ENV
# Made by scripts/cuda_toolkit.sh: source it before \`cargo build --features cuda\`.
export CUDA_ROOT="$TK"
export CUDA_PATH="$TK"   # cudarc links from \$CUDA_ROOT/lib64 and lib64/stubs
export PATH="$TK/bin:\$PATH"
export CUDA_COMPUTE_CAP="$CAP"
export CUDARC_CUDA_VERSION="${MAJOR}0${MINOR}0"
ENV
echo "toolkit: $TK (nvcc $NVCC_VERSION, compute capability $CAP)"
echo "next: source $DIR/env.sh && cargo build --release --features cuda"
