"""Uploads one file to an Assay market with tuspy, the Python tus client,
using its own defaults but for the chunk size: it stops after the first
chunk, as if interrupted, then a new uploader with the same URL storage
resumes from the server's offset. Prints what a test checks.

Usage: tuspy_upload.py UPLOADS_URL TOKEN FILE MANIFEST_ID ASSET_ID STORE CHUNK
"""

import sys

from tusclient import client
from tusclient.storage.filestorage import FileStorage

url, token, path, manifest_id, asset_id, store, chunk = sys.argv[1:8]
tus = client.TusClient(url, headers={"Authorization": "Bearer " + token})


def uploader():
    return tus.uploader(
        path,
        chunk_size=int(chunk),
        metadata={"manifest_id": manifest_id, "asset_id": asset_id},
        store_url=True,
        url_storage=FileStorage(store),
        upload_checksum=True,
    )


first = uploader()
first.upload_chunk()
print("interrupted_at", first.offset)
second = uploader()
print("resumed_from", second.offset)
second.upload()
print("finished_at", second.offset, "of", second.get_file_size())
print("url", second.url)
