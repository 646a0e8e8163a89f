#!/usr/bin/env bash
# Builds native/cpu's SGEMM (with its thread pool) as a shared object for ./driver:
#   bench/native/gemm-pair/build.sh OUT.so [-DINGOT_GEMM_MR=6 -DINGOT_GEMM_KC=384 -march=x86-64-v3 ...]
# and the driver itself when it is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../../../native/cpu"
out=$1
shift
[ -x "$here/driver" ] || g++ -O2 "$here/driver.cc" -o "$here/driver" -ldl
g++ -std=c++17 -O3 -march=native -fomit-frame-pointer -fno-math-errno -fno-trapping-math -shared -fPIC -fvisibility=hidden \
  -I"$src" "$@" "$src/gemm.cc" "$src/threadpool.cc" "$here/entry.cc" -o "$out" -lpthread
