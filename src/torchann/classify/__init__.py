"""3.3 A first neural network: the chapter's classifier, training, tables and model files.

:mod:`~torchann.classify.chapter` holds the chapter's own code (``NeuralNet``, ``label_map``,
``make_blob_data``, ``vis_data``); everything else builds on it.
"""
