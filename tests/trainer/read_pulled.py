"""A model trainer reading what `assay pull` fetched of a dataset, with the
tools trainers use (webdataset, pyarrow), none of them Assay's.

    python read_pulled.py FOLDER

The folder holds the signed manifests of the versions pulled
(NAME-vN.manifest.json) and either their shards (the first version's, and
each delta's; a delta's tombstones taken out of the earlier ones) or, for
`--format files`, one file per sample (ASSET_ID.EXT). Every sample read is
held to the newest version's manifest: its file hashes to the checksum its
entry names, and the folder holds every asset of that version exactly
once, and nothing else; a sample's record is its entry in the version whose
shard holds it (later versions move its provenance on, not its bytes). The
signatures are checked by
`assay pull --verify-only`; this script trusts the manifests it is given.
Prints one JSON line: what it read. Exits non-zero, naming the sample, on
the first mismatch.
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
    sys.exit(f"read_pulled: {message}")


def main() -> None:
    folder = pathlib.Path(sys.argv[1])
    manifests = [json.loads(p.read_text()) for p in folder.glob("*.manifest.json")]
    if not manifests:
        fail(f"{folder} holds no dataset manifest")
    newest = max(manifests, key=lambda m: m["version"])
    entries = {entry["asset_id"]: entry for entry in newest["assets"]}
    # The entries each shard was built with, by shard name.
    shipped = {
        shard["name"]: {entry["asset_id"]: entry for entry in m["assets"]}
        for m in manifests
        for shard in m["shards"]
    }
    seen = []

    def hold(key: str, data: bytes, where: str) -> None:
        entry = entries.get(key)
        if entry is None:
            fail(f"{where}: sample {key} is not in version {newest['version']}")
        if sha256(data) != entry["checksum"]:
            fail(f"{where}: sample {key} does not hash to {entry['checksum']}")
        seen.append(key)

    tars = sorted(folder.glob("*.tar"))
    parquets = sorted(folder.glob("*.parquet"))
    if tars:
        layout = "webdataset"
        dataset = wds.WebDataset([str(p) for p in tars], shardshuffle=False, empty_check=False)
        for sample in dataset:
            key = sample["__key__"]
            files = [k for k in sample if not k.startswith("__") and k not in ("record.json", "license.json", "c2pa")]
            if len(files) != 1:
                fail(f"sample {key}: expected one file beside its record and license, found {files}")
            shard = pathlib.Path(sample["__url__"]).name
            if json.loads(sample["record.json"]) != shipped.get(shard, {}).get(key):
                fail(f"sample {key}: its record is not its entry in the version of {shard}")
            hold(key, sample[files[0]], sample["__url__"])
    elif parquets:
        layout = "parquet"
        for path in parquets:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=64):
                for row in batch.to_pylist():
                    hold(row["asset_id"], row["bytes"], path.name)
    else:
        layout = "files"
        for path in sorted(folder.iterdir()):
            if path.name.endswith(".json") or path.name.startswith("."):
                continue
            hold(path.name.split(".", 1)[0], path.read_bytes(), path.name)
    if sorted(seen) != sorted(entries) or len(set(seen)) != len(seen):
        fail(f"the folder holds {sorted(seen)}, version {newest['version']} is {sorted(entries)}")
    shards = len(tars) + len(parquets)
    print(json.dumps({"version": newest["version"], "layout": layout, "shards": shards, "samples": len(seen)}))


if __name__ == "__main__":
    main()
