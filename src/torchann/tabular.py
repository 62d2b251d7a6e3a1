"""A user's own data and model files for the 3.3 classifier.

CSV files
---------
:func:`read_csv` reads a CSV or Parquet file (pyarrow); :func:`load_labelled_csv` picks the
feature columns and the label, encodes the features (:class:`FeatureEncoder`: numbers, gaps
with an indicator, text categories one-hot) and maps the label's two values to 0/1.
:func:`stratified_split` and :class:`Standardizer` prepare the data for training;
:func:`feature_matrix` takes the feature columns of a table for prediction.

Model files
-----------
A model is two files side by side:

- ``model.pt``: a plain ``state_dict`` (keys ``linear_1.weight``, ``linear_1.bias``,
  ``linear_2.weight``, ``linear_2.bias``), which the chapter's own code loads with
  ``NeuralNet(2, 5).load_state_dict(torch.load("model.pt"))``;
- ``model.json``: everything else (sizes, feature names, the label mapping
  ``{original value: 0/1}``, the standardization mean and scale, the data source).

:func:`load_model` reads ``model.pt`` with ``torch.load(weights_only=True)``, infers the sizes
from the weight shapes and checks keys and shapes. Without ``model.json`` it is taken for the
chapter's model (raw features, labels 0/1), unless the ``.pt`` itself says that a sidecar with
standardization belongs to it. :func:`save_model` writes both files atomically.

The code lives in :mod:`torchann.classify`; this module keeps its public names importable.
"""

from torchann.classify.files import (  # noqa: F401
    MODEL_FORMAT,
    LoadedModel,
    load_model,
    save_model,
    sidecar_path,
    state_dict_sizes,
)
from torchann.classify.tables import (  # noqa: F401
    CsvTable,
    FeatureEncoder,
    LabelledData,
    Standardizer,
    feature_matrix,
    load_labelled_csv,
    read_csv,
    stratified_split,
)
