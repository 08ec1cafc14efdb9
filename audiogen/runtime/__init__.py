"""What every model family shares.

Submodules, each with one job (import the one you need; this package imports nothing heavy):

- ``atomic``     write files via temp file + fsync + rename
- ``device``     ``--device`` parsing and a description of the machine
- ``seeding``    ``--rng-seed``: seed every RNG, make generators
- ``modelfile``  ``.safetensors`` model files with audiogen metadata (never unpickles)
- ``checkpoint`` resumable training state (``torch.load(weights_only=True)`` only)
- ``training``   run directory, resume / fine-tune, progress, metrics log, Ctrl-C
- ``progress``   rich progress bars and the shared stderr console
- ``assets``     the bundled default models
"""
