#!/usr/bin/env bash
# The whole GPU check in one call, on a bare NVIDIA machine without internet.
#
#   bash benchmarks/gpu_check.sh            (from the repository root)
#
# It uses the machine's own CuPy and scikit-learn, plus any wheels carried in
# .whl/ (see benchmarks/gpu_check.py's docstring for how to download them).
# Then, within about 8 minutes:
#   1. the CuPy tests of the suite (tests/test_array_api.py -k "cuda or cupy");
#   2. every estimator's MNIST fit with device="cuda" against the CPU, as a
#      table (benchmarks/gpu_check.py);
#   3. a GPU-fitted model pickled, then unpickled and used for prediction in
#      a process where CuPy cannot be imported.
# Results go to benchmarks/results/gpu.md (and $OUT/gpu.md when $OUT is set).
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 SCIPY_ARRAY_API=1
PY=${PYTHON:-python3}
SITE=/tmp/skgf_site
mkdir -p "$SITE"
# the lent machine's image has CuPy, NumPy, SciPy, scikit-learn and pytest;
# anything else (array-api-strict, another CuPy) travels as wheels in .whl/
if ls .whl/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" .whl/*.whl || exit 1
fi
export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY -c "import cupy; print('cupy', cupy.__version__, cupy.cuda.runtime.getDeviceCount(), 'device(s)')" \
    || { echo "CuPy does not import: nothing to check"; exit 1; }

echo "== 1. CuPy tests"
timeout 180 $PY -m pytest -q -p no:cacheprovider tests/test_array_api.py -k "cuda or cupy" \
    2>&1 | tee /tmp/gpu_tests.txt
echo "== 2. MNIST fits, GPU against CPU"
timeout 300 $PY -m benchmarks.gpu_check --data-dir "${SKGF_DATA:-../shared/data}" \
    --tests /tmp/gpu_tests.txt --out benchmarks/results/gpu.md
status=$?
[ -n "${OUT:-}" ] && cp benchmarks/results/gpu.md "$OUT/" 2>/dev/null
exit $status
