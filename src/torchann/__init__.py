"""torchann: chapter 3 of "펭귄브로의 3분 딥러닝 파이토치맛" (ANN with PyTorch) as software.

Sections
--------
- :mod:`torchann.tensors`    3.1 tensors and autograd, a live tour
- :mod:`torchann.restore`    3.2 restoring an image corrupted by a known function
- :mod:`torchann.deblur`     3.2, beyond the seed: deblurring real photographs
- :mod:`torchann.classify`   3.3 a first neural network

Importing the package is cheap: torch is imported by the section modules only.
"""

from torchann.errors import TorchannError

__version__ = "0.1.0"
__all__ = ["TorchannError", "__version__"]
