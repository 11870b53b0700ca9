#!/usr/bin/env bash
# GPU check of Cairn's ONNX runtime: serves one MLP on device cpu and on device cuda from the same
# server, checks that both answer the same, and prints latency and throughput at batch 1 and 64.
#
# Usage: bench/gpu/check.sh [--cpu-only] [--cairn-bin PATH] [--venv DIR] [--wheels DIR]
#                           [--duration S] [--ort-version V] [--cpu-threads N] [--keep]
#
#   --cpu-only     no GPU needed: installs the CPU onnxruntime wheel instead of onnxruntime-gpu,
#                  runs everything on device cpu, and checks that device cuda is refused with a
#                  clear reason (the CPU library has no CUDA execution provider)
#   --cairn-bin    the server binary (default build/release/cairn; a stripped copy is enough)
#   --venv         where the Python environment goes (default bench/gpu/.venv); reused when its
#                  pins match
#   --wheels DIR   install from downloaded wheels only (pip --no-index --find-links DIR), for a
#                  machine that cannot reach PyPI; fill DIR elsewhere with
#                  pip download -d DIR "onnxruntime-gpu[cuda,cudnn]==1.31.1" onnx numpy
#   --duration S   seconds of load per measurement (default 5; 8 measurements per device)
#   --cpu-threads  intra-op threads of the cpu deployment (default 4)
#   --keep         keep the server's data folder and log
#
# Needs: Linux x86_64, python3 with venv, the Cairn binary's shared libraries (scripts/install.sh
# installs them on Debian 12), and for the GPU part an NVIDIA driver new enough for CUDA 13:
# onnxruntime-gpu 1.31 is built for CUDA 13 and cuDNN 9 (its [cuda,cudnn] extras pull the
# nvidia-*-cu13 runtime wheels). Cairn is compiled against the 1.31 C API and cannot load an
# older library. About 2 GB of wheels the first time; the measured part takes about 2 minutes.
# Exit status: 0 all checks passed, 1 a check failed, 2 something is missing (the message says
# what).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CPU_ONLY=0
CAIRN_BIN="${ROOT}/build/release/cairn"
VENV="${ROOT}/bench/gpu/.venv"
WHEELS=""
DURATION=5
ORT_VERSION=1.31.1
CPU_THREADS=4
KEEP=0

die() {
  echo "check.sh: $*" >&2
  exit 2
}

while (($#)); do
  case "$1" in
    --cpu-only) CPU_ONLY=1 ;;
    --cairn-bin) CAIRN_BIN="$2"; shift ;;
    --venv) VENV="$2"; shift ;;
    --wheels) WHEELS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --ort-version) ORT_VERSION="$2"; shift ;;
    --cpu-threads) CPU_THREADS="$2"; shift ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

# -- what must be there before anything is installed -------------------------------------------

[[ "$(uname -sm)" == "Linux x86_64" ]] || die "needs Linux x86_64, this is $(uname -sm)"
[[ -x "${CAIRN_BIN}" ]] || die "no Cairn binary at ${CAIRN_BIN}: build it (scripts/build.sh release) or pass --cairn-bin"
missing_libs="$(ldd "${CAIRN_BIN}" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')"
[[ -z "${missing_libs}" ]] || die "the Cairn binary needs shared libraries this machine lacks: ${missing_libs}(scripts/install.sh installs them on Debian 12)"
PYTHON="$(command -v python3 || true)"
[[ -n "${PYTHON}" ]] || die "python3 is missing"
"${PYTHON}" -c 'import venv, ensurepip' 2>/dev/null || die "python3 has no venv/ensurepip module (Debian: apt-get install python3-venv)"

if ((CPU_ONLY == 0)); then
  command -v nvidia-smi >/dev/null || die "nvidia-smi not found: no NVIDIA driver here (use --cpu-only to check the rest)"
  gpu="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)" \
    || die "nvidia-smi fails: ${gpu}"
  [[ -n "${gpu}" ]] || die "nvidia-smi lists no GPU"
  cuda_driver="$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9][0-9]*\)\.\([0-9]*\).*/\1.\2/p' | head -1)"
  echo "GPU: ${gpu}; the driver supports CUDA ${cuda_driver:-unknown}"
  if [[ -n "${cuda_driver}" && "${cuda_driver%%.*}" -lt 13 ]]; then
    die "onnxruntime-gpu ${ORT_VERSION} needs CUDA 13, and this driver supports only CUDA ${cuda_driver}: update the driver (>= 580)"
  fi
fi

# -- the Python environment ----------------------------------------------------------------------

if ((CPU_ONLY)); then
  PINS=("onnxruntime==${ORT_VERSION}" "onnx" "numpy")
else
  PINS=("onnxruntime-gpu[cuda,cudnn]==${ORT_VERSION}" "onnx" "numpy")
fi
STAMP="${VENV}/check-pins.txt"
if [[ ! -x "${VENV}/bin/python" || "$(cat "${STAMP}" 2>/dev/null)" != "${PINS[*]}" ]]; then
  echo "creating ${VENV} with: ${PINS[*]}"
  rm -rf "${VENV}"
  "${PYTHON}" -m venv "${VENV}" || die "cannot create a virtualenv at ${VENV}"
  pip_args=(install --quiet --disable-pip-version-check)
  if [[ -n "${WHEELS}" ]]; then
    [[ -d "${WHEELS}" ]] || die "--wheels ${WHEELS} is not a folder"
    pip_args+=(--no-index --find-links "${WHEELS}")
  fi
  if ! timeout 900 "${VENV}/bin/pip" "${pip_args[@]}" "${PINS[@]}"; then
    rm -rf "${VENV}"
    die "pip could not install ${PINS[*]} (is PyPI reachable? otherwise use --wheels)"
  fi
  echo "${PINS[*]}" >"${STAMP}"
fi

SITE="$("${VENV}/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
ORT_LIB="$(ls "${SITE}"/onnxruntime/capi/libonnxruntime.so* 2>/dev/null | head -1)"
[[ -n "${ORT_LIB}" ]] || die "the onnxruntime wheel in ${VENV} has no libonnxruntime.so (looked in ${SITE}/onnxruntime/capi)"

# The CUDA provider library finds libcudart, libcublas, libcudnn, ... through LD_LIBRARY_PATH:
# every folder of the nvidia-* wheels that holds shared libraries.
lib_dirs="$(dirname "${ORT_LIB}")"
if [[ -d "${SITE}/nvidia" ]]; then
  while IFS= read -r dir; do
    lib_dirs="${lib_dirs}:${dir}"
  done < <(find "${SITE}/nvidia" -name 'lib*.so*' -printf '%h\n' | sort -u)
fi
export LD_LIBRARY_PATH="${lib_dirs}${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"

if ((CPU_ONLY == 0)); then
  provider="$(dirname "${ORT_LIB}")/libonnxruntime_providers_cuda.so"
  [[ -f "${provider}" ]] || die "${ORT_LIB} comes without libonnxruntime_providers_cuda.so: not the onnxruntime-gpu wheel?"
  unresolved="$(ldd "${provider}" | awk '/not found/ {print $1}' | tr '\n' ' ')"
  [[ -z "${unresolved}" ]] || die "the CUDA provider cannot find: ${unresolved}(libcuda.so.1 comes with the NVIDIA driver; the others with the nvidia-*-cu13 wheels)"
  find "${SITE}/nvidia" -name 'libcudnn.so.9*' | grep -q . \
    || die "no libcudnn.so.9 in the venv's nvidia wheels (nvidia-cudnn-cu13)"
fi

echo "ONNX Runtime library: ${ORT_LIB}"
args=(--cairn-bin "${CAIRN_BIN}" --ort-lib "${ORT_LIB}" --duration "${DURATION}"
      --cpu-threads "${CPU_THREADS}")
((CPU_ONLY)) && args+=(--cpu-only)
((KEEP)) && args+=(--keep)
exec "${VENV}/bin/python" "${ROOT}/bench/gpu/gpu_check.py" "${args[@]}"
