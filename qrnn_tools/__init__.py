"""qrnn_tools: tools beside the study, using :mod:`qrnn_core`.

* :mod:`.bench`: simulators, updates and epochs timed in one run (``python -m qrnn_study bench``; the
  study's timing page calls it too);
* :mod:`.book_check`: every page of the built book opened in headless Chromium
  (``python -m qrnn_tools.book_check _build/html``).
"""
