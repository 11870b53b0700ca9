#!/usr/bin/env bash
# Fetches ONNX Runtime into the build-local prefix .deps/onnxruntime/ (no system-wide change):
#   lib/libonnxruntime.so.<ORT_LIB_VERSION>  from the PyPI wheel `onnxruntime` (Microsoft's build)
#   include/onnxruntime/*.h                  from Debian 13's libonnxruntime-dev (the upstream
#                                            headers of ORT_HEADER_VERSION, byte-identical)
# Debian bookworm packages neither. Both downloads are pinned by version and sha256.
#
# Cairn loads the library with dlopen and asks it for the C API of the headers' ORT_API_VERSION
# (ONNX Runtime keeps every older API version available in newer libraries), so the library may
# be newer than the headers; the GPU check points the server at onnxruntime-gpu's library the
# same way. After fetching, a tiny program compiled against the headers loads the library and
# checks that it serves that API version.
#
# Idempotent: does nothing when the prefix already holds the pinned versions.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${CAIRN_ONNXRUNTIME_PREFIX:-${ROOT}/.deps/onnxruntime}"
PYTHON="${CAIRN_PYTHON:-/usr/bin/python3}"

ORT_LIB_VERSION=1.31.1
ORT_WHEEL="onnxruntime-${ORT_LIB_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl"
ORT_WHEEL_SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
ORT_HEADER_VERSION=1.21.0
ORT_DEB="libonnxruntime-dev_${ORT_HEADER_VERSION}+dfsg-1_amd64.deb"
ORT_DEB_SHA256=14f7d959d5deacbcf1504830d4189f91fc67382b399ed9ae9d3aa9c4050ced08
DEBIAN_MIRROR="${CAIRN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

STAMP="${PREFIX}/.stamp"
WANTED="${ORT_WHEEL_SHA256} ${ORT_DEB_SHA256}"

log() { echo "install_onnxruntime.sh: $*" >&2; }

if [[ -f "${STAMP}" && "$(cat "${STAMP}")" == "${WANTED}" ]]; then
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

check_sha256() {
  local file="$1" want="$2"
  local got
  got="$(sha256sum "${file}" | cut -d' ' -f1)"
  if [[ "${got}" != "${want}" ]]; then
    log "checksum mismatch for $(basename "${file}"): got ${got}, pinned ${want}"
    exit 1
  fi
}

log "fetching ${ORT_WHEEL}"
"${PYTHON}" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version 3.11 --platform manylinux_2_28_x86_64 \
  "onnxruntime==${ORT_LIB_VERSION}" -d "${work}"
check_sha256 "${work}/${ORT_WHEEL}" "${ORT_WHEEL_SHA256}"

# apt-get download with a private state directory and a trixie sources line: reads Debian's signed
# index for the .deb, touches nothing outside ${work}.
log "fetching ${ORT_DEB}"
apt_dir="${work}/apt"
mkdir -p "${apt_dir}"/{lists/partial,cache/archives/partial,sources.list.d,preferences.d}
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${DEBIAN_MIRROR} trixie main" \
  >"${apt_dir}/sources.list"
apt_opts=(
  -o "Dir::State=${apt_dir}" -o "Dir::State::Lists=${apt_dir}/lists"
  -o "Dir::State::status=/dev/null" -o "Dir::Cache=${apt_dir}/cache"
  -o "Dir::Etc::SourceList=${apt_dir}/sources.list"
  -o "Dir::Etc::SourceParts=${apt_dir}/sources.list.d"
  -o "Dir::Etc::PreferencesParts=${apt_dir}/preferences.d"
  -o "APT::Sandbox::User=root" -o "APT::Architecture=amd64"
)
apt-get "${apt_opts[@]}" -qq update
(cd "${work}" && apt-get "${apt_opts[@]}" -qq download "libonnxruntime-dev=${ORT_HEADER_VERSION}+dfsg-1")
check_sha256 "${work}/${ORT_DEB}" "${ORT_DEB_SHA256}"

rm -rf "${PREFIX}.new"
mkdir -p "${PREFIX}.new/lib" "${PREFIX}.new/include"
(cd "${work}" && "${PYTHON}" -m zipfile -e "${ORT_WHEEL}" wheel)
cp "${work}/wheel/onnxruntime/capi/libonnxruntime.so.${ORT_LIB_VERSION}" "${PREFIX}.new/lib/"
ln -s "libonnxruntime.so.${ORT_LIB_VERSION}" "${PREFIX}.new/lib/libonnxruntime.so"
dpkg-deb -x "${work}/${ORT_DEB}" "${work}/deb"
cp -r "${work}/deb/usr/include/onnxruntime" "${PREFIX}.new/include/"

# The headers' API version must be served by the library.
cat >"${work}/check.cc" <<'EOF'
#define ORT_API_MANUAL_INIT
#include <dlfcn.h>
#include <onnxruntime_c_api.h>
#include <cstdio>
int main(int, char** argv) {
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) { std::fprintf(stderr, "%s\n", dlerror()); return 1; }
  auto get = reinterpret_cast<const OrtApiBase* (*)()>(dlsym(lib, "OrtGetApiBase"));
  if (get == nullptr || get()->GetApi(ORT_API_VERSION) == nullptr) {
    std::fprintf(stderr, "library does not serve ORT_API_VERSION %d\n", ORT_API_VERSION);
    return 1;
  }
  std::printf("ONNX Runtime %s serves ORT_API_VERSION %d\n", get()->GetVersionString(),
              ORT_API_VERSION);
  return 0;
}
EOF
g++ -std=c++20 -I"${PREFIX}.new/include/onnxruntime" "${work}/check.cc" -o "${work}/check" -ldl
"${work}/check" "${PREFIX}.new/lib/libonnxruntime.so.${ORT_LIB_VERSION}" >&2

rm -rf "${PREFIX}"
mv "${PREFIX}.new" "${PREFIX}"
echo "${WANTED}" >"${STAMP}"
log "ONNX Runtime ${ORT_LIB_VERSION} (headers ${ORT_HEADER_VERSION}) in ${PREFIX}"
