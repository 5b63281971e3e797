"""Training loops, one module per model, run by ``python -m turing_helpers.train``.

A trainer only loops, logs and checkpoints: data comes from :mod:`turing_helpers.data`,
models from :mod:`turing_helpers.models`, files go through
:mod:`turing_helpers.checkpoints`. Each module provides ``add_arguments(parser)`` and
``run(args)``.
"""
