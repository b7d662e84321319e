#!/usr/bin/env bash
# Regenerates exiftool's reference output over the test corpus, which the
# corpus tests compare Assay's EXIF with. Run after adding or removing a file
# under tests/corpus/files/. SourceFile is relative to files/, entries are in
# path order, and the System group (file times, permissions: what a checkout
# changes) and the version line are left out.
set -euo pipefail
corpus="$(cd "$(dirname "$0")/../tests/corpus" && pwd)"
cd "$corpus/files"
command -v exiftool >/dev/null || { echo "corpus-reference: exiftool is missing (apt-get install libimage-exiftool-perl)" >&2; exit 1; }
# exiftool exits 1 when some file has an error (the broken ones do); it still
# prints every file, so only a missing output is a failure.
run() {
  local out="$1"; shift
  timeout 600 exiftool -json "$@" -G1 -r -fileOrder SourceFile --System:all . > "$out.tmp" || true
  python3 - "$out.tmp" "$out" <<'PY'
import json, sys
entries = json.load(open(sys.argv[1]))
for e in entries:
    e["SourceFile"] = e["SourceFile"].removeprefix("./")
    e.pop("ExifTool:ExifToolVersion", None)
entries.sort(key=lambda e: e["SourceFile"])
with open(sys.argv[2], "w") as f:
    json.dump(entries, f, indent=1, ensure_ascii=False)
    f.write("\n")
PY
  rm "$out.tmp"
}
run "$corpus/exiftool-n.json" -n
run "$corpus/exiftool.json"
echo "corpus-reference: $(exiftool -ver) over $(find . -type f | wc -l) files" >&2
