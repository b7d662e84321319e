#!/usr/bin/env bash
# Makes the Content Credentials fixtures of tests/corpus/c2pa/c2patool/ with
# c2patool (scripts/setup.sh installs it), signed with its built-in
# development certificate, from a corpus photo: the same cases the crate's
# own fixtures cover (examples/make_fixtures.rs), written by the other
# implementation a buyer is likely to use; and, in formats/, one store in
# each other format c2pa reads that the corpus holds a file of (WebP, TIFF,
# DNG, HEIC, AVIF), in a WAV made here (a 0.5 s tone) and in an MP4 and a
# MOV made here with ffmpeg (0.5 s of its test pattern; FFMPEG names it,
# e.g. the static build of `pip install imageio-ffmpeg`). c2pa cannot embed
# into PDF, so no PDF is made. Thumbnails are off to keep the files small.
# Usage: scripts/make-c2patool-fixtures.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$repo/tests/corpus/c2pa/c2patool"
tool="${C2PATOOL:-$HOME/.cargo/bin/c2patool}"
photo="$repo/tests/corpus/files/exif-py/jpg/exif-org/sanyo-vpcg250.jpg"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
echo '{"builder": {"thumbnail": {"enabled": false}}}' > "$work/settings.json"

manifest() { # NAME ASSERTIONS-JSON
  printf '{"claim_generator_info": [{"name": "c2patool fixtures", "version": "1"}], "assertions": %s}\n' "$2" > "$work/$1.json"
}
sign() { # MANIFEST OUTPUT [c2patool options...]
  local name="$1" output="$2"
  shift 2
  timeout 120 "$tool" "$photo" --settings "$work/settings.json" -m "$work/$name.json" -o "$out/$output" -f "$@" > /dev/null
}
captured='{"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}}'
refused='{"label": "cawg.training-mining", "data": {"entries": {"cawg.ai_training": {"use": "notAllowed"}, "cawg.ai_generative_training": {"use": "notAllowed"}, "cawg.ai_inference": {"use": "notAllowed"}, "cawg.data_mining": {"use": "notAllowed"}}}}'
generated='{"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}}'

manifest valid "[$captured]"
sign valid valid.jpg
manifest refused "[$captured, $refused]"
sign refused training-not-allowed.jpg
manifest generated "[$generated]"
sign generated ai-generated.jpg
# An edit of valid.jpg, which c2patool names as its parent ingredient.
manifest edited '[{"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.edited"}]}}]'
photo="$out/valid.jpg" sign edited with-parent.jpg --parent "$out/valid.jpg"

# Every other format: the same captured-media claim.
mkdir -p "$out/formats"
python3 - "$work/tone.wav" <<'PY'
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(8000)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(4000)))
PY
for container in mp4 mov; do
  "${FFMPEG:-ffmpeg}" -v error -y -f lavfi -i testsrc=size=64x64:rate=10 -t 0.5 -c:v libx264 \
    -pix_fmt yuv420p -fflags +bitexact -flags +bitexact -map_metadata -1 "$work/clip.$container"
done
corpus="$repo/tests/corpus/files/exiftool"
for source in "$corpus/RIFF.webp" "$corpus/ExifTool.tif" "$corpus/DNG.dng" "$corpus/QuickTime.heic" \
  "$repo/tests/corpus/files/exif-py/avif/mountains.avif" "$work/tone.wav" "$work/clip.mp4" "$work/clip.mov"; do
  photo="$source" sign valid "formats/valid.${source##*.}"
done
echo "wrote $(find "$out" -type f | wc -l) files to $out"
