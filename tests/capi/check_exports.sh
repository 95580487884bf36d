#!/bin/sh
# The shared library exports its public API and nothing else: exactly the C functions
# mixprec.h declares, and C++ names in namespace mixprec (with their classes' type
# information and vtables) but no kernel (isa_* namespaces) and no standard-library
# template instance. Every export carries the ABI version node MIXPREC_0.
#   check_exports.sh <libmixprec.so> <mixprec.h>
set -eu
lib="$1" header="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '{print $3}' > "$tmp/raw"
total=$(wc -l < "$tmp/raw")
status=0

if grep -v '@@MIXPREC_0$' "$tmp/raw" | grep -v '^MIXPREC_0$' > "$tmp/unversioned"; then
  echo "exports without the MIXPREC_0 version node:"; head "$tmp/unversioned"; status=1
fi
sed 's/@@MIXPREC_0$//' "$tmp/raw" | grep -v '^MIXPREC_0$' > "$tmp/names"

grep -o 'MIXPREC_C_API [^(]*(' "$header" | grep -o 'mixprec_[a-z0-9_]*($' | tr -d '(' | sort > "$tmp/declared"
grep '^mixprec_' "$tmp/names" | sort > "$tmp/c_exported"
if ! diff "$tmp/declared" "$tmp/c_exported" > "$tmp/c_diff"; then
  echo "C symbols: declared in mixprec.h (<) and exported (>) differ:"; cat "$tmp/c_diff"; status=1
fi

grep -v '^mixprec_' "$tmp/names" | c++filt > "$tmp/cpp"
if grep -v -E '^(mixprec::|typeinfo for mixprec::|typeinfo name for mixprec::|vtable for mixprec::|VTT for mixprec::|guard variable for mixprec::|non-virtual thunk to mixprec::|.* mixprec::)' "$tmp/cpp" > "$tmp/foreign"; then
  echo "C++ exports outside namespace mixprec:"; head -20 "$tmp/foreign"; status=1
fi
if grep -E 'mixprec::isa_|mixprec::kernels' "$tmp/cpp" > "$tmp/kernels"; then
  echo "kernel symbols exported:"; head -20 "$tmp/kernels"; status=1
fi
echo "exports: $total ($(wc -l < "$tmp/c_exported") C functions, $(wc -l < "$tmp/cpp") C++ names)"
exit $status
