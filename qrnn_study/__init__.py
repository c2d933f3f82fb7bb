"""qrnn_study: the study machinery over :mod:`qrnn_core`.

:mod:`.study_file` reads the study file into runs, :mod:`.plan` decides which are out of date,
:mod:`.drive` executes them on a Dask cluster (:mod:`.cluster`, :mod:`.execute`); :mod:`.cli` turns command-line options
and notebook parameters into a run's config; :mod:`.results` reads what the runs trained;
:mod:`.analysis`, :mod:`.scorecard` and :mod:`.conclusions` turn it into verdicts; :mod:`.figures` and
:mod:`.words` into the pages' figures and sentences; :mod:`.report` holds small helpers the notebooks
share. The front door is ``python -m qrnn_study run|train|bench`` (:mod:`.__main__`): ``train`` is
:func:`qrnn_core.train.train`, ``bench`` is :mod:`qrnn_tools.bench`.
"""
