"""Files in and out: safe loaders for arrays and images, atomic writers for every output.

- :mod:`torchann.io.loaders`: :func:`load_array` and friends. A pickle goes only through a
  restricted unpickler, a ``.npy`` never with ``allow_pickle``, an image only through
  Pillow's PNG and JPEG decoders.
- :mod:`torchann.io.tables`: CSV and Parquet through pyarrow (:func:`read_table`,
  :func:`iter_batches`, :func:`write_table`), imported on use so that ``--help`` stays light.
- :mod:`torchann.io.writers`: :func:`atomic_write` and the ``save_*`` helpers. Every output is
  written to a temporary file and renamed into place; outputs never overwrite inputs.
"""

from torchann.io.loaders import (
    MAX_ELEMENTS,
    MIN_IMAGE_SIDE,
    SafeArrayUnpickler,
    as_image,
    load_array,
    load_image_array,
    load_npy_array,
    load_pickle_array,
    open_image,
    read_input_bytes,
)
from torchann.io.pictures import Picture, load_picture, picture_png
from torchann.io.writers import (
    atomic_write,
    check_not_input,
    figure_png,
    prepare_out_dir,
    save_bytes,
    save_figure,
    save_json,
    save_npy,
    save_text,
    state_dict_bytes,
    written_files,
)

__all__ = [
    "MAX_ELEMENTS", "MIN_IMAGE_SIDE", "SafeArrayUnpickler", "as_image", "atomic_write",
    "check_not_input", "figure_png", "load_array", "load_image_array", "load_npy_array",
    "load_pickle_array", "open_image", "prepare_out_dir", "Picture", "load_picture", "picture_png",
    "read_input_bytes", "save_bytes", "save_figure", "save_json", "save_npy",
    "save_text", "state_dict_bytes", "written_files",
]
