"""A model trainer's first look at an Assay dataset version, with the tools
trainers use (webdataset, pyarrow), none of them Assay's: read every sample
from the shards and hold it to the dataset manifest.

    python read_shards.py MANIFEST

Checks that each shard's SHA-256 is the manifest's, that every sample's file
hashes to the checksum its manifest entry names, that a WebDataset sample's
record is its entry and its license is the tag's, that samples carry the
Content Credentials the manifest promises, and that the shards hold
exactly the assets the manifest places in them. The manifest's signature is
checked by `assay dataset verify` (or `assay pull --verify-only`); this
script trusts the file it is given. Prints one JSON line: what it read.
Exits non-zero, naming the sample, on the first mismatch.
"""

import hashlib
import json
import pathlib
import sys

import pyarrow.parquet as pq
import webdataset as wds


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def fail(message: str) -> None:
    sys.exit(f"read_shards: {message}")


def file_sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def read_webdataset(paths, entries, licenses, credentials):
    seen = []
    for sample in wds.WebDataset([str(p) for p in paths], shardshuffle=False, empty_check=False):
        key = sample["__key__"]
        entry = entries.get(key)
        if entry is None:
            fail(f"sample {key} is not in the manifest")
        members = [k for k in sample if not k.startswith("__")]
        files = [k for k in members if k not in ("record.json", "license.json", "c2pa")]
        if len(files) != 1:
            fail(f"sample {key}: expected one file beside its record and license, found {members}")
        if sha256(sample[files[0]]) != entry["checksum"]:
            fail(f"sample {key}: {files[0]} does not hash to {entry['checksum']}")
        if json.loads(sample["record.json"]) != entry:
            fail(f"sample {key}: its record is not its manifest entry")
        if json.loads(sample["license.json"]) != licenses[entry["license_tag"]]:
            fail(f"sample {key}: its license is not {entry['license_tag']}'s rights")
        if credentials and not sample.get("c2pa"):
            fail(f"sample {key}: the manifest says samples carry Content Credentials; it has none")
        seen.append(key)
    return seen


def read_parquet(paths, entries, credentials):
    seen = []
    for path in paths:
        # A batch at a time: a shard is hundreds of megabytes.
        for batch in pq.ParquetFile(path).iter_batches(batch_size=64):
            for row in batch.to_pylist():
                key = row["asset_id"]
                entry = entries.get(key)
                if entry is None:
                    fail(f"row {key} is not in the manifest")
                if sha256(row["bytes"]) != entry["checksum"] or row["checksum"] != entry["checksum"]:
                    fail(f"row {key}: its bytes do not hash to {entry['checksum']}")
                if credentials and not row["c2pa"]:
                    fail(f"row {key}: the manifest says samples carry Content Credentials; it has none")
                for column in ("license_tag", "media_type", "capture_date", "creator_attribution_text"):
                    if row[column] != entry[column]:
                        fail(f"row {key}: {column} {row[column]!r} is not the manifest's {entry[column]!r}")
                seen.append(key)
    return seen


def main() -> None:
    manifest_path = pathlib.Path(sys.argv[1])
    manifest = json.loads(manifest_path.read_text())
    folder = manifest_path.parent
    entries = {entry["asset_id"]: entry for entry in manifest["assets"]}
    paths = []
    for shard in manifest["shards"]:
        path = folder / shard["name"]
        if file_sha256(path) != shard["sha256"]:
            fail(f"shard {shard['name']} does not hash to {shard['sha256']}")
        paths.append(path)
    if manifest["format"] == "webdataset":
        seen = read_webdataset(paths, entries, manifest["licenses"], manifest["credentials"])
    else:
        seen = read_parquet(paths, entries, manifest["credentials"])
    placed = [asset for shard in manifest["shards"] for asset in shard["assets"]]
    if seen != placed:
        fail(f"the shards hold {seen}, the manifest places {placed}")
    print(json.dumps({"format": manifest["format"], "shards": len(paths), "samples": len(seen)}))


if __name__ == "__main__":
    main()
