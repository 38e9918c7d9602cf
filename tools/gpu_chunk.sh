#!/usr/bin/env bash
# One chunk of the `full`-scale results on a CUDA machine, resumable: run it as often as needed.
#
# On the GPU machine (torch, numpy, scipy, matplotlib, tqdm installed; no network; no ../shared), from the
# repository's root, with the CIFAR-10 offline copy carried in the git-ignored folder .cifar10/ (prepared
# here by `tools/gpu_chunk.sh --prepare`, which copies ../shared/cifar10 into it):
#
#     bash tools/gpu_chunk.sh [BUDGET_S [EXPERIMENT ...]]        # default 540 s, every experiment
#
# It computes, within the budget, what is missing of every experiment's `full` config (sweeps store each
# finished cell, so the next chunk continues), then packs everything new under results/ into
# $OUT/results-chunk.tar.gz (one file, to fit the device tool's limits). Back here:
#
#     tar xzf <files_at>/results-chunk.tar.gz && python -m modscale_lib verify && git add results && git commit
#
# The stored metadata records the GPU as the device of each result and cell.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--prepare" ]; then
  mkdir -p .cifar10 && cp ../shared/cifar10/cifar10-jpeg-q75.tar.gz ../shared/cifar10/train_perm_jpeg_to_original.npy \
    ../shared/cifar10/cifar10_labels_first51000.npy .cifar10/ && echo "prepared .cifar10/ (carry it)"
  exit 0
fi

budget="${1:-540}"; shift || true
export PYTHONPATH=. MODSCALE_RESULTS_DIR="${MODSCALE_RESULTS_DIR:-$PWD/results}"
[ -d .cifar10 ] && export MODSCALE_CIFAR10="$PWD/.cifar10"
stamp=$(mktemp); touch "$stamp"
python -c "import torch; print('device:', torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu (no CUDA!)')"
if [ "$#" -gt 0 ]; then
  for exp in "$@"; do   # one budget for the whole chunk, not one per experiment
    left=$((budget - SECONDS)); [ "$left" -gt 30 ] || break
    python -m modscale_lib compute "$exp" --config full --budget-s "$left" || true
  done
else
  python -m modscale_lib compute --all --config full --budget-s "$budget" || true
fi
out="${OUT:-/tmp}"
find "$MODSCALE_RESULTS_DIR" -newer "$stamp" -type f -print0 | tar czf "$out/results-chunk.tar.gz" --null -T -
echo "packed $(tar tzf "$out/results-chunk.tar.gz" | wc -l) files into $out/results-chunk.tar.gz"
