"""``torchann playground``: chapter 3 in a browser, with PyTorch doing the work live.

- :mod:`.datasets`: the chapter's XOR blobs, circle, Gaussians, spiral and an uploaded CSV;
- :mod:`.code`: the settings, the network they describe and the PyTorch code shown in the page;
- :mod:`.session`: the training loop of one page, in a worker thread, publishing frames;
- :mod:`.race`: section 3.2's restoration race, ``gd`` against ``cg``, step by step;
- :mod:`.server`: the Starlette app (page, assets, WebSocket) with its Host/Origin checks;
- ``static/``: the page itself, plain HTML, CSS and JavaScript modules (no build step).
"""
