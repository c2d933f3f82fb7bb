"""qrnn_study: the study machinery over :mod:`qrnn_core`.

The runner (:mod:`.runner`) executes the study's notebooks on a Dask cluster; :mod:`.results` reads
what they trained; :mod:`.analysis`, :mod:`.scorecard` and :mod:`.conclusions` turn it into verdicts;
:mod:`.figures`, :mod:`.words` and :mod:`.report` into the book's pages; :mod:`.reference` holds the
deck's published numbers. Command line: ``python -m qrnn_study run|train|bench``.
"""
