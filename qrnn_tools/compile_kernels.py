"""Compile the study's numba kernels into their cache once, at install (``make install`` runs it).

``python -m qrnn_tools.compile_kernels``: each engine path the study trains with (the noiseless kernel
and the noisy one, each with SPSA, FDSA and the adjoint gradient) runs one short
training on 4 qubits, so that numba writes every compiled function to its cache (``cache=True``, next
to the sources: :func:`qrnn_core.kernel._ensure_cache_dir`). Later processes load the machine code
instead of compiling it: on a fresh clone the tests and the study's first notebooks otherwise compile
the same functions in several processes at once (about a minute of CPU on 2 cores). Nothing is kept
but the cache; a second run only loads it.
"""

from __future__ import annotations

import tempfile
import time

#: One short training per engine path; the noisy ones on the default device's calibration.
PATHS = ({"method": "spsa", "shots": 64}, {"method": "fdsa"}, {"method": "exact"},
         {"method": "spsa", "shots": 64, "noise_device": "FakeMarrakesh"}, {"method": "fdsa", "noise_device": "FakeMarrakesh"},
         {"method": "exact", "noise_device": "FakeMarrakesh"})


def compile_kernels(log=print) -> float:
    """Run each of :data:`PATHS` once (1 epoch, 2 windows, 4 qubits, a 40-step validation); the seconds taken."""
    from qrnn_core.train import TrainConfig, train

    t0 = time.perf_counter()
    for path in PATHS:
        with tempfile.TemporaryDirectory() as out:
            train(TrainConfig(epochs=1, train_sequences=2, val_steps=40, n_qubits=4, val_shots=64, **path), out,
                  progress=False, log=lambda *_: None)
    seconds = time.perf_counter() - t0
    log(f"numba kernels compiled and cached ({len(PATHS)} engine paths, {seconds:.0f} s)")
    return seconds


if __name__ == "__main__":
    compile_kernels()
