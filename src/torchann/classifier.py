"""3.3 A first neural network: a binary classifier on four Gaussian blobs in an XOR layout.

The chapter's program, as library functions:

- :func:`make_blob_data` draws the points (``make_blobs`` around :data:`CENTERS`) and
  :func:`label_map` turns the four clusters into two labels (an XOR layout);
- :class:`NeuralNet` is ``linear_1`` -> ReLU -> ``linear_2`` -> Sigmoid, with the chapter's
  layer names, so its ``state_dict`` keys are the chapter's;
- :func:`fit` trains it with BCELoss (full batch like the chapter, or in minibatches) and
  :func:`evaluate` reports the loss, the accuracy and the confusion counts;
- :func:`vis_data`, :func:`data_figure`, :func:`boundary_figure` and :func:`loss_figure`
  draw the pictures.

A loss is not an error rate: an untrained sigmoid classifier sits near ln 2 ~ 0.693 whatever
its accuracy, so accuracy is reported on its own.

Nothing here prints or writes files; reading CSV files and model files is in
:mod:`torchann.tabular`.

The code lives in :mod:`torchann.classify`; this module keeps its public names importable.
"""

from torchann.classify.chapter import (  # noqa: F401
    CENTERS,
    NeuralNet,
    chapter_data,
    label_map,
    make_blob_data,
    vis_data,
)
from torchann.classify.figures import (  # noqa: F401
    boundary_figure,
    data_figure,
    loss_figure,
)
from torchann.classify.train import (  # noqa: F401
    OPTIMIZERS,
    SATURATION,
    SMALL_WORK,
    Evaluation,
    FitResult,
    evaluate,
    fit,
    make_optimizer,
    predict_proba,
    suggested_threads,
)
