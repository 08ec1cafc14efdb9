"""Similar-sound search: the sounds of a library nearest to a query file in the latent space,
from a persistent index or from a folder embedded on the spot. `audiogen similar` and the Python
API's `.similar()` both call `find_similar`."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np


def model_for_index(index, model: str | os.PathLike | None, device):
    """The model to embed with: `model`, else the one the index was made with, else the bundled one;
    checked against the index (an index made with another model is refused)."""
    from audiogen.errors import AudiogenError
    from audiogen.samplevae.load import load_samplevae_model

    if model is not None or index is None or not index.model_path:
        bundle = load_samplevae_model(model, device)
        if index is not None:
            index.check_model(bundle.sha256, str(bundle.path), bundle.extra.get("same_weights_as"))
        return bundle
    if not Path(index.model_path).is_file():
        raise AudiogenError(f"{index.path}: the model it was made with, {index.model_path}, is gone; give it "
                            "with --model, or rebuild the index with `audiogen index DIR --rebuild`")
    bundle = load_samplevae_model(index.model_path, device)
    index.check_model(bundle.sha256, str(bundle.path), bundle.extra.get("same_weights_as"))
    return bundle


def present_neighbours(index, vector, k: int, exclude, class_name):
    """The k nearest sounds whose files still exist -> (results, how many nearer ones were gone)."""
    from audiogen.samplevae.indexing import search_index

    asked = k + 16
    while True:
        results = search_index(index, vector, asked, exclude_rows=exclude, class_name=class_name)
        present, gone = [], 0
        for r in results:
            if len(present) == k:
                break
            if os.path.isfile(r["path"]):
                present.append(r)
            else:
                gone += 1
        if len(present) == k or len(results) < asked:
            return present, gone
        asked *= 4


def find_similar(query: str | os.PathLike, *, index_path: str | os.PathLike | None = None,
                 library: str | os.PathLike | None = None, k: int = 10, class_name: str | None = None,
                 model: str | os.PathLike | None = None, device="cpu", max_seconds: float = 30.0,
                 on_start=None, on_file=None) -> dict:
    """The `k` sounds nearest to `query` (a file) in an index (`index_path`, default: the user's
    library index) or in the audio files of the folder `library` (embedded now, not kept). The
    query itself is left out when it is in the library.

    Returns {"results": [{"path", "offset", "distance", "class", ...}], "source": "index" when the
    query's vector came from the index else "embedded", "excluded": whether the query was left
    out, "gone": nearer files that no longer exist, "size": sounds searched, "library_skipped":
    unusable files of `library`, "seconds"}. AudiogenError/BadInputError for bad input.
    """
    import tempfile

    from audiogen.data.skips import SkipLog
    from audiogen.errors import AudiogenError, BadInputError, require_file
    from audiogen.samplevae.data import load_clip
    from audiogen.samplevae.generate import embed_clips
    from audiogen.samplevae.indexing import update_index
    from audiogen.samplevae.library_index import default_index_path, open_index

    if library is not None and index_path is not None:
        raise AudiogenError("give --index or --library, not both")
    query = require_file(query, "an audio file")
    temp, skipped = None, 0
    if library is not None:
        library = Path(library)
        if not library.is_dir():
            raise BadInputError(library, "no such folder" if not library.exists() else "not a folder")
        temp = tempfile.TemporaryDirectory(prefix="audiogen-library-")
        index = open_index(temp.name, create=True)
        bundle = model_for_index(None, model, device)
        report = update_index(index, bundle, library, skips=SkipLog(), max_seconds=max_seconds,
                              on_start=on_start, on_file=on_file)
        skipped = len(report.skipped)
    else:
        index = open_index(index_path if index_path is not None else default_index_path())
        bundle = None
        if len(index) == 0:
            index.close()
            raise AudiogenError(f"{index.path}: the index is empty; add sounds with `audiogen index DIR`")
        if model is not None:  # checked even when the index spares the embedding: a wrong --model is an error
            try:
                bundle = model_for_index(index, model, device)
            except BaseException:
                index.close()
                raise
    try:
        if class_name is not None and class_name not in index.classes:
            raise AudiogenError(f"--class {class_name}: the index's classes are "
                                f"{', '.join(index.classes) or 'none (its model has no class head)'}")
        began = time.perf_counter()
        # Indexed paths lie under each folder's resolved path; the query may be a symlink itself.
        entry = index.entry_of(str(query.resolve())) or index.entry_of(os.path.abspath(query))
        stat = query.stat()
        if entry is not None and (entry[1], entry[2]) == (stat.st_size, stat.st_mtime_ns):
            vectors, _, _ = index.arrays()
            vector = np.asarray(vectors[entry[0][0]], np.float32)  # the file's first sound, as indexed
            source = "index"
        else:
            bundle = bundle or model_for_index(index, model, device)
            means, _ = embed_clips(bundle.model, load_clip(query, bundle.features, max_seconds=max_seconds)[None],
                                   bundle.features)
            vector = means[0].numpy()
            source = "embedded"
        exclude = entry[0] if entry is not None else []
        results, gone = present_neighbours(index, vector, k, exclude, class_name)
        return {"results": results, "source": source, "excluded": bool(exclude), "gone": gone, "size": len(index),
                "library_skipped": skipped, "seconds": time.perf_counter() - began}
    finally:
        index.close()
        if temp is not None:
            temp.cleanup()
